"""Database-thread time of one routing sweep tick with N connected agents, each in a quiet open
conversation (nothing changes between ticks), on a scratch SQLite database:

    .venv/bin/python bench/sweep_cost.py 10 100 1000

Prints, per N, the median and p90 time of sweep() plus the credential check of the tick, and the
number of statements one tick runs (the same at every N when the work follows what changed).
"""

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
scratch = tempfile.mkdtemp(prefix="sweep-cost-")
os.environ.update(
    DATABASE_URL=f"sqlite:///{scratch}/sweep.sqlite3",
    DJANGO_SETTINGS_MODULE="chatserver.settings",
    SECRET_KEY="sweep-cost",
    CHAT_VAR_DIR=scratch,
    LOG_LEVEL="WARNING",
    CHAT_INSECURE_FAST_PASSWORD_HASHER="1",
)

import django  # noqa: E402

django.setup()
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

SERVER = "bench-server"


def populate(upto: int, have: int) -> list[str]:
    from agents.auth import agent_login
    from agents.services import agent_create
    from conversations import services
    from conversations.schemas import InitRequest
    from routing import presence

    sids = []
    for n in range(have, upto):
        agent = agent_create(username=f"sweep-{n}", password="sweep-password-1", queues=["default"], max_chats=1)
        address = f"10.0.{n // 250}.{n % 250}"
        _, token = agent_login(username=f"sweep-{n}", password="sweep-password-1", client_ip=address)
        sid = f"sid-{n}"
        presence.agent_connected(agent_id=agent.pk, sid=sid, server_id=SERVER, token_id=token.pk)
        started = services.conversation_start(request=InitRequest(channel="web", firstName=f"C{n}"))
        services.participant_add(conversation_id=started.conversation.id, role="agent", name=f"A{n}", agent_id=agent.pk)
        sids.append(sid)
    return sids


def tick(live: list[str]) -> None:
    """A tick as sweep_forever runs it between its socket checks (SOCKETS_CHECKED_EVERY)."""
    from chatserver.dispatch import perform_sync
    from routing.sweep import sweep

    perform_sync(sweep, server_id=SERVER)


def socket_check(live: list[str]) -> None:
    """The tick that also checks every socket, once per SOCKETS_CHECKED_EVERY (2) seconds."""
    from agents import auth
    from chatserver.dispatch import perform_sync
    from routing.sweep import sweep

    perform_sync(sweep, server_id=SERVER, live_sids=live)
    auth.withdrawn_connections(server_id=SERVER)


def main(counts: list[int]) -> None:
    call_command("migrate", verbosity=0)
    live: list[str] = []
    for count in counts:
        live += populate(count, len(live))
        tick(live)
        times = []
        for _ in range(30):
            started = time.thread_time()
            tick(live)
            times.append((time.thread_time() - started) * 1000)
        with CaptureQueriesContext(connection) as queries:
            tick(live)
        times.sort()
        if os.environ.get("SWEEP_COST_STATEMENTS"):
            for query in queries.captured_queries:
                print(f"    {float(query['time']) * 1000:7.2f} ms  {query['sql'][:150]}")
        checks = []
        for _ in range(5):
            started = time.thread_time()
            socket_check(live)
            checks.append((time.thread_time() - started) * 1000)
        print(
            f"{count:>5} connected agents: {statistics.median(times):.2f} ms median, "
            f"{times[int(len(times) * 0.9)]:.2f} ms p90 per tick, {len(queries)} statements; "
            f"the socket check (every 2 s): {statistics.median(checks):.2f} ms median"
        )


if __name__ == "__main__":
    main([int(n) for n in sys.argv[1:]] or [10, 100, 1000])
