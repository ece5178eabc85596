"""The one seam for what happened.

Services say what happened while their transaction runs, and nothing of it leaves before the
transaction commits (Django's on_commit: a rolled-back transaction says nothing):

- `emit(delivery, ...)`: live events for people (chatserver.realtime sends them);
- `queues_freed(queue_ids)`: a slot may be free in these queues; their waiting conversations
  are offered once, after commit, by the follow-up that routing registers;
- `wake(job)`: background work was stored (chatserver.worker does it).

From async code, `perform(service, ...)` runs the service and its follow-ups in one trip to the
ORM thread and gives back its value and deliveries, for the handler to publish in the order
its client expects. From sync code (a REST view, an admin action, a command, a webhook) a plain
service call is enough: what it said is followed up and sent right after its commit.
"""

import logging
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from django.db import transaction

from chatserver.db import Work, grouped, on_orm_thread, retrying
from chatserver.deliveries import Delivery

logger = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass
class Happened:
    """What one unit of work said, once it committed."""

    deliveries: list[Delivery] = field(default_factory=list)
    freed_queue_ids: set[int] = field(default_factory=set)
    jobs: set[str] = field(default_factory=set)


@dataclass
class Performed(Generic[T]):
    value: T
    deliveries: list[Delivery]


_collecting: ContextVar[Happened | None] = ContextVar("dispatch_collecting", default=None)
_queues_freed_handlers: list[Callable[[set[int]], None]] = []


def on_queues_freed(handler: Callable[[set[int]], None]) -> None:
    """Register the follow-up for freed queue slots (routing does, when its app is ready)."""
    if handler not in _queues_freed_handlers:
        _queues_freed_handlers.append(handler)


def emit(*deliveries: Delivery) -> None:
    _record(lambda happened: happened.deliveries.extend(deliveries))


def queues_freed(queue_ids) -> None:
    ids = {queue_id for queue_id in queue_ids if queue_id is not None}
    if ids:
        _record(lambda happened: happened.freed_queue_ids.update(ids))


def wake(job: str) -> None:
    _record(lambda happened: happened.jobs.add(job))


def _record(note: Callable[[Happened], None]) -> None:
    collecting = _collecting.get()
    if collecting is not None:
        transaction.on_commit(lambda: note(collecting))
    else:  # sync code outside perform(): follow up and send as soon as this commits
        transaction.on_commit(lambda: _settle_and_send(note))


def _settle(happened: Happened) -> None:
    """Run the follow-ups, each in transactions of its own, until nothing new is freed."""
    token = _collecting.set(happened)
    try:
        while happened.freed_queue_ids:
            queue_ids, happened.freed_queue_ids = happened.freed_queue_ids, set()
            for handler in _queues_freed_handlers:
                handler(queue_ids)
    finally:
        _collecting.reset(token)


def _settle_and_send(note: Callable[[Happened], None]) -> None:
    from chatserver import realtime, worker

    happened = Happened()
    note(happened)
    _settle(happened)
    realtime.publish_from_sync(happened.deliveries)
    worker.wake_from_sync(happened.jobs)


def _perform(fn: Callable[..., T], kwargs: dict[str, Any]) -> tuple[T, Happened]:
    happened = Happened()
    token = _collecting.set(happened)
    try:
        value = retrying(fn, kwargs)
        _settle(happened)
    finally:
        _collecting.reset(token)
    return value, happened


def perform_sync(fn: Callable[..., T], /, **kwargs: Any) -> Performed[T]:
    """Run a service and its follow-ups here and give back what it would send, without sending
    it (for sync code that sends it itself, and for tests)."""
    value, happened = _perform(fn, kwargs)
    return Performed(value, happened.deliveries)


async def perform(fn: Callable[..., T], /, **kwargs: Any) -> Performed[T]:
    """Run a service from async code: it, and the follow-ups of what it said, on the ORM thread
    in one trip; the deliveries come back for the caller to publish (background jobs it
    stored are woken here)."""
    from chatserver import worker

    value, happened = await on_orm_thread(_perform, fn=fn, kwargs=kwargs)
    if happened.jobs:
        await worker.wake(happened.jobs)
    return Performed(value, happened.deliveries)


async def perform_grouped(key: str, fn: Callable[..., T], /, *, atomic: bool = False, **kwargs: Any) -> Performed[T]:
    """`perform()` for the hot path (sendMessage): the service runs in the next group commit of
    the lane of `key` (its conversation id), with whatever else queued meanwhile (see
    chatserver.db.grouped); what it said comes back once the batch has committed. `atomic`:
    the service changes nothing outside one transaction.atomic block of its own, so it needs
    no savepoint of the batch's around it."""
    from chatserver import worker

    happened = Happened()

    def run() -> T:
        token = _collecting.set(happened)
        try:
            return fn(**kwargs)
        finally:
            _collecting.reset(token)

    value = await grouped(key, Work(run, after_commit=lambda: _settle(happened), savepoint=not atomic))
    if happened.jobs:
        await worker.wake(happened.jobs)
    return Performed(value, happened.deliveries)
