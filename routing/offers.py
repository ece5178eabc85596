"""Offering waiting conversations to agents: hand-off to a queue, offers, accept and reject.

All routing state lives in the database (Conversation.queued_at, Offer, AgentConnection), so a
restart loses no queued conversation and several server processes can route side by side: rows
are locked while they change (lock order everywhere: conversation, then offer, then agent) and
a unique index allows one pending offer a conversation. What happens is said through
chatserver.dispatch and sent once it has committed.
"""

import logging
from datetime import timedelta

from django.db import DatabaseError, transaction
from django.utils import timezone

from agents.models import AgentProfile
from chatserver import dispatch
from chatserver.deliveries import to_agent
from chatserver.errors import NotOffered
from conversations import timeline
from conversations.models import Conversation
from routing import hours, selectors
from routing.assignment import AssignResult, assign, locked_conversation
from routing.models import Offer, Queue
from routing.queues import offer_timeout, queue_for_subject

logger = logging.getLogger(__name__)

CANDIDATES_TRIED = 5
# One waiting chat that every free agent declined lately must not hold up the rest of its queue.
MISSES_BEFORE_LEAVING_A_QUEUE = 3
WAITING_ROUTED_AT_ONCE = 50


def offer_next(conversation: Conversation, *, announce_no_agent: bool) -> bool:
    """Offer a queued conversation (row locked by the caller) to the next eligible agent;
    whether it was offered."""
    if conversation.offers.pending().exists():
        return False
    if conversation.queue is None:  # its queue was deleted in admin
        conversation.queue = queue_for_subject("")
        conversation.save(update_fields=["queue"])
    if not hours.open_now(conversation.queue):  # business hours (issue 9): offered once it opens
        return False
    for candidate in selectors.candidates(conversation)[:CANDIDATES_TRIED]:
        agent = AgentProfile.objects.select_for_update().get(pk=candidate.pk)  # serialises its offers
        if selectors.agent_load(agent) >= agent.max_chats:
            continue
        offer = Offer.objects.create(
            conversation=conversation,
            agent=agent,
            expires_at=timezone.now() + timedelta(seconds=offer_timeout(conversation.queue)),
        )
        dispatch.emit(to_agent(agent.pk, "conversationOffered", selectors.offer_payload(offer)))
        return True
    if announce_no_agent and not AgentProfile.objects.connected().ready().filter(queues=conversation.queue).exists():
        notice = timeline.activity(conversation, "noAgentAvailable", info={"queue": conversation.queue.name})
        conversation.save(update_fields=["last_sequence"])
        dispatch.emit(timeline.broadcast(notice))
    return False


def enqueue(conversation: Conversation, *, queue: Queue | None = None) -> None:
    """Put a conversation (row locked by the caller) in its queue: the customer gets handOff,
    then the next agent an offer, or the customer noAgentAvailable."""
    conversation.queue = queue or conversation.queue or queue_for_subject(conversation.subject)
    conversation.queued_at = timezone.now()
    hand_off = timeline.activity(conversation, "handOff", info={"queue": conversation.queue.name})
    conversation.save(update_fields=["queue", "queued_at", "last_sequence"])
    dispatch.emit(timeline.broadcast(hand_off))
    if not hours.open_now(conversation.queue):  # business hours (issue 9): say so, offer nobody
        hours.announce_closed(conversation)
        return
    offer_next(conversation, announce_no_agent=True)


def enqueue_if_unattended(conversation: Conversation, *, queue: Queue | None = None) -> None:
    """A conversation (row locked) that has no agent left goes to its queue."""
    if selectors.needs_an_agent(conversation):
        enqueue(conversation, queue=queue)


def route_waiting(queue_ids, limit: int = WAITING_ROUTED_AT_ONCE) -> None:
    """Offer waiting conversations of these queues (oldest first) that have no pending offer,
    each in its own transaction. A queue is left as soon as nobody in it takes an offer, so a
    long queue with no free agent costs one query, not one per waiting chat. The follow-up of
    dispatch.queues_freed, and a step of the sweep. Which queues have a chat waiting is asked
    first, with an index: an agent connecting or getting ready while nothing waits (the usual
    case, and every agent of a shift starting) costs that one query, not a look at every agent."""
    queue_ids = {queue_id for queue_id in queue_ids if queue_id is not None}
    if not queue_ids:
        return
    with_waiting = set(
        Conversation.objects.waiting()
        .filter(queue_id__in=queue_ids)
        .exclude(offers__state=Offer.State.PENDING)
        .order_by()
        .values_list("queue_id", flat=True)
        .distinct()
    )
    if not with_waiting:
        return
    for queue_id in hours.open_queue_ids(selectors.queues_with_room(list(with_waiting))):  # issue 9: open ones
        waiting = (
            Conversation.objects.waiting()
            .filter(queue_id=queue_id)
            .exclude(offers__state=Offer.State.PENDING)
            .order_by("queued_at")
            .values_list("pk", flat=True)[:limit]
        )
        misses = 0
        for conversation_id in list(waiting):
            misses = 0 if safely(_route_one, conversation_id) else misses + 1
            if misses == MISSES_BEFORE_LEAVING_A_QUEUE:  # nobody here takes these: leave the rest
                break


@transaction.atomic
def _route_one(conversation_id: str) -> bool:
    conversation = Conversation.objects.select_for_update().get(pk=conversation_id)
    if not conversation.is_open or conversation.queued_at is None:
        return False
    return offer_next(conversation, announce_no_agent=False)


def safely(step, *args, **kwargs):
    """One step of routing work in its own transaction: a failure is logged and skipped (the
    next sweep tries again) instead of stopping the steps after it."""
    try:
        return step(*args, **kwargs)
    except DatabaseError as error:  # a lock timeout or deadlock with another process
        logger.warning("routing: %s failed: %s", step.__name__, error)
    except Exception:
        logger.exception("routing: %s failed", step.__name__)
    return None


def withdraw_offers(offers, *, state: str = Offer.State.WITHDRAWN) -> None:
    now = timezone.now()
    for offer in offers:
        offer.state = state
        offer.answered_at = now
        offer.save(update_fields=["state", "answered_at"])
        dispatch.emit(to_agent(offer.agent_id, "offerWithdrawn", {"conversationId": offer.conversation_id}))


def withdraw_all(conversation: Conversation) -> None:
    """The conversation has an agent or ended: its pending offer is void."""
    withdraw_offers(Offer.objects.select_for_update().pending().filter(conversation=conversation))


@transaction.atomic
def reoffer(offer_id: int, *, state: str) -> None:
    """End a pending offer (expired, or its agent went) and offer the conversation on."""
    conversation_id = Offer.objects.filter(pk=offer_id).values_list("conversation_id", flat=True).first()
    if conversation_id is None:
        return
    conversation = Conversation.objects.select_for_update().get(pk=conversation_id)
    offer = Offer.objects.select_for_update().pending().filter(pk=offer_id).first()
    if offer is None:  # answered meanwhile
        return
    withdraw_offers([offer], state=state)
    if conversation.is_open and conversation.queued_at is not None:
        offer_next(conversation, announce_no_agent=True)


@transaction.atomic
def offer_accept(*, agent_id: int, conversation_id: str) -> AssignResult:
    conversation = locked_conversation(conversation_id)
    timeline.require_open(conversation)
    offer = conversation.offers.pending().filter(agent_id=agent_id).first()
    if offer is None or offer.expires_at < timezone.now() or conversation.queued_at is None:
        raise NotOffered()
    offer.state = Offer.State.ACCEPTED
    offer.answered_at = timezone.now()
    offer.save(update_fields=["state", "answered_at"])
    return assign(conversation, offer.agent, activity_type="participantJoined", except_caller=True)


@transaction.atomic
def offer_reject(*, agent_id: int, conversation_id: str) -> None:
    conversation = locked_conversation(conversation_id)
    offer = conversation.offers.pending().filter(agent_id=agent_id).first()
    if offer is None:
        raise NotOffered()
    offer.state = Offer.State.REJECTED
    offer.answered_at = timezone.now()
    offer.save(update_fields=["state", "answered_at"])
    if conversation.is_open:
        offer_next(conversation, announce_no_agent=True)
