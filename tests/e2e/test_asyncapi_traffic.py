"""What really crosses the wire matches the AsyncAPI document: every ack and every server event
of a routed conversation (customer, two agents, a conference, a transfer) validates against
the document's schemas, which allow no field more than documented."""

import httpx
import jsonschema
import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def document(server) -> dict:
    return httpx.get(f"{server.url}/api/asyncapi.json").json()


def check(document: dict, channel: str, message_key: str, payload) -> None:
    """Validate `payload` as the message `message_key` of `channel`."""
    assert message_key in document["channels"][channel]["messages"], f"{channel} has no {message_key}"
    ref = document["channels"][channel]["messages"][message_key]["$ref"]
    message = document["components"]["messages"][ref.rsplit("/", 1)[1]]
    schema = {**message["payload"], "components": document["components"]}
    jsonschema.Draft202012Validator(schema).validate(payload)


def check_ack(document: dict, channel: str, event: str, ack: dict) -> None:
    check(document, channel, f"{event}Ack" if ack.get("ok") else "ackRefused", ack)


def check_received(document: dict, channel: str, person) -> int:
    count = 0
    for event, payloads in person.received.items():
        for payload in payloads:
            check(document, channel, event, payload)
            count += 1
    return count


async def test_every_ack_and_server_event_of_a_routed_chat_is_as_documented(document, sign_in, start_chat):
    alice = await sign_in("alice")
    bob = await sign_in("bob")
    acks = {"agent": [], "customer": []}

    async def agent_emits(agent, event: str, payload: dict) -> dict:
        ack = await agent.emit(event, payload)
        acks["agent"].append((event, ack))
        return ack

    await agent_emits(alice, "agentState", {"state": "ready"})
    customer = await start_chat()
    await alice.wait_for("conversationOffered")
    accepted = await agent_emits(alice, "acceptConversation", {"conversationId": customer.conversation_id})
    alice.takes(accepted)
    await customer.wait_for("messageArrived", lambda m: m.get("activityType") == "participantJoined")

    acks["customer"].append(
        ("sendMessage", await customer.say("Hello", attachments=[{"contentUrl": "https://x.example/a.png"}]))
    )
    await alice.wait_for_text("Hello")
    await agent_emits(
        alice, "sendMessage", {"conversationId": customer.conversation_id, "type": "ChatMessage", "text": "Hi"}
    )
    whisper = {"conversationId": customer.conversation_id, "type": "ChatMessage", "text": "psst", "tag": "whisper"}
    await agent_emits(alice, "sendMessage", whisper)
    await customer.wait_for_text("Hi")
    directory = await agent_emits(alice, "directory", {})
    await agent_emits(alice, "addAgent", {"conversationId": customer.conversation_id, "agentId": bob.agent_id})
    assigned = await bob.wait_for("conversationAssigned")
    bob.conversation_id, bob.participant_id = assigned["conversationId"], assigned["participant"]["id"]
    acks["agent"].append(("joinConversation", await bob.join()))
    await agent_emits(alice, "leaveConversation", {"conversationId": customer.conversation_id})
    await alice.wait_for("conversationRemoved")
    await agent_emits(bob, "agentState", {"state": "notReady"})
    refused = await customer.emit("sendMessage", {"conversationId": "nope", "type": "ChatMessage", "text": "x"})
    acks["customer"].append(("sendMessage", refused))
    acks["customer"].append(("endConversation", await customer.end()))
    await bob.wait_for("messageArrived", lambda m: m.get("activityType") == "endOfConversation")

    assert all(ack["ok"] for _, ack in acks["agent"]), acks["agent"]
    assert refused["error"]["code"] == "NOT_JOINED"
    assert directory["agents"] and directory["queues"]
    for channel, answered in acks.items():
        for event, ack in answered:
            check_ack(document, channel, event, ack)
    seen = check_received(document, "customer", customer)
    seen += check_received(document, "agent", alice) + check_received(document, "agent", bob)
    kinds = {event for person in (customer, alice, bob) for event, payloads in person.received.items() if payloads}
    assert kinds >= {"conversationInfo", "messageArrived", "agentInfo", "conversationOffered", "conversationAssigned"}
    assert kinds >= {"conversationRemoved"}
    assert seen > 15


def test_a_field_the_document_does_not_name_is_refused(document):
    """The check above would notice a field added to the wire but not to the document."""
    message = {"conversationId": "c", "unexpected": 1}
    with pytest.raises(jsonschema.ValidationError):
        check(document, "agent", "conversationRemoved", message)
    check(document, "agent", "conversationRemoved", {"conversationId": "c"})
