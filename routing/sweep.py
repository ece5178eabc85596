"""Routing's periodic sweep: what no event triggers (time passing, processes dying).

Every server process runs it each CHAT_SWEEP_INTERVAL: it keeps this process's agent
connections alive, expires unanswered offers, gives up on agents gone past the grace period,
ends conversations that waited too long, and offers waiting conversations. Each step runs in
transactions of its own, so one bad row or a lock conflict holds up nothing else.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.models import Q
from django.utils import timezone

from agents import auth
from agents.models import AgentConnection, AgentProfile
from callbacks.routing import sweep as callback_sweep
from chatserver import dispatch, realtime
from conversations import timeline
from conversations.models import Conversation, Participant
from routing.assignment import remove
from routing.models import Offer, Queue
from routing.offers import WAITING_ROUTED_AT_ONCE, enqueue_if_unattended, reoffer, route_waiting, safely, withdraw_all
from routing.queues import max_wait, queue_for_subject

logger = logging.getLogger(__name__)


def sweep(*, server_id: str, live_sids: list[str]) -> list[str]:
    """One tick; returns the sids of this process's agent sockets whose credential no longer
    holds (revoked, expired, logged out), for the caller to close."""
    now = timezone.now()
    safely(_heartbeat, server_id=server_id, live_sids=live_sids, now=now)
    safely(_adopt_orphans)
    expired = Offer.objects.pending().filter(expires_at__lte=now).values_list("pk", flat=True)
    for offer_id in list(expired[:WAITING_ROUTED_AT_ONCE]):
        safely(reoffer, offer_id, state=Offer.State.EXPIRED)
    gone = Offer.objects.pending().exclude(agent__in=AgentProfile.objects.connected())
    for offer_id in list(gone.values_list("pk", flat=True)[:WAITING_ROUTED_AT_ONCE]):
        safely(reoffer, offer_id, state=Offer.State.WITHDRAWN)
    _release_absent_agents(now)
    _end_overdue(now)
    route_waiting(set(Conversation.objects.waiting().values_list("queue_id", flat=True)))
    callback_sweep(now)  # issue 9: due callbacks offered, their unanswered offers passed on
    return auth.withdrawn_connections(server_id=server_id)


@transaction.atomic
def _heartbeat(*, server_id: str, live_sids: list[str], now) -> None:
    AgentConnection.objects.filter(server_id=server_id, sid__in=live_sids).update(seen_at=now)
    AgentConnection.objects.filter(seen_at__lt=now - 10 * timedelta(seconds=settings.CHAT_CONNECTION_STALE)).delete()


@transaction.atomic
def _adopt_orphans() -> None:
    """A queue deleted in admin leaves its waiting conversations without one: the default takes them."""
    orphans = Conversation.objects.waiting().filter(queue__isnull=True)
    if orphans.exists():
        orphans.update(queue=queue_for_subject(""))


def _release_absent_agents(now) -> None:
    cutoff = now - timedelta(seconds=settings.CHAT_AGENT_GRACE)
    # Gone past the grace period: back as "not ready", so no chat is offered before they say so.
    AgentProfile.objects.ready().filter(disconnected_at__lte=cutoff).update(state=AgentProfile.State.NOT_READY)
    absent = (
        Participant.objects.agents()
        .present()
        .filter(conversation__state=Conversation.State.OPEN)
        .filter(
            Q(agent__disconnected_at__lte=cutoff)
            | ~Q(agent__in=AgentProfile.objects.connected()) & Q(agent__disconnected_at=None)
        )
    )
    for participant_id in list(absent.values_list("pk", flat=True)[:WAITING_ROUTED_AT_ONCE]):
        safely(_release_one, participant_id, now=now)


@transaction.atomic
def _release_one(participant_id: str, *, now) -> None:
    conversation_id = Participant.objects.values_list("conversation_id", flat=True).get(pk=participant_id)
    conversation = Conversation.objects.select_for_update().get(pk=conversation_id)
    participant = Participant.objects.select_related("agent").get(pk=participant_id)
    if participant.left_at is not None or not conversation.is_open:
        return
    if participant.agent and participant.agent.disconnected_at is None:
        # Stale connection rows (a server process died): start the grace period now.
        AgentProfile.objects.filter(pk=participant.agent_id).update(disconnected_at=now)
        return
    remove(conversation, participant, activity_type="participantLeft", reason=Participant.LeftReason.ABSENT)
    enqueue_if_unattended(conversation)


def _end_overdue(now) -> None:
    """End conversations that waited longer than their queue allows, queue by queue."""
    for queue in Queue.objects.all():
        longest = max_wait(queue)
        if not longest:
            continue
        overdue = Conversation.objects.waiting().filter(queue=queue, queued_at__lte=now - timedelta(seconds=longest))
        for conversation_id in list(
            overdue.order_by("queued_at").values_list("pk", flat=True)[:WAITING_ROUTED_AT_ONCE]
        ):
            safely(_end_overdue_one, conversation_id)


@transaction.atomic
def _end_overdue_one(conversation_id: str) -> None:
    conversation = Conversation.objects.select_for_update().get(pk=conversation_id)
    if not conversation.is_open or conversation.queued_at is None:
        return
    ended = timeline.close(conversation, info={"reason": "noAgentAvailable"})
    dispatch.emit(timeline.broadcast(ended))
    withdraw_all(conversation)


async def sweep_once() -> None:
    done = await dispatch.perform(
        sweep, server_id=realtime.SERVER_ID, live_sids=realtime.local_sids(realtime.AGENT_NAMESPACE)
    )
    await realtime.publish(done.deliveries)
    for sid in done.value:
        await realtime.sio.disconnect(sid, namespace=realtime.AGENT_NAMESPACE)


async def sweep_forever() -> None:
    while True:
        await realtime.sio.sleep(settings.CHAT_SWEEP_INTERVAL)
        try:
            await sweep_once()
        except DatabaseError as error:  # a lock timeout, a restarting database: try next time
            logger.warning("routing sweep: %s; trying again", error)
        except Exception:
            logger.exception("routing sweep failed; trying again")
