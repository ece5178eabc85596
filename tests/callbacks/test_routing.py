"""Due callbacks offered to agents, accepted, called, retried; on a controlled clock."""

from datetime import timedelta

import pytest
from django.utils import timezone

from agents.models import AgentConnection, AgentProfile
from callbacks import routing, services
from callbacks.models import Callback, CallbackOffer
from callbacks.schemas import CallbackRequest
from chatserver.dispatch import perform_sync
from chatserver.errors import CallbackNotOpen, NotOffered
from conversations import services as conversation_services
from conversations.schemas import parse
from routing.selectors import agent_load
from tests.callbacks.conftest import ready_agent
from tests.factories import start_conversation

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def now():
    return timezone.now().replace(microsecond=0)


def ask(now, **fields) -> Callback:
    """A request stored at `now`; one due now is offered as soon as it is stored (see `asked`)."""
    return asked(now, **fields)[0]


def asked(now, **fields) -> tuple[Callback, list]:
    payload = {"firstName": "Kashif", "phone": "+49 30 901820", "subject": "support"} | fields
    done = perform_sync(
        services.callback_request, request=parse(CallbackRequest, payload), client_ip="203.0.113.5", now=now
    )
    return done.value.callback, done.deliveries


def offered_events(deliveries, event="callbackOffered"):
    return [(d.audience.agent_ids, d.payload.get("callbackId")) for d in deliveries if d.event == event]


def states(callback) -> list[str]:
    return list(callback.events.order_by("pk").values_list("to_state", flat=True))


def test_a_due_callback_is_offered_to_a_ready_agent_of_its_queue_and_takes_its_capacity(open_queue, now):
    alice = ready_agent("alice", queues=["support"], max_chats=1)
    ready_agent("bob", queues=["other"])
    callback = ask(now + timedelta(minutes=5), preferredTime="asap")  # asked five minutes "from now"
    done = perform_sync(routing.sweep, now=now)
    assert offered_events(done.deliveries) == []  # not due yet at `now`
    done = perform_sync(routing.sweep, now=now + timedelta(minutes=5))
    assert offered_events(done.deliveries) == [((alice.pk,), callback.pk)]
    callback.refresh_from_db()
    assert (callback.state, callback.agent_id) == ("offered", alice.pk)
    assert agent_load(alice) == 1  # a callback weighs one chat


def test_a_queue_may_make_a_callback_weigh_more(open_queue, now):
    open_queue.callback_weight = 2
    open_queue.save()
    small = ready_agent("alice", queues=["support"], max_chats=1)
    big = ready_agent("bob", queues=["support"], max_chats=2)
    _, deliveries = asked(now)
    assert [ids for ids, _ in offered_events(deliveries)] == [(big.pk,)]
    assert agent_load(big) == 2 and agent_load(small) == 0


def test_no_answer_is_tried_again_after_the_retry_delay_then_completed(open_queue, now):
    alice = ready_agent("alice", queues=["support"])
    callback = ask(now)
    perform_sync(routing.sweep, now=now)
    services.callback_accept(agent_id=alice.pk, callback_id=callback.pk, now=now)
    services.callback_outcome(agent_id=alice.pk, callback_id=callback.pk, outcome="noAnswer", note="voicemail", now=now)
    callback.refresh_from_db()
    assert (callback.state, callback.attempts, callback.agent_id) == ("retryScheduled", 1, None)
    assert callback.scheduled_for == now + timedelta(seconds=300)
    assert agent_load(alice) == 0
    done = perform_sync(routing.sweep, now=now + timedelta(seconds=299))
    assert offered_events(done.deliveries) == []
    done = perform_sync(routing.sweep, now=now + timedelta(seconds=300))
    assert offered_events(done.deliveries) == [((alice.pk,), callback.pk)]
    later = now + timedelta(seconds=301)
    services.callback_accept(agent_id=alice.pk, callback_id=callback.pk, now=later)
    services.callback_outcome(agent_id=alice.pk, callback_id=callback.pk, outcome="completed", now=later)
    callback.refresh_from_db()
    assert (callback.state, callback.attempts) == ("completed", 2)
    assert states(callback) == [
        "requested",
        "scheduled",
        "offered",
        "inProgress",
        "retryScheduled",
        "offered",
        "inProgress",
        "completed",
    ]
    assert list(callback.events.exclude(outcome="").values_list("outcome", "note")) == [
        ("noAnswer", "voicemail"),
        ("completed", ""),
    ]


def test_after_the_maximum_attempts_busy_is_failed(open_queue, now):
    alice = ready_agent("alice", queues=["support"])
    callback = ask(now)
    for attempt in range(2):  # support allows 2
        moment = now + timedelta(seconds=300 * attempt)
        perform_sync(routing.sweep, now=moment)
        services.callback_accept(agent_id=alice.pk, callback_id=callback.pk, now=moment)
        services.callback_outcome(agent_id=alice.pk, callback_id=callback.pk, outcome="busy", now=moment)
    callback.refresh_from_db()
    assert (callback.state, callback.attempts) == ("failed", 2)
    done = perform_sync(routing.sweep, now=now + timedelta(days=1))
    assert offered_events(done.deliveries) == []


def test_an_unanswered_offer_passes_to_the_next_agent(open_queue, now):
    alice = ready_agent("alice", queues=["support"])
    callback = ask(now)
    perform_sync(routing.sweep, now=now)
    bob = ready_agent("bob", queues=["support"])
    done = perform_sync(routing.sweep, now=now + timedelta(seconds=21))  # CHAT_OFFER_TIMEOUT is 20
    assert offered_events(done.deliveries, "callbackOfferWithdrawn") == [((alice.pk,), callback.pk)]
    assert offered_events(done.deliveries) == [((bob.pk,), callback.pk)]
    assert CallbackOffer.objects.filter(callback=callback, state="pending").get().agent == bob
    with pytest.raises(NotOffered):
        services.callback_accept(agent_id=alice.pk, callback_id=callback.pk, now=now + timedelta(seconds=22))


def test_a_rejected_callback_goes_to_the_next_agent(open_queue, now):
    alice = ready_agent("alice", queues=["support"])
    callback = ask(now)
    perform_sync(routing.sweep, now=now)
    bob = ready_agent("bob", queues=["support"])
    done = perform_sync(services.callback_reject, agent_id=alice.pk, callback_id=callback.pk, now=now)
    assert offered_events(done.deliveries) == [((bob.pk,), callback.pk)]


def test_a_window_that_passed_with_nobody_free_is_expired_and_offered_first(open_queue, now):
    window = {"start": (now + timedelta(minutes=10)).isoformat(), "end": (now + timedelta(minutes=40)).isoformat()}
    late = ask(now, preferredTime=window)
    on_time = ask(now + timedelta(minutes=30), phone="+44 20 7946 0958")
    perform_sync(routing.sweep, now=now + timedelta(minutes=41))
    late.refresh_from_db()
    assert late.state == "expired"
    alice = ready_agent("alice", queues=["support"], max_chats=1)
    done = perform_sync(routing.sweep, now=now + timedelta(minutes=42))
    assert offered_events(done.deliveries) == [((alice.pk,), late.pk)]
    assert offered_events(done.deliveries)[0][1] != on_time.pk


def test_outcomes_only_from_the_agent_calling(open_queue, now):
    alice = ready_agent("alice", queues=["support"])
    bob = ready_agent("bob", queues=["other"])
    callback = ask(now)
    perform_sync(routing.sweep, now=now)
    with pytest.raises(CallbackNotOpen):
        services.callback_outcome(agent_id=alice.pk, callback_id=callback.pk, outcome="completed", now=now)
    services.callback_accept(agent_id=alice.pk, callback_id=callback.pk, now=now)
    with pytest.raises(CallbackNotOpen):
        services.callback_outcome(agent_id=bob.pk, callback_id=callback.pk, outcome="completed", now=now)


def test_wrong_number_fails_and_cancelled_by_customer_cancels(open_queue, now):
    alice = ready_agent("alice", queues=["support"])
    first = ask(now)
    second = ask(now, phone="+44 20 7946 0958")
    perform_sync(routing.sweep, now=now)
    for callback, outcome in ((first, "wrongNumber"), (second, "cancelledByCustomer")):
        services.callback_accept(agent_id=alice.pk, callback_id=callback.pk, now=now)
        services.callback_outcome(agent_id=alice.pk, callback_id=callback.pk, outcome=outcome, note="n", now=now)
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.state, second.state) == ("failed", "cancelled")


def test_a_not_ready_agent_loses_its_callback_offer(open_queue, now):
    alice = ready_agent("alice", queues=["support"])
    callback = ask(now)
    perform_sync(routing.sweep, now=now)
    alice.state = "notReady"
    alice.save()
    done = perform_sync(routing.sweep, now=now)
    assert offered_events(done.deliveries, "callbackOfferWithdrawn") == [((alice.pk,), callback.pk)]
    callback.refresh_from_db()
    assert (callback.state, callback.agent_id) == ("scheduled", None)


def test_a_callback_in_progress_takes_the_place_of_a_chat(open_queue, now):
    alice = ready_agent("alice", queues=["support"], max_chats=1)
    callback, _ = asked(now)
    services.callback_accept(agent_id=alice.pk, callback_id=callback.pk, now=now)
    chat = start_conversation(firstName="Grace", subject="support")
    joined = perform_sync(
        conversation_services.conversation_join,
        conversation_id=chat.conversation.id,
        participant_id=chat.join_key,
    )
    assert [d for d in joined.deliveries if d.event == "conversationOffered"] == []
    done = perform_sync(
        services.callback_outcome, agent_id=alice.pk, callback_id=callback.pk, outcome="completed", now=now
    )
    offered = [d for d in done.deliveries if d.event == "conversationOffered"]
    assert [(d.audience.agent_ids, d.payload["conversation"]["id"]) for d in offered] == [
        ((alice.pk,), chat.conversation.id)
    ]


def test_the_visitor_cancelling_an_offered_callback_tells_the_agent(open_queue, now):
    alice = ready_agent("alice", queues=["support"])
    payload = {"firstName": "Kashif", "phone": "+49 30 901820", "subject": "support"}
    result = perform_sync(
        services.callback_request, request=parse(CallbackRequest, payload), client_ip=None, now=now
    ).value
    assert Callback.objects.get().state == "offered"
    done = perform_sync(services.callback_cancel_by_customer, callback_id=result.callback.pk, key=result.key, now=now)
    assert offered_events(done.deliveries, "callbackOfferWithdrawn") == [((alice.pk,), result.callback.pk)]
    assert agent_load(alice) == 0


def test_a_call_whose_agent_stays_away_past_the_grace_period_is_due_again(open_queue, now, settings):
    alice = ready_agent("alice", queues=["support"])
    callback, _ = asked(now)
    services.callback_accept(agent_id=alice.pk, callback_id=callback.pk, now=now)
    AgentConnection.objects.filter(agent=alice).delete()  # its browser is gone
    AgentProfile.objects.filter(pk=alice.pk).update(disconnected_at=now)
    perform_sync(routing.sweep, now=now + timedelta(seconds=settings.CHAT_AGENT_GRACE - 1))
    callback.refresh_from_db()
    assert callback.state == "inProgress"
    perform_sync(routing.sweep, now=now + timedelta(seconds=settings.CHAT_AGENT_GRACE + 1))
    callback.refresh_from_db()
    assert (callback.agent_id, callback.events.order_by("-pk").first().detail) == (None, "its agent was gone")
    assert (callback.state, callback.scheduled_for) == (
        "scheduled",
        now + timedelta(seconds=settings.CHAT_AGENT_GRACE + 1),
    )
