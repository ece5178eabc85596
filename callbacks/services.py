"""Changes to callbacks. Each service is one transaction; every change of state is stored as a
CallbackEvent (who, when, why), and what others must hear is said through chatserver.dispatch.

Lock order: queue, then callback, then conversation, then callback offer, then agent.
"""

import secrets
import zoneinfo
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from agents.models import AgentProfile
from callbacks import scheduling
from callbacks import selectors as callback_selectors
from callbacks.models import OPEN_STATES, Callback, CallbackEvent, CallbackOffer
from callbacks.routing import end_offer
from callbacks.schemas import CallbackRequest, ScheduleCallback
from callbacks.transitions import close, move
from chatserver import dispatch
from chatserver.errors import (
    CallbackNotFound,
    CallbackNotOpen,
    ConversationNotFound,
    InvalidPayload,
    NotOffered,
    RequestIdConflict,
    TooManyCallbacks,
)
from chatserver.ids import digest
from conversations.models import Conversation
from routing import hours
from routing.assignment import agent_participant
from routing.models import Queue
from routing.queues import queue_for_subject

S = Callback.State
Actor = CallbackEvent.Actor


@dataclass
class Requested:
    callback: Callback
    key: str | None  # None when an open request was found by phone and queue: its key is the visitor's
    created: bool


def new_key() -> str:
    return secrets.token_urlsafe(32)


# --- the visitor ----------------------------------------------------------------------------


def _queue_for(subject: str) -> Queue:
    if not subject:
        return queue_for_subject("")
    queue = Queue.objects.filter(name__iexact=subject).first()
    if queue is None:
        raise InvalidPayload("No such queue.", fields={"subject": f"no queue is named '{subject[:100]}'"})
    return queue


def _rate_limit(*, phone: str, client_ip: str | None, now: datetime) -> None:
    """Stored requests are what is counted, so the limits hold across processes and restarts."""
    by_phone = Callback.objects.filter(
        phone=phone, created_at__gte=now - timedelta(seconds=settings.CHAT_CALLBACK_PHONE_WINDOW)
    ).count()
    if by_phone >= settings.CHAT_CALLBACK_MAX_PER_PHONE:
        raise TooManyCallbacks(
            "Too many callbacks were asked for this phone number lately; try again later.", fields={"phone": "limit"}
        )
    if client_ip:
        by_address = Callback.objects.filter(
            client_ip=client_ip, created_at__gte=now - timedelta(seconds=settings.CHAT_CALLBACK_ADDRESS_WINDOW)
        ).count()
        if by_address >= settings.CHAT_CALLBACK_MAX_PER_ADDRESS:
            raise TooManyCallbacks("Too many callback requests from your address; try again later.")


def _replayed(request: CallbackRequest, queue: Queue) -> Requested | None:
    """The request an earlier call with this requestId made (its key renewed: the first answer
    may have been lost), or the open one of this phone and queue (its key stays the visitor's)."""
    if request.request_id:
        earlier = Callback.objects.select_for_update().filter(request_id=request.request_id).first()
        if earlier is not None:
            if (earlier.phone, earlier.queue_id, earlier.first_name) != (request.phone, queue.pk, request.first_name):
                raise RequestIdConflict()
            key = new_key()
            earlier.key_hash = digest(key)
            earlier.save(update_fields=["key_hash"])
            return Requested(callback=earlier, key=key, created=False)
    open_one = Callback.objects.filter(phone=request.phone, queue=queue, state__in=OPEN_STATES).first()
    if open_one is not None:
        return Requested(callback=open_one, key=None, created=False)
    return None


def _conversation_of(conversation_id: str | None) -> Conversation | None:
    if not conversation_id:
        return None
    conversation = Conversation.objects.filter(pk=conversation_id).first()
    if conversation is None:
        raise InvalidPayload("No such conversation.", fields={"conversationId": "no such conversation"})
    return conversation


def callback_request(*, request: CallbackRequest, client_ip: str | None, now: datetime | None = None) -> Requested:
    """POST /api/customer/callback: store a request and schedule it (or find the open one)."""
    now = now or timezone.now()
    try:
        with transaction.atomic():
            return _request(request=request, client_ip=client_ip, now=now)
    except IntegrityError:  # the same requestId, or phone and queue, at the same moment elsewhere
        with transaction.atomic():
            found = _replayed(request, _queue_for(request.subject))
        if found is None:
            raise
        return found


def _request(*, request: CallbackRequest, client_ip: str | None, now: datetime) -> Requested:
    queue = Queue.objects.select_for_update().get(pk=_queue_for(request.subject).pk)
    if found := _replayed(request, queue):
        return found
    conversation = _conversation_of(request.conversation_id)
    _rate_limit(phone=request.phone, client_ip=client_ip, now=now)
    window = None if request.preferred_time == "asap" else (request.preferred_time.start, request.preferred_time.end)
    zone = "" if request.preferred_time == "asap" else request.preferred_time.time_zone
    return _create(
        queue=queue,
        plan=scheduling.plan(queue=queue, window=window, now=now),
        now=now,
        actor=Actor.CUSTOMER,
        conversation=conversation,
        first_name=request.first_name,
        last_name=request.last_name,
        phone=request.phone,
        email=request.email,
        language=request.language,
        comment=request.comment,
        time_zone=zone,
        request_id=request.request_id,
        client_ip=client_ip or None,
    )


def _create(*, queue: Queue, plan: scheduling.Plan, now: datetime, actor: str, agent_id=None, **fields) -> Requested:
    key = new_key()
    callback = Callback.objects.create(
        queue=queue,
        key_hash=digest(key),
        scheduled_for=plan.scheduled_for,
        window_start=plan.window_start,
        window_end=plan.window_end,
        adjusted=plan.adjusted,
        weight=queue.callback_weight,
        created_at=now,
        updated_at=now,
        scheduled_by_id=agent_id,
        **fields,
    )
    CallbackEvent.objects.create(callback=callback, at=now, to_state=S.REQUESTED, actor=actor, agent_id=agent_id)
    detail = dict(Callback.Adjusted.choices)[plan.adjusted] if plan.adjusted else "as asked"
    move(callback, S.SCHEDULED, actor=Actor.SYSTEM, now=now, detail=detail)
    if plan.scheduled_for <= now:
        dispatch.queues_freed([queue.pk])  # due now: offered right after this commits
    return Requested(callback=callback, key=key, created=True)


@transaction.atomic
def callback_cancel_by_customer(*, callback_id: str, key: str, now: datetime | None = None) -> Callback:
    """DELETE /api/customer/callback/<id>: the visitor no longer wants the call."""
    now = now or timezone.now()
    callback_selectors.callback_for_key(callback_id=callback_id, key=key)
    callback = Callback.objects.select_for_update().select_related("queue").get(pk=callback_id)
    if not callback.is_open:
        raise CallbackNotOpen("This callback is already closed.")
    close(callback, S.CANCELLED, actor=Actor.CUSTOMER, now=now, detail="cancelled by the visitor")
    return callback


# --- agents ---------------------------------------------------------------------------------


def _locked(callback_id: str) -> Callback:
    callback = Callback.objects.select_for_update().select_related("queue").filter(pk=callback_id).first()
    if callback is None:
        raise CallbackNotFound("No such callback.")
    return callback


@transaction.atomic
def callback_accept(*, agent_id: int, callback_id: str, now: datetime | None = None) -> Callback:
    now = now or timezone.now()
    callback = _locked(callback_id)
    offer = (
        CallbackOffer.objects.select_for_update()
        .filter(callback=callback, agent_id=agent_id, state=CallbackOffer.State.PENDING)
        .first()
    )
    if offer is None or offer.expires_at < now or callback.state != S.OFFERED:
        raise NotOffered("This callback is not (or no longer) offered to you.")
    offer.state = CallbackOffer.State.ACCEPTED
    offer.answered_at = now
    offer.save(update_fields=["state", "answered_at"])
    move(callback, S.IN_PROGRESS, actor=Actor.AGENT, agent_id=agent_id, now=now)
    AgentProfile.objects.filter(pk=agent_id).update(idle_since=now)
    return callback


@transaction.atomic
def callback_reject(*, agent_id: int, callback_id: str, now: datetime | None = None) -> None:
    now = now or timezone.now()
    offer_id = (
        CallbackOffer.objects.filter(callback_id=callback_id, agent_id=agent_id, state=CallbackOffer.State.PENDING)
        .values_list("pk", flat=True)
        .first()
    )
    if offer_id is None:
        raise NotOffered("This callback is not (or no longer) offered to you.")
    end_offer(offer_id, state=CallbackOffer.State.REJECTED, now=now, actor=Actor.AGENT)


@transaction.atomic
def callback_outcome(
    *, agent_id: int, callback_id: str, outcome: str, note: str = "", now: datetime | None = None
) -> Callback:
    """The agent says how the call went. No answer and busy are tried again after the queue's
    retry delay, until its maximum attempts: then the callback has failed."""
    now = now or timezone.now()
    callback = _locked(callback_id)
    if callback.state != S.IN_PROGRESS or callback.agent_id != agent_id:
        raise CallbackNotOpen("This callback is not in your hands.")
    callback.attempts += 1
    Outcome = CallbackEvent.Outcome  # noqa: N806
    if outcome == Outcome.COMPLETED:
        to_state = S.COMPLETED
    elif outcome in (Outcome.NO_ANSWER, Outcome.BUSY):
        if callback.attempts >= callback.queue.callback_max_attempts:
            to_state = S.FAILED
        else:
            to_state = S.RETRY_SCHEDULED
            callback.scheduled_for = scheduling.retry_at(callback.queue, now=now)
    elif outcome == Outcome.WRONG_NUMBER:
        to_state = S.FAILED
    else:
        to_state = S.CANCELLED
    close(callback, to_state, actor=Actor.AGENT, agent_id=agent_id, now=now, outcome=outcome, note=note)
    return callback


@transaction.atomic
def callback_schedule_from_chat(*, agent_id: int, request: ScheduleCallback, now: datetime | None = None) -> Requested:
    """An agent of a chat schedules a call back to its customer ("tomorrow at 10")."""
    now = now or timezone.now()
    conversation = Conversation.objects.filter(pk=request.conversation_id).first()
    if conversation is None:
        raise ConversationNotFound()
    agent_participant(conversation, agent_id)  # only an agent of the chat
    queue = Queue.objects.select_for_update().get(pk=(conversation.queue or queue_for_subject("")).pk)
    open_one = Callback.objects.filter(phone=request.phone, queue=queue, state__in=OPEN_STATES).first()
    if open_one is not None:
        return Requested(callback=open_one, key=None, created=False)
    at = request.at
    if at is not None and at.tzinfo is None:
        if not request.time_zone:
            raise InvalidPayload("Give the time with an offset or a timeZone.", fields={"at": "needs an offset"})
        at = at.replace(tzinfo=zoneinfo.ZoneInfo(request.time_zone))
    window = (at, at + scheduling.slot_length()) if at else None
    return _create(
        queue=queue,
        plan=scheduling.plan(queue=queue, window=window, now=now),
        now=now,
        actor=Actor.AGENT,
        agent_id=agent_id,
        conversation=conversation,
        first_name=(request.first_name or conversation.customer_first_name or "Customer")[:100],
        last_name=conversation.customer_last_name,
        phone=request.phone,
        email=conversation.customer_email,
        language=conversation.language,
        comment=request.comment,
        time_zone=request.time_zone,
    )


# --- operators ------------------------------------------------------------------------------


@transaction.atomic
def callback_reschedule(*, callback_id: str, at: datetime, user=None, now: datetime | None = None) -> Callback:
    """An operator moves a callback (open, failed, expired or cancelled) to `at` (the next
    opening from then); it is offered again when due. Not while an agent is calling."""
    now = now or timezone.now()
    callback = _locked(callback_id)
    if callback.state == S.IN_PROGRESS:
        raise CallbackNotOpen("An agent is calling this customer now.")
    callback.scheduled_for = hours.next_opening(hours.schedule_of(callback.queue), max(at, now)) or at
    if callback.window_end and callback.window_end <= callback.scheduled_for:
        callback.window_start = callback.window_end = None
    close(
        callback,
        S.SCHEDULED,
        actor=Actor.OPERATOR,
        user=user,
        now=now,
        detail=f"rescheduled for {callback.scheduled_for:%Y-%m-%d %H:%M %Z}",
    )
    Callback.objects.filter(pk=callback.pk).update(window_start=callback.window_start, window_end=callback.window_end)
    if callback.scheduled_for <= now:
        dispatch.queues_freed([callback.queue_id])
    return callback


@transaction.atomic
def callback_cancel(*, callback_id: str, user=None, note: str = "", now: datetime | None = None) -> Callback:
    now = now or timezone.now()
    callback = _locked(callback_id)
    if not callback.is_open:
        raise CallbackNotOpen("This callback is already closed.")
    close(callback, S.CANCELLED, actor=Actor.OPERATOR, user=user, now=now, note=note, detail="cancelled in admin")
    return callback
