"""Database-thread CPU time of one stored message, as the hot path runs it: batches of 50
sendMessages (one group commit, chatserver.db.run_batch) across 100 conversations, each with a
customer and an agent, on a scratch SQLite database. Thread CPU time, so other processes' load
counts little:

    .venv/bin/python bench/store_cost.py [batches]

Prints the median and p90 CPU time per message over the batches (default 60), and the
statements one message costs.
"""

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
scratch = tempfile.mkdtemp(prefix="store-cost-")
os.environ.update(
    DATABASE_URL=f"sqlite:///{scratch}/store.sqlite3",
    DJANGO_SETTINGS_MODULE="chatserver.settings",
    SECRET_KEY="store-cost",
    CHAT_VAR_DIR=scratch,
    LOG_LEVEL="WARNING",
    CHAT_INSECURE_FAST_PASSWORD_HASHER="1",
)

import django  # noqa: E402

django.setup()
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

BATCH = 50


def populate(count: int) -> list[tuple[str, str]]:
    from agents.services import agent_create
    from conversations import services
    from conversations.schemas import InitRequest

    senders = []
    for n in range(count):
        started = services.conversation_start(request=InitRequest(channel="web", firstName=f"C{n}"))
        agent = agent_create(username=f"store-{n}", password="store-password-1", queues=[], max_chats=1)
        services.participant_add(conversation_id=started.conversation.id, role="agent", name=f"A{n}", agent_id=agent.pk)
        senders.append((started.conversation.id, started.customer.id))
    return senders


def batch(senders: list[tuple[str, str]], first: int) -> list:
    """One group commit of BATCH sendMessages, as perform_grouped queues them."""
    from chatserver.db import Work, run_batch
    from chatserver.dispatch import Happened, _collecting, _settle
    from conversations import schemas, services

    units = []
    for n in range(first, first + BATCH):
        conversation_id, sender_id = senders[n % len(senders)]
        message = schemas.parse(
            schemas.SendMessage,
            {"conversationId": conversation_id, "type": "ChatMessage", "text": f"hello {n}", "requestId": f"r{n}"},
        )
        happened = Happened()

        def run(conversation_id=conversation_id, sender_id=sender_id, message=message, happened=happened):
            token = _collecting.set(happened)
            try:
                return services.message_send(conversation_id=conversation_id, sender_id=sender_id, message=message)
            finally:
                _collecting.reset(token)

        units.append(Work(run, after_commit=lambda happened=happened: _settle(happened), savepoint=False))
    outcomes = run_batch(units)
    assert all(ok for ok, _ in outcomes), outcomes
    return outcomes


def main(batches: int) -> None:
    call_command("migrate", verbosity=0)
    senders = populate(100)
    sent = 0
    for _ in range(5):  # warm up
        batch(senders, sent)
        sent += BATCH
    per_message = []
    for _ in range(batches):
        started = time.thread_time()
        batch(senders, sent)
        per_message.append((time.thread_time() - started) / BATCH * 1e6)
        sent += BATCH
    with CaptureQueriesContext(connection) as queries:
        batch(senders, sent)
    per_message.sort()
    print(
        f"{BATCH} messages per batch, 100 conversations: {statistics.median(per_message):.0f} us median, "
        f"{per_message[int(len(per_message) * 0.9)]:.0f} us p90 of database-thread CPU per message; "
        f"{len(queries) / BATCH:.2f} statements per message"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 60)
