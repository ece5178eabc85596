"""Callbacks' reads: the capacity they take, who may be offered one, and what people see of one."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Case, F, IntegerField, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce
from django.utils.crypto import constant_time_compare

from agents.models import AgentProfile
from callbacks import phones
from callbacks.models import HELD_STATES, OPEN_STATES, Callback, CallbackEvent, CallbackOffer
from chatserver.errors import CallbackNotFound
from chatserver.ids import digest
from conversations.models import Message
from routing.hours import utc_iso
from routing.selectors import with_load

# At most this many chat messages of the conversation a callback came from are shown to its agent.
TRANSCRIPT_SHOWN = 200


def callback_load(agent_ref):
    """The capacity an agent's offered and accepted callbacks take (their weights), as an
    expression for routing.selectors.with_load."""
    weights = (
        Callback.objects.filter(agent=agent_ref, state__in=HELD_STATES)
        .order_by()
        .values("agent")
        .annotate(w=Sum("weight"))
        .values("w")
    )
    return Coalesce(Subquery(weights), Value(0))


def callback_candidates(callback: Callback, *, now: datetime):
    """Ready, connected agents of the callback's queue with room for its weight, longest idle
    first; not those who declined or let it pass lately (CHAT_REOFFER_AFTER)."""
    lately = now - timedelta(seconds=settings.CHAT_REOFFER_AFTER)
    declined_lately = CallbackOffer.objects.filter(
        callback=callback,
        state__in=[CallbackOffer.State.REJECTED, CallbackOffer.State.EXPIRED, CallbackOffer.State.WITHDRAWN],
        answered_at__gte=lately,
    ).values("agent")
    return (
        with_load(AgentProfile.objects.connected().ready().filter(queues=callback.queue_id))
        .filter(load__lte=F("max_chats") - callback.queue.callback_weight)
        .exclude(pk__in=declined_lately)
        .order_by(F("idle_since").asc(nulls_first=True), "pk")
    )


def lateness():
    """0 for expired callbacks (their window passed with nobody free), 1 for the others."""
    return Case(When(state=Callback.State.EXPIRED, then=0), default=1, output_field=IntegerField())


def late_first(callbacks):
    """Expired callbacks first, then by scheduled time."""
    return callbacks.order_by(lateness().asc(), "scheduled_for")


def callback_for_key(*, callback_id: str, key: str) -> Callback:
    callback = Callback.objects.select_related("queue").filter(pk=callback_id).first()
    if callback is None or not key or not constant_time_compare(digest(key), callback.key_hash):
        raise CallbackNotFound()
    return callback


def customer_json(callback: Callback) -> dict:
    """What the visitor sees of its callback."""
    return {
        "callbackId": callback.id,
        "state": callback.state,
        "scheduledFor": utc_iso(callback.scheduled_for),
        "window": {"start": utc_iso(callback.window_start), "end": utc_iso(callback.window_end)}
        if callback.window_start
        else None,
        "timeZone": callback.time_zone or None,
        "adjusted": callback.adjusted or None,
        "queue": callback.queue.name,
        "attempts": callback.attempts,
        "phone": callback.phone,
    }


def attempts_of(callback: Callback) -> list[dict]:
    return [
        {
            "at": utc_iso(event.at),
            "outcome": event.outcome,
            "note": event.note,
            "agent": event.agent.display_name if event.agent else None,
        }
        for event in callback.events.exclude(outcome="").select_related("agent__user")
    ]


def transcript_of(callback: Callback) -> list[dict]:
    if not callback.conversation_id:
        return []
    messages = (
        Message.objects.filter(conversation_id=callback.conversation_id, type=Message.Type.CHAT)
        .exclude(tag="whisper")
        .order_by("-sequence")[:TRANSCRIPT_SHOWN]
    )
    return [
        {"from": m.sender_name, "role": m.sender_role, "text": m.text, "at": utc_iso(m.created_at)}
        for m in reversed(list(messages))
    ]


def agent_json(callback: Callback, *, offer: CallbackOffer | None = None) -> dict:
    """What an agent sees of a callback offered to it or in its hands."""
    return {
        "callbackId": callback.id,
        "state": callback.state,
        "firstName": callback.first_name,
        "lastName": callback.last_name,
        "name": callback.name,
        "phone": callback.phone,
        "phoneDisplay": phones.readable(callback.phone),
        "email": callback.email,
        "language": callback.language,
        "comment": callback.comment,
        "queue": callback.queue.name,
        "scheduledFor": utc_iso(callback.scheduled_for),
        "window": {"start": utc_iso(callback.window_start), "end": utc_iso(callback.window_end)}
        if callback.window_start
        else None,
        "timeZone": callback.time_zone or None,
        "late": callback.state == Callback.State.EXPIRED
        or bool(callback.window_end and offer and offer.created_at > callback.window_end),
        "attempts": attempts_of(callback),
        "maxAttempts": callback.queue.callback_max_attempts,
        "conversationId": callback.conversation_id,
        "transcript": transcript_of(callback),
        "expiresAt": utc_iso(offer.expires_at) if offer else None,
        "createdAt": utc_iso(callback.created_at),
    }


def agent_callbacks(*, agent_id: int, now: datetime) -> dict:
    """An agent's pending callback offers and its callbacks in progress (the desk asks on connect)."""
    offers = CallbackOffer.objects.filter(
        agent_id=agent_id, state=CallbackOffer.State.PENDING, expires_at__gt=now
    ).select_related("callback__queue")
    tasks = Callback.objects.filter(agent_id=agent_id, state=Callback.State.IN_PROGRESS).select_related("queue")
    return {
        "offers": [agent_json(offer.callback, offer=offer) for offer in offers],
        "tasks": [agent_json(callback) for callback in tasks],
    }


def open_callbacks_of_queue(queue_id: int):
    return late_first(Callback.objects.filter(queue_id=queue_id, state__in=OPEN_STATES))


def history_of(callback: Callback):
    return CallbackEvent.objects.filter(callback=callback).select_related("agent__user", "user")
