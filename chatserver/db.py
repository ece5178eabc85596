"""Running one unit of database work from async code.

Django's async ORM calls all run on one shared thread and have no transactions, so each event's
database work is one sync function (a service in transaction.atomic) run on that thread."""

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from asgiref.sync import sync_to_async
from django.db import OperationalError, close_old_connections

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
