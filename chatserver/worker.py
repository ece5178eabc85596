"""Background work: what must never hold a request or the event loop (a transcript email to a
slow SMTP server, an outbound SMS, a webhook).

The work is stored first, as rows of the app that owns it; the channel layer only wakes the
worker ("job.wake" on the WORKER_CHANNEL), and a poll every CHAT_WORKER_POLL seconds finds what
a lost wake-up left behind, so the wake-up can be lost without losing the work. Each kind of
job registers one function that does what is pending of its kind and returns how many it did.

By default `manage.py serve` runs the worker in its own process (in-memory channel layer); with
Redis, CHAT_WORKER_IN_PROCESS=false and `manage.py runworker chat-worker` run it apart. The jobs
run on a thread pool of their own, never on the ORM thread that serves the messages.
"""

import asyncio
import logging
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import async_to_sync
from channels.consumer import AsyncConsumer
from channels.layers import get_channel_layer
from channels.worker import Worker
from django.conf import settings
from django.db import close_old_connections

logger = logging.getLogger(__name__)

WORKER_CHANNEL = "chat-worker"

_kinds: dict[str, Callable[[], int]] = {}
_threads = ThreadPoolExecutor(max_workers=settings.CHAT_WORKER_THREADS, thread_name_prefix="chat-worker")


def register(kind: str, run_pending: Callable[[], int]) -> None:
    """`run_pending()` does the stored work of this kind that is due (an app's ready() calls this)."""
    _kinds[kind] = run_pending


def run_pending(kind: str) -> int:
    """Do what is due of one kind, in this thread; a failure is logged, the rows stay for later."""
    try:
        return _kinds[kind]()
    except Exception:
        logger.exception("background job %s failed; it is tried again later", kind)
        return 0
    finally:
        close_old_connections()


async def run_kinds(kinds: Iterable[str]) -> None:
    loop = asyncio.get_running_loop()
    for kind in kinds:
        if kind in _kinds:
            await loop.run_in_executor(_threads, run_pending, kind)


class JobConsumer(AsyncConsumer):
    """Listens on WORKER_CHANNEL (see chatserver.asgi)."""

    async def job_wake(self, message: dict) -> None:
        await run_kinds(message.get("jobs") or sorted(_kinds))


async def wake(jobs: Iterable[str]) -> None:
    jobs = sorted(set(jobs))
    if jobs:
        await get_channel_layer().send(WORKER_CHANNEL, {"type": "job.wake", "jobs": jobs})


def wake_from_sync(jobs: Iterable[str]) -> None:
    from chatserver import realtime

    jobs = sorted(set(jobs))
    if not jobs:
        return
    loop = realtime.serving_loop()
    if loop is not None:
        asyncio.run_coroutine_threadsafe(wake(jobs), loop)
    elif settings.REDIS_URL:
        async_to_sync(wake)(jobs)
    # Else no worker can hear this process: the worker's poll finds the rows.


async def _poll_forever() -> None:
    while True:
        await asyncio.sleep(settings.CHAT_WORKER_POLL)
        await run_kinds(sorted(_kinds))


async def _listen_forever(application) -> None:
    while True:
        worker = Worker(application=application, channels=[WORKER_CHANNEL], channel_layer=get_channel_layer())
        try:
            await worker.arun()
        except Exception as error:  # Redis restarting: the poll keeps the work going meanwhile
            logger.warning("worker: the channel layer failed (%r); listening again in 1 s", error)
            await asyncio.sleep(1)


async def run_in_process(application) -> None:
    """The worker inside a server process: listens for wake-ups, and polls."""
    await asyncio.gather(_listen_forever(application), _poll_forever())
