"""Django's SQLite backend, with the one writer SQLite allows queued in this process.

SQLite takes one write transaction at a time (`BEGIN IMMEDIATE`, see settings). A thread whose
BEGIN finds the lock taken is left to SQLite's busy handler, which sleeps in growing steps (up
to 100 ms) between tries whatever happens meanwhile: the lock can be free for most of a sleep.
REST views run on threads of their own, with connections of their own, beside the ORM thread
of the socket events, so in a join storm a quarter of the server's samples were
`POST /api/customer/init` asleep in that handler (bench/README.md). Here every transaction of
the process first takes a lock per database file, handed to the next waiter the moment the
holder commits or rolls back; SQLite's own handler is left for other processes (a management
command), and for a wait longer than the `timeout` option, after which this gives up queueing
and lets SQLite decide, so that nothing waits here for ever.
"""

import threading
from collections import defaultdict
from typing import Any

from django.db.backends.sqlite3 import base

_writers: defaultdict[str, Any] = defaultdict(threading.Lock)
_writers_lock = threading.Lock()


def _writer_of(name: str) -> Any:
    with _writers_lock:
        return _writers[name]


class DatabaseWrapper(base.DatabaseWrapper):
    _writer: Any = None  # the lock this connection holds, while it has a transaction open

    def _start_transaction_under_autocommit(self):
        writer = _writer_of(str(self.settings_dict["NAME"]))
        if writer.acquire(timeout=float(self.settings_dict["OPTIONS"].get("timeout", 5))):
            self._writer = writer
        try:
            super()._start_transaction_under_autocommit()
        except BaseException:
            self._let_go()
            raise

    def _let_go(self) -> None:
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.release()

    def _commit(self):
        try:
            return super()._commit()
        finally:
            self._let_go()

    def _rollback(self):
        try:
            return super()._rollback()
        finally:
            self._let_go()

    def _close(self):
        try:
            return super()._close()
        finally:
            self._let_go()
