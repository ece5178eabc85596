"""A chat that reaches a closed queue: the customer is told when it opens, nobody is offered it
until then."""

from datetime import timedelta

import pytest
from django.utils import timezone

from chatserver.dispatch import perform_sync
from conversations import services
from conversations.schemas import InitRequest
from routing.models import ClosedDate, Offer, Queue
from routing.offers import route_waiting
from tests.callbacks.conftest import ready_agent

pytestmark = pytest.mark.django_db(transaction=True)


def join_a_chat(subject: str):
    started = services.conversation_start(request=InitRequest(firstName="Kashif", channel="web", subject=subject))
    return perform_sync(
        services.conversation_join, conversation_id=started.conversation.id, participant_id=started.customer.join_key
    )


def test_outside_hours_the_customer_hears_the_next_opening_and_nobody_is_offered_the_chat():
    queue = Queue.objects.create(name="billing", time_zone="UTC")
    today = timezone.now().date()
    ClosedDate.objects.create(queue=queue, date=today, reason="holiday")
    alice = ready_agent("alice", queues=["billing"])
    joined = join_a_chat("billing")
    said = [d.payload.get("activityType") for d in joined.deliveries if d.event == "messageArrived"]
    assert said == ["participantJoined", "handOff", "outsideBusinessHours"]
    notice = next(d.payload for d in joined.deliveries if d.payload.get("activityType") == "outsideBusinessHours")
    tomorrow = (today + timedelta(days=1)).isoformat()
    assert notice["info"]["queue"] == "billing"
    assert notice["info"]["nextOpening"] == f"{tomorrow}T00:00:00Z"
    assert notice["info"]["hours"]["closedDates"] == [today.isoformat()]
    assert notice["info"]["callback"] is True
    assert not [d for d in joined.deliveries if d.event == "conversationOffered"]
    assert not Offer.objects.exists()

    perform_sync(route_waiting, queue_ids=[queue.pk])  # the sweep's step: still closed, still nobody
    assert not Offer.objects.exists()

    ClosedDate.objects.all().delete()  # the queue opens
    routed = perform_sync(route_waiting, queue_ids=[queue.pk])
    assert [(d.event, d.audience.agent_ids) for d in routed.deliveries] == [("conversationOffered", (alice.pk,))]


def test_a_queue_without_hours_offers_the_chat_at_once():
    alice = ready_agent("alice", queues=["support"])
    joined = join_a_chat("support")
    assert [d.audience.agent_ids for d in joined.deliveries if d.event == "conversationOffered"] == [(alice.pk,)]
    assert "outsideBusinessHours" not in [d.payload.get("activityType") for d in joined.deliveries]
