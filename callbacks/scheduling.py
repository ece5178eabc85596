"""When a callback is called: the visitor's window, the queue's hours and its cap per slot.

Plain rules over `now`, so they are tested with any clock. The caller holds the queue's row
lock, so two requests cannot both take the last place of a slot.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings

from callbacks.models import OPEN_STATES, Callback
from chatserver.errors import InvalidPayload, SlotFull
from routing import hours
from routing.models import Queue

# How many slots are looked at for a free one before giving up.
SLOTS_SEARCHED = 2000


@dataclass(frozen=True)
class Plan:
    scheduled_for: datetime
    window_start: datetime | None
    window_end: datetime | None
    adjusted: str  # Callback.Adjusted


def slot_length() -> timedelta:
    return timedelta(minutes=settings.CHAT_CALLBACK_SLOT_MINUTES)


def slot_of(moment: datetime) -> datetime:
    """The start of the slot holding `moment` (slots are aligned on the hour, in UTC)."""
    length = int(slot_length().total_seconds())
    epoch = int(moment.timestamp())
    return datetime.fromtimestamp(epoch - epoch % length, tz=UTC)


def taken_in_slot(queue: Queue, start: datetime) -> int:
    return Callback.objects.filter(
        queue=queue, state__in=OPEN_STATES, scheduled_for__gte=start, scheduled_for__lt=start + slot_length()
    ).count()


def free_slot(queue: Queue, schedule: hours.Schedule, moment: datetime) -> datetime | None:
    """`moment`, or the first open moment after it whose slot has room (CHAT_CALLBACK_SLOT_MINUTES,
    Queue.callbacks_per_slot)."""
    cap = queue.callbacks_per_slot
    candidate: datetime | None = moment
    for _ in range(SLOTS_SEARCHED):
        if candidate is None or not cap or taken_in_slot(queue, slot_of(candidate)) < cap:
            return candidate
        candidate = hours.next_opening(schedule, slot_of(candidate) + slot_length())
    return None


def plan(*, queue: Queue, window: tuple[datetime, datetime] | None, now: datetime) -> Plan:
    """When to call. A window entirely outside the queue's hours moves to the next opening,
    keeping its length; a window in the past is refused; a full slot moves an "as soon as
    possible" request to the next free slot, and a window with no free slot is SLOT_FULL."""
    schedule = hours.schedule_of(queue)
    start, end = window if window else (now, None)
    if end is not None:
        if end <= now:
            raise InvalidPayload("The preferred window is in the past.", fields={"preferredTime.end": "is in the past"})
        if start > now + timedelta(days=settings.CHAT_CALLBACK_MAX_DAYS_AHEAD):
            days = settings.CHAT_CALLBACK_MAX_DAYS_AHEAD
            raise InvalidPayload(
                f"Callbacks can be asked for up to {days} days ahead.",
                fields={"preferredTime.start": f"is more than {days} days ahead"},
            )
    desired = max(start, now)
    opening = hours.next_opening(schedule, desired)
    if opening is None:
        raise InvalidPayload("This queue has no opening hours ahead.", fields={"subject": "the queue never opens"})
    adjusted = Callback.Adjusted.NONE
    if end is not None and opening >= end:
        start, end = opening, opening + (end - start)
        adjusted = Callback.Adjusted.OUTSIDE_HOURS
    elif end is None and opening > desired:
        adjusted = Callback.Adjusted.OUTSIDE_HOURS
    free = free_slot(queue, schedule, opening)
    if free != opening:
        if free is None or (end is not None and free >= end):
            raise SlotFull(next_free_slot=hours.utc_iso(free))
        if end is None:
            adjusted = Callback.Adjusted.SLOT_FULL
    return Plan(
        scheduled_for=free,
        window_start=start if window else None,
        window_end=end,
        adjusted=adjusted,
    )


def retry_at(queue: Queue, *, now: datetime) -> datetime:
    """The next attempt: the queue's retry delay on, at the next opening."""
    later = now + timedelta(seconds=queue.callback_retry_delay_seconds)
    return hours.next_opening(hours.schedule_of(queue), later) or later
