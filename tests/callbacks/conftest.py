"""A controlled clock and the queues of the callback stories."""

import zoneinfo
from datetime import UTC, datetime, time

import pytest
from django.utils import timezone

from agents.models import AgentConnection, AgentProfile, ServerProcess
from agents.services import agent_create
from routing.models import ClosedDate, OpeningHours, Queue

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
# Monday 7 December 2026, 10:00 in Berlin (09:00 UTC).
MONDAY_10 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment of December 2026 in Berlin."""
    return datetime(2026, 12, day, hour, minute, tzinfo=BERLIN)


@pytest.fixture
def office_queue(db) -> Queue:
    """billing: Monday to Friday 09:00-12:00 and 13:00-17:00 in Berlin, closed on 25 December."""
    queue = Queue.objects.create(name="billing", time_zone="Europe/Berlin", callback_retry_delay_seconds=600)
    for weekday in range(5):
        OpeningHours.objects.create(queue=queue, weekday=weekday, opens=time(9), closes=time(12))
        OpeningHours.objects.create(queue=queue, weekday=weekday, opens=time(13), closes=time(17))
    ClosedDate.objects.create(queue=queue, date=datetime(2026, 12, 25).date(), reason="Christmas")
    return queue


@pytest.fixture
def open_queue(db) -> Queue:
    """support: no hours, always open."""
    return Queue.objects.create(name="support", callback_retry_delay_seconds=300, callback_max_attempts=2)


def ready_agent(username: str, *, queues: list[str], max_chats: int = 3) -> AgentProfile:
    """An agent with a live /agent connection, set ready."""
    agent = agent_create(username=username, password="correct horse battery staple", queues=queues, max_chats=max_chats)
    AgentConnection.objects.create(sid=f"sid-{username}", agent=agent, server_id="test", seen_at=timezone.now())
    ServerProcess.objects.update_or_create(server_id="test", defaults={"seen_at": timezone.now()})  # a live process
    AgentProfile.objects.filter(pk=agent.pk).update(state=AgentProfile.State.READY, idle_since=timezone.now())
    agent.refresh_from_db()
    return agent
