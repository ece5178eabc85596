"""A hypothesis-driven fuzzer of Socket.IO payloads on both namespaces: whatever comes in, no
ack says INTERNAL_ERROR, and the server goes on serving."""

import asyncio

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

CUSTOMER_EVENTS = ["joinConversation", "sendMessage", "endConversation", "registerConnector", "noSuchEvent"]
AGENT_EVENTS = [
    "joinConversation",
    "sendMessage",
    "agentState",
    "acceptConversation",
    "rejectConversation",
    "leaveConversation",
    "transferConversation",
    "addAgent",
    "directory",
]
FIELDS = [
    "conversationId",
    "participant",
    "type",
    "text",
    "from",
    "to",
    "tag",
    "attachments",
    "activityType",
    "info",
    "requestId",
    "timestamp",
    "lastSequence",
    "state",
    "queue",
    "agentId",
    "id",
    "key",
    "channel",
    "name",
]
EXAMPLES = 300  # per namespace: a few seconds each

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.sampled_from(["ChatMessage", "ActivityMessage", "typing", "whisper", "ready", "notReady", "\x00", "9" * 400]),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner, max_size=5),
    max_leaves=20,
)


def payloads(conversation_id: str):
    """Objects with the protocol's field names (and the real conversation id, often), or anything."""
    field_value = st.one_of(json_values, st.just(conversation_id), st.just({"id": conversation_id}))
    objects = st.dictionaries(st.sampled_from(FIELDS), field_value, max_size=8)
    return st.one_of(objects, json_values)


async def fuzz(person, events: list[str], conversation_id: str) -> list[dict]:
    acks: list[dict] = []
    loop = asyncio.get_running_loop()

    @given(event=st.sampled_from(events), payload=payloads(conversation_id))
    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def sends(event, payload):
        future = asyncio.run_coroutine_threadsafe(
            person.sio.call(event, payload, namespace=person.namespace, timeout=10), loop
        )
        acks.append(future.result(timeout=15))

    await asyncio.to_thread(sends)
    return acks


async def test_fuzzed_payloads_never_make_an_internal_error_and_the_server_lives_on(customer, agent):
    for person, events in ((customer, CUSTOMER_EVENTS), (agent, AGENT_EVENTS)):
        acks = await fuzz(person, events, customer.conversation_id)
        assert len(acks) >= EXAMPLES // 2
        internal = [
            ack for ack in acks if isinstance(ack, dict) and ack.get("error", {}).get("code") == "INTERNAL_ERROR"
        ]
        assert internal == []
    # Alive, and still serving both of them (unless the fuzzer ended the conversation).
    fresh = await customer.another_connection()
    assert (await fresh.emit("directory", {}))["error"]["code"] == "UNKNOWN_EVENT"
    await fresh.disconnect()
