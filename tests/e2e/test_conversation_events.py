"""joinConversation, sendMessage and endConversation: who receives what, and what is refused."""

import asyncio

import pytest
from asgiref.sync import sync_to_async

from conversations.models import Message
from tests.e2e.people import init_conversation

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def error_code(ack: dict) -> str:
    assert ack["ok"] is False, ack
    return ack["error"]["code"]


async def stored_texts(conversation_id: str) -> list[str]:
    return await sync_to_async(
        lambda: list(
            Message.objects.filter(conversation_id=conversation_id, type="ChatMessage")
            .order_by("sequence")
            .values_list("text", flat=True)
        )
    )()


async def test_the_joiner_gets_history_participants_and_role_and_the_others_see_it_join(customer, agent):
    info = await agent.wait_for("conversationInfo")
    assert info["role"] == "agent"
    assert {p["name"] for p in info["participants"]} == {"Kashif", "Alice"}
    assert info["participant"] == info["participants"]
    notice = await customer.wait_for("messageArrived", lambda m: m.get("activityType") == "participantJoined")
    assert notice["info"]["participant"]["id"] == agent.participant_id
    assert agent.activities().count("participantJoined") == 0  # not told about its own join


async def test_whispers_reach_agents_only_and_never_the_customer_history(customer, agent, second_agent, connect):
    assert (await agent.say("psst, VIP", tag="whisper"))["ok"]
    assert (await agent.say("Hello there"))["ok"]
    await second_agent.wait_for_text("psst, VIP")
    await customer.wait_for_text("Hello there")
    assert "psst, VIP" not in customer.texts()

    later_tab = await connect(customer.conversation_id, customer.participant_id, "Kashif")
    assert (await later_tab.join())["ok"]
    history = (await later_tab.wait_for("conversationInfo"))["messages"]
    assert "Hello there" in [m["text"] for m in history]
    assert "psst, VIP" not in [m["text"] for m in history]


async def test_a_customer_cannot_whisper(customer, agent):
    assert error_code(await customer.say("sneaky", tag="whisper")) == "NOT_ALLOWED"
    assert await stored_texts(customer.conversation_id) == []


async def test_a_to_list_limits_delivery_to_those_participants(customer, agent, second_agent):
    ack = await agent.say("Bob only", to=[{"id": second_agent.participant_id, "name": "Bob"}])
    assert ack["ok"]
    assert (await agent.say("everyone"))["ok"]
    await second_agent.wait_for_text("Bob only")
    await customer.wait_for_text("everyone")
    await second_agent.wait_for_text("everyone")
    assert "Bob only" not in customer.texts()


async def test_a_to_list_naming_a_stranger_is_refused_and_stores_nothing(customer, agent, start_chat):
    other = await start_chat(firstName="Eve")
    ack = await agent.say("hi", to=[{"id": other.public_id}])
    assert error_code(ack) == "INVALID_PAYLOAD"
    assert await stored_texts(customer.conversation_id) == []


async def test_every_tab_of_a_participant_gets_every_message_meant_for_it(customer, agent, connect):
    second_tab = await connect(customer.conversation_id, customer.participant_id, "Kashif")
    assert (await second_tab.join())["ok"]
    assert (await agent.say("to both tabs"))["ok"]
    await customer.wait_for_text("to both tabs")
    await second_tab.wait_for_text("to both tabs")
    assert (await customer.say("typed in tab one"))["ok"]
    await second_tab.wait_for_text("typed in tab one")
    await agent.wait_for_text("typed in tab one")
    assert "typed in tab one" not in customer.texts()  # the sending socket has its ack instead


async def test_a_retried_request_id_is_stored_and_delivered_once(customer, agent):
    first = await customer.say("once", requestId="m-1")
    again = await customer.say("once", requestId="m-1")
    assert first["ok"] and again["ok"]
    assert (again["id"], again["sequence"], again["duplicate"]) == (first["id"], first["sequence"], True)
    assert (await customer.say("after"))["ok"]
    await agent.wait_for_text("after")
    assert agent.texts().count("once") == 1
    assert await stored_texts(customer.conversation_id) == ["once", "after"]


async def test_rejoining_with_last_sequence_replays_only_what_was_missed(customer, agent, connect):
    seen = (await customer.say("before the drop"))["sequence"]
    await customer.disconnect()
    assert (await agent.say("missed one"))["ok"]
    assert (await agent.say("missed two"))["ok"]

    back = await connect(customer.conversation_id, customer.participant_id, "Kashif")
    assert (await back.join(lastSequence=seen))["ok"]
    replay = (await back.wait_for("conversationInfo"))["messages"]
    assert [m["text"] for m in replay if m["type"] == "ChatMessage"] == ["missed one", "missed two"]
    assert all(m["sequence"] > seen for m in replay)


async def test_sequences_increase_with_every_stored_message(customer, agent):
    sequences = [(await customer.say(f"m{i}"))["sequence"] for i in range(5)]
    assert sequences == sorted(sequences) and len(set(sequences)) == 5
    arrived = await agent.wait_for_text("m4")
    assert arrived["sequence"] == sequences[-1]


async def test_joining_with_a_participant_of_another_conversation_is_refused(customer, start_chat, connect):
    stranger = await start_chat(firstName="Mallory")
    intruder = await connect(customer.conversation_id, stranger.participant_id, "Mallory")
    assert error_code(await intruder.join()) == "NOT_A_PARTICIPANT"
    assert error_code(await intruder.say("let me in")) == "NOT_JOINED"
    assert "let me in" not in await stored_texts(customer.conversation_id)
    assert intruder.received["conversationInfo"] == []


async def test_joining_an_unknown_conversation_is_refused(connect):
    person = await connect("0" * 32, "1" * 32, "Nobody")
    assert error_code(await person.join()) == "CONVERSATION_NOT_FOUND"


async def test_a_from_that_is_not_the_sender_is_refused(customer, agent):
    ack = await customer.emit(
        "sendMessage",
        {
            "conversationId": customer.conversation_id,
            "type": "ChatMessage",
            "from": {"id": agent.participant_id, "name": "Alice"},
            "text": "I am Alice, honest",
        },
    )
    assert error_code(ack) == "SENDER_MISMATCH"
    assert await stored_texts(customer.conversation_id) == []


@pytest.mark.parametrize(
    "payload",
    [
        None,
        "not json",
        [1, 2],
        {"type": "ChatMessage", "text": "no conversation"},
        {"conversationId": "x", "type": "Nonsense", "text": "hi"},
        {"conversationId": "x", "type": "ChatMessage", "text": ["a", "list"]},
        {"conversationId": "x", "type": "ChatMessage", "text": ""},
        {"conversationId": "x", "type": "ActivityMessage", "activityType": "endOfConversation"},
        {"conversationId": "x", "type": "ChatMessage", "text": "x", "attachments": [{"contentUrl": "javascript:1"}]},
    ],
)
async def test_malformed_messages_get_a_clear_error_and_the_connection_stays_up(customer, agent, payload):
    if isinstance(payload, dict) and payload.get("conversationId") == "x":
        payload = {**payload, "conversationId": customer.conversation_id}
    assert error_code(await customer.emit("sendMessage", payload)) == "INVALID_PAYLOAD"
    assert customer.sio.connected
    assert (await customer.say("still here"))["ok"]
    await agent.wait_for_text("still here")
    assert await stored_texts(customer.conversation_id) == ["still here"]


async def test_an_oversized_message_is_refused_as_too_large(customer, agent):
    assert error_code(await customer.say("x" * 10_001)) == "PAYLOAD_TOO_LARGE"
    assert customer.sio.connected
    assert await stored_texts(customer.conversation_id) == []


async def test_ending_tells_everyone_and_closes_the_conversation(customer, agent, connect):
    ack = await agent.end()
    assert ack["ok"] and ack["endedAt"]
    for person in (customer, agent):
        ended = await person.wait_for("messageArrived", lambda m: m.get("activityType") == "endOfConversation")
        assert ended["info"]["endedBy"]["id"] == agent.participant_id
    assert error_code(await agent.end()) == "CONVERSATION_ENDED"
    assert error_code(await customer.say("hello?")) == "CONVERSATION_ENDED"
    late = await connect(customer.conversation_id, customer.participant_id, "Kashif")
    assert error_code(await late.join()) == "CONVERSATION_ENDED"
    assert "hello?" not in await stored_texts(customer.conversation_id)


async def test_a_long_polling_client_chats_too(server, connect, agent, customer):
    polling = await connect(customer.conversation_id, customer.participant_id, "Kashif", transports=("polling",))
    assert (await polling.join())["ok"]
    assert (await polling.say("over polling"))["ok"]
    await agent.wait_for_text("over polling")
    assert (await agent.say("back to polling"))["ok"]
    await polling.wait_for_text("back to polling")


async def test_conversations_do_not_leak_into_each_other(start_chat, add_agent):
    first, second = await start_chat(firstName="Ann"), await start_chat(firstName="Ben")
    first_agent = await add_agent(first, "Alice")
    assert (await first_agent.say("for Ann only"))["ok"]
    assert (await second.say("Ben here"))["ok"]
    await first.wait_for_text("for Ann only")
    # A marker sent to Ben after both: his socket gets events in order, so had "for Ann only"
    # leaked to him it would have come before the marker.
    bens_other_tab = await second.another_connection()
    assert (await bens_other_tab.join())["ok"]
    assert (await bens_other_tab.say("marker"))["ok"]
    await second.wait_for_text("marker")
    await bens_other_tab.disconnect()
    assert "for Ann only" not in second.texts()
    assert "Ben here" not in first.texts() + first_agent.texts()


async def test_init_then_join_works_as_the_spec_sample_payload(server, connect):
    started = await init_conversation(server.url)
    person = await connect(started["conversationId"], started["participant"]["id"], "Alice")
    ack = await person.emit(
        "joinConversation",
        {
            "conversationId": started["conversationId"],
            "participant": {"id": started["participant"]["id"], "name": "Alice"},
            "requestId": "99397bf7-a4fb-41c3-8292-a021b44262a6",
            "timestamp": "2018-05-07T06:52:21.661Z",
        },
    )
    assert ack["ok"]
    assert ack["participant"]["name"] == "Alice"  # the name given at join is the display name


@pytest.mark.parametrize(
    "bad",
    [
        {"text": "nul \x00 inside"},
        {"type": "ActivityMessage", "activityType": "typing", "info": {"x": float("nan")}},
        {"type": "ActivityMessage", "activityType": "typing", "info": {"k\x00": 1}},
        {"type": "ActivityMessage", "activityType": "typing", "info": {"a": [[[[[[[[[[[[1]]]]]]]]]]]]}},
        {"timestamp": "9999-12-31T23:59:59-12:00"},
        {"requestId": "r\x00"},
        {"to": [{"id": "\x00"}]},
    ],
)
async def test_values_a_database_cannot_hold_are_refused_before_anything_is_stored(customer, agent, bad):
    ack = await customer.emit(
        "sendMessage", {"conversationId": customer.conversation_id, "type": "ChatMessage", "text": "hi", **bad}
    )
    assert error_code(ack) == "INVALID_PAYLOAD"
    assert await stored_texts(customer.conversation_id) == []
    assert (await customer.say("still here"))["ok"]


async def test_a_message_sent_right_after_joining_without_waiting_is_taken(server, connect, agent, customer):
    tab = await connect(customer.conversation_id, customer.participant_id, "Kashif")
    joined = asyncio.get_running_loop().create_future()
    await tab.sio.emit(  # returns once the packet is sent, before the server answers
        "joinConversation",
        {"conversationId": customer.conversation_id, "participant": {"id": customer.participant_id}},
        callback=joined.set_result,
    )
    ack = await tab.say("sent before the join was answered")
    assert (await joined)["ok"]
    assert ack["ok"], ack
    await agent.wait_for_text("sent before the join was answered")
