"""Running one unit of database work from async code (see FIELD-NOTES: ORM from async code)."""

from collections.abc import Callable
from typing import Any, TypeVar

from asgiref.sync import sync_to_async
from django.db import close_old_connections

T = TypeVar("T")


def _unit_of_work(fn: Callable[..., T], kwargs: dict[str, Any]) -> T:
    try:
        return fn(**kwargs)
    finally:
        # Gives a pooled PostgreSQL connection back (CONN_MAX_AGE=0) and drops a broken one;
        # the persistent SQLite connection is kept.
        close_old_connections()


async def run_sync(fn: Callable[..., T], /, **kwargs: Any) -> T:
    """Run `fn(**kwargs)` (a service or selector) on the ORM thread and return its result."""
    return await sync_to_async(_unit_of_work)(fn, kwargs)
