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
from django.db.models import Exists, OuterRef
from django.utils import timezone

from agents import auth
from agents.models import AgentConnection, AgentProfile, ServerProcess
from callbacks.routing import sweep as callback_sweep
from chatserver import dispatch, realtime
from conversations import timeline
from conversations.models import Conversation, Participant
from routing.assignment import remove
from routing.models import Offer, Queue
from routing.offers import WAITING_ROUTED_AT_ONCE, enqueue_if_unattended, reoffer, route_waiting, safely, withdraw_all
from routing.queues import max_wait, queue_for_subject

logger = logging.getLogger(__name__)


def sweep(*, server_id: str, live_sids: list[str] | None = None) -> list[str]:
    """One tick. Its work follows what changed, not what exists: a heartbeat row for this
    process, and queries that find nothing (with an index) while nothing expires, leaves or
    waits. `live_sids` (this process's agent sockets) is given on the full ticks, every
    SOCKETS_CHECKED_EVERY seconds, which also drop connection rows whose socket has gone
    without its disconnect being handled, adopt the conversations of deleted queues, and end
    those that waited past their queue's maximum; a full tick returns the sids of this
    process's agent sockets whose credential no longer holds, for the caller to close."""
    now = timezone.now()
    safely(_heartbeat, server_id=server_id, now=now)
    full = live_sids is not None
    if full:
        safely(_forget_gone_sockets, server_id=server_id, live_sids=live_sids, now=now)
        safely(_adopt_orphans)  # only after a queue was deleted in admin: rare, not urgent
    expired = Offer.objects.pending().filter(expires_at__lte=now).values_list("pk", flat=True)
    for offer_id in list(expired[:WAITING_ROUTED_AT_ONCE]):
        safely(reoffer, offer_id, state=Offer.State.EXPIRED)
    # From the (few) pending offers, not from the (many) connected agents.
    live = AgentConnection.objects.live().filter(agent_id=OuterRef("agent_id"))
    gone = Offer.objects.pending().exclude(Exists(live), agent__user__is_active=True)
    for offer_id in list(gone.values_list("pk", flat=True)[:WAITING_ROUTED_AT_ONCE]):
        safely(reoffer, offer_id, state=Offer.State.WITHDRAWN)
    _release_absent_agents(now)
    if full:  # maximum waits are minutes; a couple of seconds late is fine
        _end_overdue(now)
    route_waiting(set(Conversation.objects.waiting().order_by().values_list("queue_id", flat=True).distinct()))
    callback_sweep(now)  # issue 9: due callbacks offered, their unanswered offers passed on
    return auth.withdrawn_connections(server_id=server_id) if full else []


@transaction.atomic
def _heartbeat(*, server_id: str, now) -> None:
    """This process is alive; the connections of processes not seen for CHAT_CONNECTION_STALE
    (they died) are forgotten, their agents' grace period starting now."""
    if not ServerProcess.objects.filter(pk=server_id).update(seen_at=now):
        ServerProcess.objects.create(server_id=server_id, seen_at=now)
    stale = now - timedelta(seconds=settings.CHAT_CONNECTION_STALE)
    dead = list(ServerProcess.objects.filter(seen_at__lt=stale).values_list("pk", flat=True))
    if dead:
        _forget_connections(AgentConnection.objects.filter(server_id__in=dead), now)
        ServerProcess.objects.filter(pk__in=dead).delete()


@transaction.atomic
def _forget_gone_sockets(*, server_id: str, live_sids: list[str], now) -> None:
    _forget_connections(AgentConnection.objects.filter(server_id=server_id).exclude(sid__in=live_sids), now)


def _forget_connections(connections, now) -> None:
    agent_ids = set(connections.values_list("agent_id", flat=True))
    if not agent_ids:
        return
    connections.delete()
    AgentProfile.objects.filter(pk__in=agent_ids, disconnected_at=None).exclude(
        pk__in=AgentProfile.objects.connected()
    ).update(disconnected_at=now)


@transaction.atomic
def _adopt_orphans() -> None:
    """A queue deleted in admin leaves its waiting conversations without one: the default takes them."""
    orphans = Conversation.objects.waiting().filter(queue__isnull=True)
    if orphans.exists():
        orphans.update(queue=queue_for_subject(""))


def _release_absent_agents(now) -> None:
    cutoff = now - timedelta(seconds=settings.CHAT_AGENT_GRACE)
    # Gone past the grace period: back as "not ready", so no chat is offered before they say so.
    gone = list(AgentProfile.objects.filter(disconnected_at__lte=cutoff).order_by().values_list("pk", flat=True))
    if not gone:  # the usual tick: one indexed query that finds nobody
        return
    # A socket closing on one process while the agent's new one opens on another can both
    # commit: the close saw no other socket yet and stamped her absent after the open cleared
    # it. She is connected: she is back, not gone.
    back = AgentProfile.objects.connected().filter(pk__in=gone)
    if back_ids := set(back.values_list("pk", flat=True)):
        AgentProfile.objects.filter(pk__in=back_ids).update(disconnected_at=None)
        gone = [pk for pk in gone if pk not in back_ids]
        if not gone:
            return
    AgentProfile.objects.ready().filter(pk__in=gone).update(state=AgentProfile.State.NOT_READY)
    absent = (
        Participant.objects.agents().present().filter(agent_id__in=gone, conversation__state=Conversation.State.OPEN)
    )
    for participant_id in list(absent.values_list("pk", flat=True)[:WAITING_ROUTED_AT_ONCE]):
        safely(_release_one, participant_id, now=now)


@transaction.atomic
def _release_one(participant_id: str, *, now) -> None:
    conversation_id = Participant.objects.filter(pk=participant_id).values_list("conversation_id", flat=True).first()
    conversation = Conversation.objects.select_for_update().filter(pk=conversation_id).first()
    participant = Participant.objects.select_related("agent").filter(pk=participant_id).first()
    if conversation is None or participant is None:  # deleted meanwhile (an admin, a retention job)
        return
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


# Every this many seconds a tick also checks each of this process's agent sockets (its
# credential still holds; its connection row still has a socket): work that grows with the
# agents connected, so not on every tick.
SOCKETS_CHECKED_EVERY = 2.0


async def sweep_once(*, check_sockets: bool = True) -> None:
    live_sids = realtime.local_sids(realtime.AGENT_NAMESPACE) if check_sockets else None
    done = await dispatch.perform(sweep, server_id=realtime.SERVER_ID, live_sids=live_sids)
    await realtime.publish(done.deliveries)
    for sid in done.value:
        await realtime.sio.disconnect(sid, namespace=realtime.AGENT_NAMESPACE)


async def sweep_forever() -> None:
    every = max(1, round(SOCKETS_CHECKED_EVERY / settings.CHAT_SWEEP_INTERVAL))
    tick = 0
    while True:
        await realtime.sio.sleep(settings.CHAT_SWEEP_INTERVAL)
        tick += 1
        try:
            await sweep_once(check_sockets=tick % every == 1 or every == 1)
        except DatabaseError as error:  # a lock timeout, a restarting database: try next time
            logger.warning("routing sweep: %s; trying again", error)
        except Exception:
            logger.exception("routing sweep failed; trying again")
