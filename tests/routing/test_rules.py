"""Routing's timing rules, on a controlled clock: offers expire and go to the next agent, a
declined chat comes back to the decliner later, an absent agent's chats go back to the queue
after the grace period, and a chat that waits too long ends."""

from datetime import UTC, datetime

import pytest
import time_machine

from agents.models import AgentProfile
from agents.services import agent_create
from chatserver.dispatch import perform_sync
from conversations import services
from conversations.models import Conversation
from routing import offers, presence, sweep
from routing.models import Offer, Queue
from tests.factories import start_conversation

pytestmark = pytest.mark.django_db(transaction=True)
SERVER = "test-server"


@pytest.fixture
def clock():
    with time_machine.travel(datetime.now(UTC), tick=False) as traveller:
        yield traveller


@pytest.fixture(autouse=True)
def timings(settings):
    settings.CHAT_OFFER_TIMEOUT = 20
    settings.CHAT_REOFFER_AFTER = 60
    settings.CHAT_AGENT_GRACE = 60
    settings.CHAT_QUEUE_MAX_WAIT = 0


def ready_agent(username: str) -> AgentProfile:
    agent = agent_create(username=username, password="correct horse battery", queues=["billing"])
    presence.agent_connected(agent_id=agent.pk, sid=f"sid-{username}", server_id=SERVER)
    presence.agent_set_state(agent_id=agent.pk, state=AgentProfile.State.READY)
    return agent


def customer_joins():
    customer = start_conversation(subject="billing")
    perform_sync(services.conversation_join, conversation_id=customer.conversation_id, participant_id=customer.join_key)
    return Conversation.objects.get(pk=customer.conversation_id)


def run_sweep(*agents: AgentProfile):
    """One sweep of this server, whose sockets of `agents` are still open."""
    return perform_sync(sweep.sweep, server_id=SERVER, live_sids=[f"sid-{a.user.username}" for a in agents])


def pending_offer(conversation: Conversation) -> Offer | None:
    return Offer.objects.pending().filter(conversation=conversation).first()


def events(performed) -> list[tuple[str, tuple[int, ...]]]:
    return [(d.event, d.audience.agent_ids) for d in performed.deliveries if d.event != "messageArrived"]


def test_an_unanswered_offer_expires_and_goes_to_the_next_agent(clock):
    alice = ready_agent("alice")
    clock.shift(1)
    bob = ready_agent("bob")
    chat = customer_joins()
    assert pending_offer(chat).agent == alice  # the longest idle first

    clock.shift(19)
    assert events(run_sweep(alice, bob)) == []  # not yet: 19 of 20 seconds
    assert pending_offer(chat).agent == alice

    clock.shift(2)
    swept = run_sweep(alice, bob)
    assert events(swept) == [("offerWithdrawn", (alice.pk,)), ("conversationOffered", (bob.pk,))]
    assert Offer.objects.get(conversation=chat, agent=alice).state == "expired"
    assert pending_offer(chat).agent == bob


def test_a_declined_chat_comes_back_to_the_only_agent_after_the_reoffer_delay(clock):
    alice = ready_agent("alice")
    chat = customer_joins()
    perform_sync(offers.offer_reject, agent_id=alice.pk, conversation_id=chat.pk)
    assert pending_offer(chat) is None

    clock.shift(59)
    run_sweep(alice)
    assert pending_offer(chat) is None  # she said no a minute ago

    clock.shift(2)
    swept = run_sweep(alice)
    assert ("conversationOffered", (alice.pk,)) in events(swept)
    assert pending_offer(chat).agent == alice


def test_an_absent_agents_chat_goes_back_to_the_queue_after_the_grace_period(clock):
    alice = ready_agent("alice")
    chat = customer_joins()
    perform_sync(offers.offer_accept, agent_id=alice.pk, conversation_id=chat.pk)
    presence.agent_disconnected(sid="sid-alice")

    clock.shift(59)
    run_sweep()
    assert chat.participants.agents().present().filter(agent=alice).exists()

    clock.shift(2)
    swept = run_sweep()
    activities = [d.payload.get("activityType") for d in swept.deliveries if d.event == "messageArrived"]
    assert activities[:2] == ["participantLeft", "handOff"]
    assert not chat.participants.agents().present().exists()
    chat.refresh_from_db()
    assert chat.queued_at is not None and chat.is_open
    alice.refresh_from_db()
    assert alice.state == AgentProfile.State.NOT_READY  # nothing is offered before she says so


def test_an_agent_stamped_absent_while_a_socket_of_hers_is_open_is_not_released(clock):
    """Her tab moved to another process: the old socket's close there committed after the new
    socket's open here, and stamped her absent. The sweep sees her connected and keeps her."""
    alice = ready_agent("alice")
    chat = customer_joins()
    perform_sync(offers.offer_accept, agent_id=alice.pk, conversation_id=chat.pk)
    AgentProfile.objects.filter(pk=alice.pk).update(disconnected_at=datetime.now(UTC))  # the late close

    clock.shift(61)
    swept = run_sweep(alice)
    assert [d for d in swept.deliveries if d.event == "messageArrived"] == []
    assert chat.participants.agents().present().filter(agent=alice).exists()
    alice.refresh_from_db()
    assert alice.disconnected_at is None and alice.state == AgentProfile.State.READY


def test_a_chat_that_waits_longer_than_its_queue_allows_ends(clock):
    Queue.objects.create(name="billing", max_wait_seconds=120)
    chat = customer_joins()

    clock.shift(119)
    run_sweep()
    chat.refresh_from_db()
    assert chat.is_open

    clock.shift(2)
    swept = run_sweep()
    chat.refresh_from_db()
    assert not chat.is_open
    [ended] = [d.payload for d in swept.deliveries if d.payload.get("activityType") == "endOfConversation"]
    assert ended["info"] == {"reason": "noAgentAvailable"}


def test_an_agent_back_from_an_absence_is_offered_her_former_chat_first_as_the_same_participant(clock):
    alice = ready_agent("alice")
    chat = customer_joins()
    accepted = perform_sync(offers.offer_accept, agent_id=alice.pk, conversation_id=chat.pk).value
    presence.agent_disconnected(sid="sid-alice")
    clock.shift(61)
    run_sweep()  # past the grace period: the chat goes back to the queue
    assert not chat.participants.agents().present().exists()

    clock.shift(1)
    bob = ready_agent("bob")  # idle longer than alice will be: he would come first otherwise
    clock.shift(1)
    presence.agent_connected(agent_id=alice.pk, sid="sid-alice", server_id=SERVER)
    # Bob was offered it meanwhile; he lets it go, and alice, back and ready, comes first.
    perform_sync(offers.offer_reject, agent_id=bob.pk, conversation_id=chat.pk)
    perform_sync(presence.agent_set_state, agent_id=alice.pk, state=AgentProfile.State.READY)
    assert pending_offer(chat).agent == alice  # not held back by the reoffer delay

    again = perform_sync(offers.offer_accept, agent_id=alice.pk, conversation_id=chat.pk).value
    assert again.participant.pk == accepted.participant.pk  # her earlier messages are still hers
    assert [p.agent for p in chat.participants.agents()] == [alice]  # listed once


def test_an_agent_who_left_a_chat_herself_is_not_offered_it_again_at_once(clock):
    alice = ready_agent("alice")
    chat = customer_joins()
    perform_sync(offers.offer_accept, agent_id=alice.pk, conversation_id=chat.pk)
    from routing import transfers

    perform_sync(transfers.agent_leave, agent_id=alice.pk, conversation_id=chat.pk)
    run_sweep(alice)
    assert pending_offer(chat) is None
    clock.shift(61)
    run_sweep(alice)
    assert pending_offer(chat).agent == alice


def test_releasing_an_agent_whose_chat_was_deleted_meanwhile_does_nothing(clock):
    alice = ready_agent("alice")
    chat = customer_joins()
    perform_sync(offers.offer_accept, agent_id=alice.pk, conversation_id=chat.pk)
    participant_id = chat.participants.agents().get(agent=alice).pk
    Conversation.objects.filter(pk=chat.pk).delete()  # between the sweep's list and its release
    assert sweep._release_one(participant_id, now=datetime.now(UTC)) is None
