"""Business hours of queues, on a controlled clock."""

from datetime import time, timedelta

import pytest

from routing import hours
from routing.models import OpeningHours, Queue
from tests.callbacks.conftest import MONDAY_10, at

pytestmark = pytest.mark.django_db


def test_a_queue_without_hours_is_always_open():
    queue = Queue.objects.create(name="support")
    schedule = hours.schedule_of(queue)
    assert hours.is_open(schedule, MONDAY_10)
    assert hours.next_opening(schedule, MONDAY_10) == MONDAY_10
    assert hours.open_queue_ids({queue.pk}, now=MONDAY_10) == {queue.pk}


def test_open_within_a_range_and_closed_at_lunch(office_queue):
    schedule = hours.schedule_of(office_queue, today=MONDAY_10.date())
    assert hours.is_open(schedule, at(7, 10))
    assert hours.closes_after(schedule, at(7, 10)) == at(7, 12)
    assert not hours.is_open(schedule, at(7, 12, 30))
    assert hours.next_opening(schedule, at(7, 12, 30)) == at(7, 13)
    assert hours.open_queue_ids({office_queue.pk}, now=at(7, 12, 30)) == set()


def test_after_friday_closing_the_next_opening_is_monday_morning(office_queue):
    schedule = hours.schedule_of(office_queue, today=MONDAY_10.date())
    assert hours.next_opening(schedule, at(11, 17, 5)) == at(14, 9)


def test_a_closed_date_is_skipped(office_queue):
    schedule = hours.schedule_of(office_queue, today=MONDAY_10.date())
    assert not hours.is_open(schedule, at(25, 10))
    # Thursday 24th after closing: Friday 25th is Christmas, so Monday 28th.
    assert hours.next_opening(schedule, at(24, 18)) == at(28, 9)


def test_a_range_closing_at_midnight_runs_to_the_end_of_the_day():
    queue = Queue.objects.create(name="late", time_zone="Europe/Berlin")
    OpeningHours.objects.create(queue=queue, weekday=0, opens=time(18), closes=time(0))
    schedule = hours.schedule_of(queue)
    assert hours.is_open(schedule, at(7, 23, 59))
    assert not hours.is_open(schedule, at(8, 0, 1))
    assert hours.next_opening(schedule, at(8, 0, 1)) == at(14, 18)


def test_the_widget_status_says_closed_and_when_it_opens(office_queue):
    status = hours.queue_status(office_queue, now=at(7, 12, 30))
    assert status["openNow"] is False
    assert status["nextOpening"] == "2026-12-07T12:00:00Z"  # 13:00 in Berlin
    assert status["hours"]["timeZone"] == "Europe/Berlin"
    assert status["hours"]["week"][0]["ranges"] == [
        {"opens": "09:00", "closes": "12:00"},
        {"opens": "13:00", "closes": "17:00"},
    ]
    assert status["hours"]["week"][6]["ranges"] == []
    assert "2026-12-25" in status["hours"]["closedDates"]
    open_status = hours.queue_status(office_queue, now=at(7, 10))
    assert (open_status["openNow"], open_status["nextOpening"], open_status["closesAt"]) == (
        True,
        None,
        "2026-12-07T11:00:00Z",
    )


def test_a_week_is_searched_no_further_than_needed(office_queue, django_assert_max_num_queries):
    schedule = hours.schedule_of(office_queue)
    with django_assert_max_num_queries(0):
        assert hours.next_opening(schedule, at(11, 18) + timedelta(days=1)) == at(14, 9)
