"""Business hours of queues: whether a queue is open at a moment, and when it opens next.

A queue's opening ranges are per weekday, in its time zone, several a day; its closed dates
(holidays) close whole days. A queue with no ranges is open all day, every day, less its
closed dates; a queue with neither is always open and costs no further reads. Every function
takes `now` (or a moment) so that the rules can be checked with any clock.
"""

import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from django.utils import timezone

from chatserver import dispatch
from conversations import timeline, wire
from conversations.models import Conversation
from routing.models import ClosedDate, OpeningHours, Queue

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# How far ahead the next opening is looked for (a queue closed longer than this "never opens").
SEARCH_DAYS = 400
MIDNIGHT = time(0)


@dataclass(frozen=True)
class Schedule:
    time_zone: zoneinfo.ZoneInfo
    ranges: dict[int, list[tuple[time, time]]] = field(default_factory=dict)  # weekday -> (opens, closes)
    closed: frozenset[date] = frozenset()

    @property
    def always_open(self) -> bool:
        return not self.ranges and not self.closed

    def ranges_on(self, day: date) -> list[tuple[datetime, datetime]]:
        """The open ranges of one local day, as aware datetimes."""
        if day in self.closed:
            return []
        local = self.ranges.get(day.weekday()) if self.ranges else [(MIDNIGHT, MIDNIGHT)]
        out = []
        for opens, closes in local or []:
            start = datetime.combine(day, opens, tzinfo=self.time_zone)
            end_day = day + timedelta(days=1) if closes == MIDNIGHT else day
            out.append((start, datetime.combine(end_day, closes, tzinfo=self.time_zone)))
        return out

    def open_ranges(self, moment: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Open ranges that end after `moment`, in order, up to SEARCH_DAYS ahead."""
        first = moment.astimezone(self.time_zone).date()
        for offset in range(SEARCH_DAYS):
            for start, end in self.ranges_on(first + timedelta(days=offset)):
                if end > moment:
                    yield start, end


def schedule_of(queue: Queue, *, today: date | None = None) -> Schedule:
    tz = time_zone_of(queue)
    ranges: dict[int, list[tuple[time, time]]] = {}
    for opens, closes, weekday in OpeningHours.objects.filter(queue=queue).values_list("opens", "closes", "weekday"):
        ranges.setdefault(weekday, []).append((opens, closes))
    for day_ranges in ranges.values():
        day_ranges.sort()
    since = (today or timezone.now().astimezone(tz).date()) - timedelta(days=1)
    closed = frozenset(ClosedDate.objects.filter(queue=queue, date__gte=since).values_list("date", flat=True))
    return Schedule(time_zone=tz, ranges=ranges, closed=closed)


def time_zone_of(queue: Queue) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(queue.time_zone or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):  # saved around the admin's validation
        return zoneinfo.ZoneInfo("UTC")


def is_open(schedule: Schedule, moment: datetime) -> bool:
    if schedule.always_open:
        return True
    return any(start <= moment < end for start, end in schedule.ranges_on(moment.astimezone(schedule.time_zone).date()))


def next_opening(schedule: Schedule, moment: datetime) -> datetime | None:
    """`moment` itself when open then, else the start of the next open range; None when the
    queue does not open within SEARCH_DAYS."""
    if schedule.always_open:
        return moment
    for start, _end in schedule.open_ranges(moment):
        return max(start, moment)
    return None


def closes_after(schedule: Schedule, moment: datetime) -> datetime | None:
    """When the open range around `moment` ends (None: always open)."""
    if schedule.always_open:
        return None
    for start, end in schedule.open_ranges(moment):
        if start <= moment:
            return end
        break
    return None


def open_now(queue: Queue, *, now: datetime | None = None) -> bool:
    return is_open(schedule_of(queue), now or timezone.now())


def has_hours(queue_ids) -> set[int]:
    """Which of these queues have opening hours or closed dates (the others are always open)."""
    ids = list(queue_ids)
    return set(OpeningHours.objects.filter(queue_id__in=ids).values_list("queue_id", flat=True)) | set(
        ClosedDate.objects.filter(queue_id__in=ids).values_list("queue_id", flat=True)
    )


def open_queue_ids(queue_ids, *, now: datetime | None = None) -> set[int]:
    """The queues of these that are open at `now` (two queries when none has hours)."""
    ids = {queue_id for queue_id in queue_ids if queue_id is not None}
    limited = has_hours(ids)
    moment = now or timezone.now()
    return (ids - limited) | {q.pk for q in Queue.objects.filter(pk__in=limited) if open_now(q, now=moment)}


def _hhmm(closes: time) -> str:
    return "24:00" if closes == MIDNIGHT else f"{closes:%H:%M}"


def hours_json(queue: Queue, schedule: Schedule | None = None) -> dict:
    """The weekly hours and the coming closed dates, for the widget."""
    schedule = schedule or schedule_of(queue)
    week = []
    for weekday, name in enumerate(WEEKDAYS):
        ranges = schedule.ranges.get(weekday, []) if schedule.ranges else [(MIDNIGHT, MIDNIGHT)]
        week.append(
            {
                "weekday": name,
                "ranges": [
                    {"opens": f"{o:%H:%M}", "closes": "24:00" if c == MIDNIGHT else f"{c:%H:%M}"} for o, c in ranges
                ],
            }
        )
    return {
        "timeZone": str(schedule.time_zone),
        "alwaysOpen": schedule.always_open,
        "week": week,
        "closedDates": sorted(day.isoformat() for day in schedule.closed),
    }


def queue_status(queue: Queue, *, now: datetime) -> dict:
    """What GET /api/customer/queues says of one queue."""
    schedule = schedule_of(queue, today=now.astimezone(time_zone_of(queue)).date())
    open_at_now = is_open(schedule, now)
    opening = None if open_at_now else next_opening(schedule, now)
    closing = closes_after(schedule, now) if open_at_now else None
    return {
        "name": queue.name,
        "description": queue.description,
        "isDefault": queue.is_default,
        "openNow": open_at_now,
        "nextOpening": utc_iso(opening),
        "closesAt": utc_iso(closing),
        "hours": hours_json(queue, schedule),
    }


def utc_iso(moment: datetime | None) -> str | None:
    return wire.iso(moment.astimezone(UTC)) if moment else None


def announce_closed(conversation: Conversation, *, now: datetime | None = None) -> None:
    """The customer of a conversation (row locked) that entered a closed queue hears so, with
    the next opening; the conversation waits in its queue and is offered once it opens."""
    moment = now or timezone.now()
    status = queue_status(conversation.queue, now=moment)
    notice = timeline.activity(
        conversation,
        "outsideBusinessHours",
        info={
            "queue": conversation.queue.name,
            "nextOpening": status["nextOpening"],
            "hours": status["hours"],
            "callback": True,
        },
    )
    conversation.save(update_fields=["last_sequence"])
    dispatch.emit(timeline.broadcast(notice))
