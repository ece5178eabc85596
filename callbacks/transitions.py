"""Moving a callback from one state to the next (its row locked by the caller): each change
is stored as a CallbackEvent, told to the visitor's chat when it came from one, and an agent
that held it is told and freed."""

from datetime import datetime

from callbacks import selectors as callback_selectors
from callbacks.models import ROUTABLE_STATES, Callback, CallbackEvent, CallbackOffer
from chatserver import dispatch
from chatserver.deliveries import to_agent
from conversations import timeline
from conversations.models import Conversation
from routing.selectors import queue_ids_of

S = Callback.State
# What the visitor hears in its chat (a callbackState activity); the others are internal.
TOLD_TO_THE_VISITOR = {S.SCHEDULED, S.RETRY_SCHEDULED, S.IN_PROGRESS, S.COMPLETED, S.FAILED, S.CANCELLED, S.EXPIRED}


def move(
    callback: Callback,
    to_state: str,
    *,
    actor: str,
    now: datetime,
    agent_id: int | None = None,
    user=None,
    outcome: str = "",
    note: str = "",
    detail: str = "",
    fields: tuple[str, ...] = (),
) -> None:
    """Change a callback's state (row locked by the caller) and store the change."""
    CallbackEvent.objects.create(
        callback=callback,
        at=now,
        from_state=callback.state,
        to_state=to_state,
        actor=actor,
        agent_id=agent_id,
        user=user,
        outcome=outcome,
        note=note,
        detail=detail[:200],
    )
    bounced = callback.state == S.OFFERED and to_state in ROUTABLE_STATES  # an offer passed on: nothing new
    callback.state = to_state
    callback.updated_at = now
    callback.save(update_fields=["state", "updated_at", *fields])
    if to_state in TOLD_TO_THE_VISITOR and not bounced:
        tell_the_chat(callback)


def tell_the_chat(callback: Callback) -> None:
    """A callback asked for from a chat shows its state there, while the chat is open."""
    if not callback.conversation_id:
        return
    conversation = Conversation.objects.select_for_update().filter(pk=callback.conversation_id).first()
    if conversation is None or not conversation.is_open:
        return
    notice = timeline.activity(
        conversation,
        "callbackState",
        info={
            "callbackId": callback.id,
            "state": callback.state,
            "scheduledFor": callback_selectors.customer_json(callback)["scheduledFor"],
        },
    )
    conversation.save(update_fields=["last_sequence"])
    dispatch.emit(timeline.broadcast(notice))


def release_agent(callback: Callback) -> list[int]:
    """Its agent's capacity is free again: the queues to offer waiting work of."""
    agent_id = callback.agent_id
    callback.agent = None
    return queue_ids_of(agent_id) if agent_id else []


def withdraw_pending(callback: Callback, *, state: str, now: datetime) -> CallbackOffer | None:
    offer = (
        CallbackOffer.objects.select_for_update().filter(callback=callback, state=CallbackOffer.State.PENDING).first()
    )
    if offer is not None:
        offer.state = state
        offer.answered_at = now
        offer.save(update_fields=["state", "answered_at"])
        if state != CallbackOffer.State.ACCEPTED:
            dispatch.emit(to_agent(offer.agent_id, "callbackOfferWithdrawn", {"callbackId": callback.id}))
    return offer


def close(callback: Callback, to_state: str, *, actor: str, now: datetime, **change) -> None:
    """Into a state that holds no agent: any pending offer is withdrawn, the agent told and freed."""
    withdraw_pending(callback, state=CallbackOffer.State.WITHDRAWN, now=now)
    agent_id = callback.agent_id
    freed = release_agent(callback)
    move(callback, to_state, actor=actor, now=now, fields=("agent", "scheduled_for", "attempts"), **change)
    if agent_id:
        dispatch.emit(to_agent(agent_id, "callbackUpdated", {"callback": callback_selectors.agent_json(callback)}))
    dispatch.queues_freed(freed)
