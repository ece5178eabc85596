"""Running one unit of database work from async code (see FIELD-NOTES: ORM from async code)."""

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


def _unit_of_work(fn: Callable[..., T], kwargs: dict[str, Any]) -> T:
    try:
        for attempt in range(1, ATTEMPTS + 1):
            try:
                return fn(**kwargs)
            except OperationalError as error:
                if attempt == ATTEMPTS or not _retryable(error):
                    raise
                logger.warning("%s: %s; trying again", fn.__name__, error)
        raise AssertionError("unreachable")
    finally:
        # Gives a pooled PostgreSQL connection back (CONN_MAX_AGE=0) and drops a broken one;
        # the persistent SQLite connection is kept.
        close_old_connections()


async def run_sync(fn: Callable[..., T], /, **kwargs: Any) -> T:
    """Run `fn(**kwargs)` (a service or selector) on the ORM thread and return its result."""
    return await sync_to_async(_unit_of_work)(fn, kwargs)
