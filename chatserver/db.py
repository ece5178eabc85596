"""Running one unit of database work from async code.

Django's async ORM calls all run on one shared thread and have no transactions, so each event's
database work is one sync function (a service in transaction.atomic) run on that thread."""

import asyncio
import logging
import zlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import OperationalError, close_old_connections, connection, transaction

T = TypeVar("T")
logger = logging.getLogger(__name__)

# PostgreSQL's deadlock_detected and serialization_failure: the transaction was rolled back
# whole, so running it again is safe.
RETRYABLE_SQLSTATES = {"40P01", "40001"}
ATTEMPTS = 3


def _retryable(error: OperationalError) -> bool:
    return getattr(error.__cause__, "sqlstate", None) in RETRYABLE_SQLSTATES


def retrying(fn: Callable[..., T], kwargs: dict[str, Any]) -> T:
    """`fn(**kwargs)`, run again when PostgreSQL rolled it back for a deadlock or a
    serialization failure."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return fn(**kwargs)
        except OperationalError as error:
            if attempt == ATTEMPTS or not _retryable(error):
                raise
            logger.warning("%s: %s; trying again", fn.__name__, error)
    raise AssertionError("unreachable")


def _unit_of_work(fn: Callable[..., T], kwargs: dict[str, Any]) -> T:
    try:
        return fn(**kwargs)
    finally:
        # Gives a pooled PostgreSQL connection back (CONN_MAX_AGE=0) and drops a broken one;
        # the persistent SQLite connection is kept.
        close_old_connections()


async def on_orm_thread(fn: Callable[..., T], /, **kwargs: Any) -> T:
    """Run `fn(**kwargs)` on the ORM thread as it is, then give its connection back."""
    return await sync_to_async(_unit_of_work)(fn, kwargs)


async def run_sync(fn: Callable[..., T], /, **kwargs: Any) -> T:
    """Run `fn(**kwargs)` (a selector or a service) on the ORM thread, retried on a deadlock."""
    return await on_orm_thread(retrying, fn=fn, kwargs=kwargs)


# --- Group commit: many events per transaction and per thread hop (bench/README.md, lever 1) ---
#
# Under load most of a message's cost was the trip to the ORM thread and the commit, paid once
# per event. A lane queues the units of work that arrive while its thread is busy and runs them
# all in the next trip: one outer transaction, each unit in a savepoint of its own (a unit that
# fails is rolled back alone and gets its exception; the others commit). The units of one lane
# run in the order they came, so work keyed by conversation keeps that conversation's order.
# SQLite has one writer: one lane, on the ORM thread everything else uses (one connection, no
# lock waits). PostgreSQL: CHAT_DB_LANES lanes, each with a thread (and pooled connection) of
# its own; a conversation always goes to the same lane, so lanes never wait for each other's
# row locks.

BATCH_LIMIT = 100  # units per transaction: bounds how long one commit holds the lane's locks


@dataclass
class Work:
    """One unit of a batch. `savepoint=False` for a unit that is one atomic block itself (a
    service decorated with transaction.atomic): its own savepoint already rolls it back alone,
    and a second one would only cost two statements and Django's bookkeeping per message."""

    run: Callable[[], Any]
    after_commit: Callable[[], None] | None = None
    savepoint: bool = True


@dataclass
class _Unit:
    work: Work
    future: asyncio.Future


def _run_in_savepoint(work: Work) -> Any:
    run = work.run
    for attempt in range(1, ATTEMPTS + 1):
        try:
            if not work.savepoint:
                return run()
            with transaction.atomic():
                return run()
        except OperationalError as error:
            if attempt == ATTEMPTS or not _retryable(error):
                raise
            logger.warning("%s: %s; trying again", getattr(run, "__name__", "unit"), error)
    raise AssertionError("unreachable")


def run_batch(units: list[Work]) -> list[tuple[bool, Any]]:
    """Run units of work in one transaction, each in a savepoint; [(ok, value or exception)].
    After the commit, each successful unit's `after_commit` runs (in transactions of its own).
    A failed commit fails them all."""
    outcomes: list[tuple[bool, Any]] = []
    try:
        with transaction.atomic():
            for work in units:
                try:
                    outcomes.append((True, _run_in_savepoint(work)))
                except Exception as error:  # noqa: BLE001 - handed to the unit's caller
                    outcomes.append((False, error))
        for work, (ok, _) in zip(units, outcomes, strict=True):
            if ok and work.after_commit is not None:
                try:
                    work.after_commit()
                except Exception:  # its unit is stored: a failed follow-up must not undo the answer
                    logger.exception("the follow-up of a unit of a batch failed")
    finally:
        close_old_connections()
    return outcomes


class Lane:
    """Units of work waiting for one database thread, run in batches in the order they came."""

    def __init__(self, executor: ThreadPoolExecutor | None):
        self.executor = executor  # None: the ORM thread of sync_to_async (thread_sensitive)
        self.waiting: list[_Unit] = []
        self.draining = False
        self.trips = 0  # batches run: a count the tests and the bench read
        self.units = 0

    async def submit(self, work: Work) -> Any:
        future = asyncio.get_running_loop().create_future()
        self.waiting.append(_Unit(work, future))
        if not self.draining:
            self.draining = True
            asyncio.get_running_loop().create_task(self._drain())
        return await future

    async def _trip(self, units: list[_Unit]) -> list[tuple[bool, Any]]:
        work = [unit.work for unit in units]
        if self.executor is None:
            return await sync_to_async(run_batch)(work)
        return await asyncio.get_running_loop().run_in_executor(self.executor, run_batch, work)

    async def _drain(self) -> None:
        try:
            while self.waiting:
                units, self.waiting = self.waiting[:BATCH_LIMIT], self.waiting[BATCH_LIMIT:]
                self.trips += 1
                self.units += len(units)
                try:
                    outcomes = await self._trip(units)
                except Exception as error:  # the commit itself failed: nothing of the batch holds
                    outcomes = [(False, error)] * len(units)
                for unit, (ok, value) in zip(units, outcomes, strict=True):
                    if unit.future.done():  # its caller has gone
                        continue
                    if ok:
                        unit.future.set_result(value)
                    else:
                        unit.future.set_exception(value)
        finally:
            self.draining = False


_lanes: list[Lane] = []


def lanes() -> list[Lane]:
    if not _lanes:
        if connection.vendor == "sqlite":
            _lanes.append(Lane(None))
        else:
            count = max(1, settings.CHAT_DB_LANES)
            _lanes.extend(Lane(ThreadPoolExecutor(1, thread_name_prefix=f"db-lane-{i}")) for i in range(count))
    return _lanes


def lane_for(key: str) -> Lane:
    every = lanes()
    return every[zlib.crc32(key.encode()) % len(every)] if len(every) > 1 else every[0]


async def grouped(key: str, work: Work) -> Any:
    """Run `work.run()` in the next batch of the lane of `key` (a conversation id): committed
    with the work that queued meanwhile; `work.after_commit()` runs once it has committed."""
    return await lane_for(key).submit(work)
