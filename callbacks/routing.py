"""Offering due callbacks to agents, like chats: one pending offer a callback (a unique index),
to a ready, connected agent of its queue with room for it, who accepts or rejects; an offer
not answered in the queue's offer timeout, or whose agent went, passes to the next agent.

All of it is database state, so a restart loses nothing and several server processes route
side by side. Time passing is handled by `sweep` (a step of routing's periodic sweep); a freed
slot by `route_due` (a follow-up of chatserver.dispatch.queues_freed).
"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from agents.models import AgentProfile
from callbacks import selectors
from callbacks.models import ROUTABLE_STATES, Callback, CallbackEvent, CallbackOffer
from callbacks.transitions import move, release_agent
from chatserver import dispatch
from chatserver.deliveries import to_agent
from routing import hours
from routing.offers import CANDIDATES_TRIED, MISSES_BEFORE_LEAVING_A_QUEUE, WAITING_ROUTED_AT_ONCE, safely
from routing.queues import offer_timeout
from routing.selectors import agent_load, queues_with_room

logger = logging.getLogger(__name__)
S = Callback.State
Actor = CallbackEvent.Actor


def due(now: datetime):
    return Callback.objects.filter(state__in=ROUTABLE_STATES, scheduled_for__lte=now)


def route_due(queue_ids=None, *, now: datetime | None = None, limit: int = WAITING_ROUTED_AT_ONCE) -> None:
    """Offer due callbacks of these queues (all when None) that are open and have a free agent,
    late ones first, each in its own transaction."""
    now = now or timezone.now()
    waiting = due(now) if queue_ids is None else due(now).filter(queue_id__in=list(queue_ids))
    candidates = set(waiting.order_by().values_list("queue_id", flat=True).distinct())
    if not candidates:
        return
    for queue_id in hours.open_queue_ids(queues_with_room(candidates), now=now):
        ids = selectors.late_first(waiting.filter(queue_id=queue_id)).values_list("pk", flat=True)[:limit]
        misses = 0
        for callback_id in list(ids):
            misses = 0 if safely(offer_one, callback_id, now=now) else misses + 1
            if misses == MISSES_BEFORE_LEAVING_A_QUEUE:
                break


@transaction.atomic
def offer_one(callback_id: str, *, now: datetime) -> bool:
    """Offer a due callback to the next eligible agent; whether it was offered."""
    callback = Callback.objects.select_for_update().select_related("queue").get(pk=callback_id)
    if callback.state not in ROUTABLE_STATES or callback.scheduled_for > now:
        return False
    weight = callback.queue.callback_weight
    for candidate in selectors.callback_candidates(callback, now=now)[:CANDIDATES_TRIED]:
        agent = AgentProfile.objects.select_for_update().get(pk=candidate.pk)  # serialises its offers
        if agent_load(agent) + weight > agent.max_chats:
            continue
        offer = CallbackOffer.objects.create(
            callback=callback,
            agent=agent,
            created_at=now,
            expires_at=now + timedelta(seconds=offer_timeout(callback.queue)),
        )
        callback.agent = agent
        callback.weight = weight
        move(callback, S.OFFERED, actor=Actor.SYSTEM, agent_id=agent.pk, now=now, fields=("agent", "weight"))
        dispatch.emit(to_agent(agent.pk, "callbackOffered", selectors.agent_json(callback, offer=offer)))
        return True
    return False


def end_offer(offer_id: int, *, state: str, now: datetime, actor: str = Actor.SYSTEM) -> None:
    """End a pending offer (rejected, expired, its agent gone): the callback waits again (late
    when its window has passed) and goes to the next agent. Called inside a transaction."""
    callback_id = CallbackOffer.objects.filter(pk=offer_id).values_list("callback_id", flat=True).first()
    if callback_id is None:
        return
    callback = Callback.objects.select_for_update().select_related("queue").get(pk=callback_id)
    offer = CallbackOffer.objects.select_for_update().filter(pk=offer_id, state=CallbackOffer.State.PENDING).first()
    if offer is None or callback.state != S.OFFERED:  # answered meanwhile
        return
    offer.state = state
    offer.answered_at = now
    offer.save(update_fields=["state", "answered_at"])
    if state != CallbackOffer.State.REJECTED:
        dispatch.emit(to_agent(offer.agent_id, "callbackOfferWithdrawn", {"callbackId": callback.id}))
    freed = release_agent(callback)
    move(
        callback,
        _waiting_state(callback, now),
        actor=actor,
        agent_id=offer.agent_id,
        now=now,
        detail=f"offer {state}",
        fields=("agent",),
    )
    dispatch.queues_freed(freed)
    offer_one(callback.pk, now=now)


def _waiting_state(callback: Callback, now: datetime) -> str:
    if callback.window_end and callback.window_end <= now:
        return S.EXPIRED
    before = callback.events.filter(to_state=S.OFFERED).order_by("-at", "-pk").values_list("from_state", flat=True)
    return before.first() or S.SCHEDULED


@transaction.atomic
def _end_offer_alone(offer_id: int, *, state: str, now: datetime) -> None:
    end_offer(offer_id, state=state, now=now)


@transaction.atomic
def _expire_window(callback_id: str, *, now: datetime) -> None:
    callback = Callback.objects.select_for_update().select_related("queue").get(pk=callback_id)
    if callback.state in (S.SCHEDULED, S.RETRY_SCHEDULED) and callback.window_end and callback.window_end <= now:
        move(callback, S.EXPIRED, actor=Actor.SYSTEM, now=now, detail="the window passed with nobody free")


@transaction.atomic
def _release_gone_agent(callback_id: str, *, now: datetime) -> None:
    """The agent calling went past the grace period: the callback waits again, due now."""
    callback = Callback.objects.select_for_update().select_related("queue").get(pk=callback_id)
    if callback.state != S.IN_PROGRESS:
        return
    agent_id = callback.agent_id
    callback.scheduled_for = now
    freed = release_agent(callback)
    move(
        callback,
        _waiting_state(callback, now),
        actor=Actor.SYSTEM,
        agent_id=agent_id,
        now=now,
        detail="its agent was gone",
        fields=("agent", "scheduled_for"),
    )
    dispatch.queues_freed(freed)


def sweep(now: datetime | None = None) -> None:
    """What time passing does to callbacks: unanswered offers pass on, offers of agents gone or
    not ready are withdrawn, windows that passed with nobody free make callbacks expired (they
    stay, first in their queue), and due callbacks are offered."""
    now = now or timezone.now()
    pending = CallbackOffer.objects.filter(state=CallbackOffer.State.PENDING)
    for offer_id in list(pending.filter(expires_at__lte=now).values_list("pk", flat=True)[:WAITING_ROUTED_AT_ONCE]):
        safely(_end_offer_alone, offer_id, state=CallbackOffer.State.EXPIRED, now=now)
    available = AgentProfile.objects.connected().ready()
    gone = pending.exclude(agent__in=available).values_list("pk", flat=True)
    for offer_id in list(gone[:WAITING_ROUTED_AT_ONCE]):
        safely(_end_offer_alone, offer_id, state=CallbackOffer.State.WITHDRAWN, now=now)
    passed = Callback.objects.filter(state__in=(S.SCHEDULED, S.RETRY_SCHEDULED), window_end__lte=now)
    for callback_id in list(passed.values_list("pk", flat=True)[:WAITING_ROUTED_AT_ONCE]):
        safely(_expire_window, callback_id, now=now)
    cutoff = now - timedelta(seconds=settings.CHAT_AGENT_GRACE)
    abandoned = Callback.objects.filter(state=S.IN_PROGRESS).filter(
        Q(agent__disconnected_at__lte=cutoff) | Q(agent__isnull=True)
    )
    for callback_id in list(abandoned.values_list("pk", flat=True)[:WAITING_ROUTED_AT_ONCE]):
        safely(_release_gone_agent, callback_id, now=now)
    route_due(now=now)
