"""Queues, offers and hand-off: a customer reaches a person."""

import asyncio
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from django.db.models import F

from agents.models import AgentProfile
from conversations.models import Conversation, Participant
from routing.models import Offer, Queue

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def offered(conversation_id: str):
    return lambda offer: offer["conversation"]["id"] == conversation_id


def activity(kind: str):
    return lambda message: message.get("activityType") == kind


async def ready(agent) -> None:
    ack = await agent.emit("agentState", {"state": "ready"})
    assert ack["ok"] and ack["agent"]["state"] == "ready", ack


async def take(agent, customer) -> dict:
    """The agent waits for the customer's offer and accepts it."""
    await agent.wait_for("conversationOffered", offered(customer.conversation_id))
    return await accept(agent, customer)


async def accept(agent, customer) -> dict:
    ack = await agent.emit("acceptConversation", {"conversationId": customer.conversation_id})
    agent.takes(ack)
    return ack


async def idle_longer(agent) -> None:
    """The controlled clock of routing's "longest idle first": make `agent` idle a minute longer."""
    await sync_to_async(
        lambda: AgentProfile.objects.filter(pk=agent.agent_id).update(idle_since=F("idle_since") - timedelta(minutes=1))
    )()


async def make_queue(name: str, **fields) -> Queue:
    return await sync_to_async(Queue.objects.create)(name=name, **fields)


async def queued(conversation_id: str) -> bool:
    conversation = await sync_to_async(Conversation.objects.get)(pk=conversation_id)
    return conversation.queued_at is not None


async def agents_in(conversation_id: str) -> list[str]:
    return await sync_to_async(
        lambda: list(
            Participant.objects.filter(conversation_id=conversation_id, role="agent", left_at__isnull=True)
            .order_by("joined_at")
            .values_list("name", flat=True)
        )
    )()


async def test_a_ready_agent_is_offered_the_chat_accepts_and_they_talk(sign_in, start_chat):
    alice = await sign_in("alice")
    await ready(alice)
    customer = await start_chat(subject="ADSL")
    await customer.wait_for("messageArrived", activity("handOff"))
    assert (await customer.say("Anyone there?"))["ok"]

    offer = await alice.wait_for("conversationOffered", offered(customer.conversation_id))
    assert offer["customer"]["firstName"] == "Kashif"
    assert offer["queue"] == "default"  # no queue is named ADSL
    ack = await accept(alice, customer)
    assert ack["participant"]["name"] == "Alice"

    info = await alice.wait_for("conversationInfo", lambda i: i["conversation"]["id"] == customer.conversation_id)
    assert info["role"] == "agent"
    assert "Anyone there?" in [m["text"] for m in info["messages"]]  # sent while it waited
    joined = await customer.wait_for("messageArrived", activity("participantJoined"))
    assert joined["info"]["participant"]["name"] == "Alice"

    assert (await alice.say("Hi, I am Alice."))["ok"]
    await customer.wait_for_text("Hi, I am Alice.")
    assert (await customer.say("Great"))["ok"]
    await alice.wait_for_text("Great")
    assert not await queued(customer.conversation_id)


async def test_the_subject_picks_the_queue_by_name(sign_in, start_chat):
    await make_queue("Billing")
    generalist, biller = await sign_in("gina"), await sign_in("bill", queues=["billing"])
    await ready(generalist)
    await ready(biller)
    customer = await start_chat(subject="billing")
    offer = await biller.wait_for("conversationOffered", offered(customer.conversation_id))
    assert offer["queue"] == "Billing"
    assert generalist.received["conversationOffered"] == []


async def test_a_rejected_offer_goes_to_the_next_agent(sign_in, start_chat):
    alice, bob = await sign_in("alice"), await sign_in("bob")
    await ready(alice)
    await ready(bob)
    await idle_longer(alice)  # alice has been idle longer: she is offered first
    customer = await start_chat()
    await alice.wait_for("conversationOffered", offered(customer.conversation_id))
    assert bob.received["conversationOffered"] == []

    assert (await alice.emit("rejectConversation", {"conversationId": customer.conversation_id}))["ok"]
    await bob.wait_for("conversationOffered", offered(customer.conversation_id))
    late = await alice.emit("acceptConversation", {"conversationId": customer.conversation_id})
    assert late["ok"] is False and late["error"]["code"] == "NOT_OFFERED"
    await accept(bob, customer)
    assert await agents_in(customer.conversation_id) == ["Bob"]


async def test_an_unanswered_offer_times_out_and_goes_to_the_next_agent(sign_in, start_chat):
    await make_queue("fast", offer_timeout_seconds=1)
    alice = await sign_in("alice", queues=["fast"])
    await ready(alice)
    bob = await sign_in("bob", queues=["fast"])
    await ready(bob)
    customer = await start_chat(subject="fast")
    await alice.wait_for("conversationOffered", offered(customer.conversation_id))
    withdrawn = await alice.wait_for("offerWithdrawn", timeout=5)
    assert withdrawn == {"conversationId": customer.conversation_id}
    await bob.wait_for("conversationOffered", offered(customer.conversation_id), timeout=5)
    states = await sync_to_async(lambda: sorted(Offer.objects.values_list("agent__user__username", "state")))()
    assert states == [("alice", "expired"), ("bob", "pending")]


async def test_with_no_agent_ready_the_customer_is_told_and_waits_in_the_queue(sign_in, start_chat):
    busy = await sign_in("nora")  # logged in, but not ready
    customer = await start_chat()
    notice = await customer.wait_for("messageArrived", activity("noAgentAvailable"))
    assert notice["info"]["queue"] == "default"
    assert await queued(customer.conversation_id)
    assert busy.received["conversationOffered"] == []

    await ready(busy)
    await busy.wait_for("conversationOffered", offered(customer.conversation_id))


async def test_an_agent_is_offered_no_more_chats_than_its_capacity(sign_in, start_chat):
    alice = await sign_in("alice", max_chats=1)
    await ready(alice)
    first = await start_chat(firstName="Ann")
    await alice.wait_for("conversationOffered", offered(first.conversation_id))
    await accept(alice, first)
    second = await start_chat(firstName="Ben")
    await second.wait_for("messageArrived", activity("handOff"))
    # A routing pass has placed Ben once another agent with room gets his offer: alice had none.
    carol = await sign_in("carol")
    await ready(carol)
    await carol.wait_for("conversationOffered", offered(second.conversation_id))
    assert [o["conversation"]["id"] for o in alice.received["conversationOffered"]] == [first.conversation_id]
    await carol.disconnect()  # her offer goes back: only alice is left for Ben

    assert (await alice.end())["ok"]
    await alice.wait_for("conversationOffered", offered(second.conversation_id))


async def test_whispers_between_agents_never_reach_the_customer(sign_in, start_chat):
    alice, bob = await sign_in("alice"), await sign_in("bob")
    await ready(alice)
    customer = await start_chat()
    await take(alice, customer)
    assert (await alice.emit("addAgent", {"conversationId": customer.conversation_id, "agentId": bob.agent_id}))["ok"]
    assigned = await bob.wait_for("conversationAssigned")
    bob.conversation_id, bob.participant_id = assigned["conversationId"], assigned["participant"]["id"]
    assert (await bob.join())["ok"]

    assert (await bob.say("Alice, this customer is a VIP", tag="whisper"))["ok"]
    await alice.wait_for_text("Alice, this customer is a VIP")
    assert (await alice.say("Welcome back!"))["ok"]
    await customer.wait_for_text("Welcome back!")
    assert "Alice, this customer is a VIP" not in customer.texts()
    added = await customer.wait_for("messageArrived", activity("participantAdded"))
    assert added["info"]["participant"]["name"] == "Bob"


async def test_a_transfer_to_a_queue_hands_the_chat_to_an_agent_of_that_queue(sign_in, start_chat):
    await make_queue("billing")
    alice, bill = await sign_in("alice"), await sign_in("bill", queues=["billing"])
    await ready(alice)
    await ready(bill)
    customer = await start_chat()
    await take(alice, customer)

    ack = await alice.emit("transferConversation", {"conversationId": customer.conversation_id, "queue": "billing"})
    assert ack["ok"], ack
    removed = await customer.wait_for("messageArrived", activity("participantRemoved"))
    assert removed["info"]["participant"]["name"] == "Alice"
    await alice.wait_for("conversationRemoved")
    await bill.wait_for("conversationOffered", offered(customer.conversation_id))
    await accept(bill, customer)

    assert (await customer.say("Is this billing?"))["ok"]
    await bill.wait_for_text("Is this billing?")
    refused = await alice.say("still me")
    assert refused["ok"] is False
    assert "Is this billing?" not in alice.texts()


async def test_a_transfer_to_an_agent_moves_the_chat_at_once(sign_in, start_chat):
    alice, bob = await sign_in("alice"), await sign_in("bob")
    await ready(alice)
    customer = await start_chat()
    await take(alice, customer)
    await ready(bob)

    ack = await alice.emit(
        "transferConversation", {"conversationId": customer.conversation_id, "agentId": bob.agent_id}
    )
    assert ack["ok"], ack
    assigned = await bob.wait_for("conversationAssigned")
    assert assigned["conversationId"] == customer.conversation_id
    assert await agents_in(customer.conversation_id) == ["Bob"]
    await customer.wait_for("messageArrived", activity("participantAdded"))
    await customer.wait_for("messageArrived", activity("participantRemoved"))


async def test_transfer_to_an_unknown_queue_or_agent_is_refused_and_nothing_changes(sign_in, start_chat):
    alice = await sign_in("alice")
    await ready(alice)
    customer = await start_chat()
    await take(alice, customer)
    to_queue = await alice.emit("transferConversation", {"conversationId": customer.conversation_id, "queue": "nope"})
    to_agent = await alice.emit("transferConversation", {"conversationId": customer.conversation_id, "agentId": 999})
    both = await alice.emit(
        "transferConversation", {"conversationId": customer.conversation_id, "queue": "default", "agentId": 1}
    )
    assert [to_queue["error"]["code"], to_agent["error"]["code"], both["error"]["code"]] == [
        "QUEUE_NOT_FOUND",
        "AGENT_NOT_FOUND",
        "INVALID_PAYLOAD",
    ]
    assert await agents_in(customer.conversation_id) == ["Alice"]


async def test_leaving_puts_the_conversation_back_in_its_queue(sign_in, start_chat):
    alice, bob = await sign_in("alice"), await sign_in("bob")
    await ready(alice)
    customer = await start_chat()
    await take(alice, customer)
    await ready(bob)
    assert (await alice.emit("leaveConversation", {"conversationId": customer.conversation_id}))["ok"]
    await customer.wait_for("messageArrived", activity("participantLeft"))
    await bob.wait_for("conversationOffered", offered(customer.conversation_id))


async def test_an_agent_who_drops_and_returns_in_time_keeps_its_chat_and_misses_nothing(sign_in, start_chat, connect):
    alice = await sign_in("alice")
    await ready(alice)
    customer = await start_chat()
    await take(alice, customer)
    await make_queue("Elsewhere")
    bob = await sign_in("bob", queues=["elsewhere"])  # drops with alice, does not come back: the clock
    await ready(bob)
    bobs_customer = await start_chat(subject="elsewhere")
    await take(bob, bobs_customer)

    await alice.sio.disconnect()
    await bob.sio.disconnect()
    assert (await customer.say("Did you go?"))["ok"]
    back = await alice.another_connection()
    try:
        info = await back.wait_for("conversationInfo", lambda i: i["conversation"]["id"] == customer.conversation_id)
        assert "Did you go?" in [m["text"] for m in info["messages"]]
        back.conversation_id = customer.conversation_id
        assert (await back.say("Still here."))["ok"]  # no join needed: the chat resumed
        await customer.wait_for_text("Still here.")
        # Past the grace period (bob's chat goes back to the queue): alice's is still hers.
        await bobs_customer.wait_for("messageArrived", activity("participantLeft"), timeout=6)
        assert await agents_in(customer.conversation_id) == ["Alice"]
    finally:
        await back.disconnect()


async def test_an_agent_gone_past_the_grace_period_loses_the_chat_to_the_queue(sign_in, start_chat):
    alice, bob = await sign_in("alice"), await sign_in("bob")
    await ready(alice)
    customer = await start_chat()
    await take(alice, customer)
    await ready(bob)

    await alice.sio.disconnect()
    await customer.wait_for("messageArrived", activity("participantLeft"), timeout=6)
    await bob.wait_for("conversationOffered", offered(customer.conversation_id))
    alice_state = await sync_to_async(lambda: AgentProfile.objects.get(pk=alice.agent_id).state)()
    assert alice_state == "notReady"  # offered nothing when she comes back, until she says so


async def test_the_offers_of_an_agent_who_disconnects_go_to_the_next_agent_at_once(sign_in, start_chat):
    alice = await sign_in("alice")
    await ready(alice)
    bob = await sign_in("bob")
    await ready(bob)
    customer = await start_chat()
    await alice.wait_for("conversationOffered", offered(customer.conversation_id))
    await alice.sio.disconnect()
    await bob.wait_for("conversationOffered", offered(customer.conversation_id), timeout=3)


async def test_two_tabs_racing_to_accept_the_same_offer_make_one_participant(sign_in, start_chat, connect):
    alice = await sign_in("alice")
    second_tab = await alice.another_connection()
    try:
        await ready(alice)
        customer = await start_chat()
        await alice.wait_for("conversationOffered", offered(customer.conversation_id))
        await second_tab.wait_for("conversationOffered", offered(customer.conversation_id))
        acks = await asyncio.gather(
            alice.emit("acceptConversation", {"conversationId": customer.conversation_id}),
            second_tab.emit("acceptConversation", {"conversationId": customer.conversation_id}),
        )
        assert sorted(ack["ok"] for ack in acks) == [False, True]
        assert await agents_in(customer.conversation_id) == ["Alice"]
    finally:
        await second_tab.disconnect()


async def test_an_agent_who_was_not_offered_a_chat_cannot_take_it_even_at_the_same_moment(sign_in, start_chat):
    alice, bob = await sign_in("alice"), await sign_in("bob")
    await ready(alice)
    customer = await start_chat()
    await alice.wait_for("conversationOffered", offered(customer.conversation_id))
    acks = await asyncio.gather(
        alice.emit("acceptConversation", {"conversationId": customer.conversation_id}),
        bob.emit("acceptConversation", {"conversationId": customer.conversation_id}),
    )
    assert [ack["ok"] for ack in acks] == [True, False]
    assert acks[1]["error"]["code"] == "NOT_OFFERED"
    assert await agents_in(customer.conversation_id) == ["Alice"]


async def test_a_queued_conversation_survives_a_server_restart(server, sign_in, start_chat, people):
    customer = await start_chat()
    await customer.wait_for("messageArrived", activity("noAgentAvailable"))
    await customer.disconnect()
    server.restart()
    alice = await sign_in("alice")
    await ready(alice)
    offer = await alice.wait_for("conversationOffered", offered(customer.conversation_id))
    assert offer["customer"]["firstName"] == "Kashif"


async def test_a_conversation_that_waits_too_long_is_ended_with_a_reason(start_chat):
    await make_queue("night", max_wait_seconds=1)
    customer = await start_chat(subject="night")
    ended = await customer.wait_for("messageArrived", activity("endOfConversation"), timeout=5)
    assert ended["info"] == {"reason": "noAgentAvailable"}
    assert (await customer.say("hello?"))["error"]["code"] == "CONVERSATION_ENDED"


async def test_deleting_a_queue_with_a_waiting_chat_leaves_routing_working(sign_in, start_chat):
    await make_queue("doomed", offer_timeout_seconds=1)
    alice = await sign_in("alice", queues=["doomed", "default"])
    await ready(alice)
    customer = await start_chat(subject="doomed")
    await alice.wait_for("conversationOffered", offered(customer.conversation_id))
    await sync_to_async(lambda: Queue.objects.filter(name="doomed").delete())()

    # The offer expires, the conversation falls to the default queue, and is offered again
    # once alice may have it back; meanwhile a new customer is served as usual.
    newcomer = await start_chat(firstName="Ben")
    await alice.wait_for("conversationOffered", offered(newcomer.conversation_id), timeout=5)
    await alice.wait_for("offerWithdrawn", lambda w: w["conversationId"] == customer.conversation_id, timeout=5)
    conversation = await sync_to_async(Conversation.objects.select_related("queue").get)(pk=customer.conversation_id)
    assert conversation.queue.name == "default" and conversation.queued_at is not None
