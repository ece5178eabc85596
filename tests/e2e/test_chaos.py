"""Chaos: two server processes on PostgreSQL and a Redis of the test's own, and something breaks
mid-traffic (Redis restarts, a process is SIGKILLed, PostgreSQL drops the servers'
connections). Clients behave as documented: they reconnect, rejoin with lastSequence and drop
ids they have seen. Every time: sent = stored = delivered to every tab, nothing stored twice."""

import asyncio
import os
import shutil
import signal
import subprocess
import time
import uuid

import psycopg
import pytest
import socketio
from asgiref.sync import sync_to_async
from django.db import connection

from conversations.models import Message
from tests.conftest import free_port, start_server
from tests.e2e.people import init_conversation

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not os.environ.get("REDIS_URL"), reason="chaos needs PostgreSQL and Redis: make test's PostgreSQL+Redis pass"
    ),
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="chaos starts a Redis of its own: no redis-server"),
]

MESSAGES = 150
RATE = 30  # messages a second
CALM = 15  # seconds for everyone to have everything once the trouble is over


class OwnRedis:
    """A redis-server of the test's own, so that restarting it troubles nobody else."""

    def __init__(self):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None
        self.start()

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socketio_redis_ping(self.url):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


class socketio_redis_ping:  # noqa: N801 - a tiny context manager
    def __init__(self, url: str):
        import redis

        self.client = redis.Redis.from_url(url, socket_timeout=1)

    def __enter__(self):
        try:
            self.client.ping()
        except Exception as exc:
            raise OSError(str(exc)) from exc
        return self

    def __exit__(self, *exc):
        self.client.close()


class Tab:
    """A customer's browser tab as the protocol asks it to be: it reconnects by itself, rejoins
    with the highest sequence it has, pages on while hasMore, and keeps each message once."""

    def __init__(self, url: str, conversation_id: str, key: str):
        self.url, self.conversation_id, self.key = url, conversation_id, key
        self.sio = socketio.AsyncClient(reconnection=True, reconnection_delay=0.1, reconnection_delay_max=0.5)
        self.messages: dict[str, dict] = {}  # id -> message
        self.reconnects = -1
        self.joined = asyncio.Event()
        self.sio.on("connect", self._connected)
        self.sio.on("disconnect", self._disconnected)
        self.sio.on("messageArrived", self._keep)
        self.sio.on("conversationInfo", self._history)

    async def open(self) -> "Tab":
        await self.sio.connect(self.url, transports=["websocket"], wait_timeout=10)
        await asyncio.wait_for(self.joined.wait(), 10)
        return self

    async def _connected(self):
        self.reconnects += 1
        self.sio.start_background_task(self._join)

    async def _disconnected(self, reason=None):
        self.joined.clear()

    def last_sequence(self) -> int:
        return max((m["sequence"] for m in self.messages.values()), default=0)

    async def _join(self, after: int | None = None):
        payload = {"conversationId": self.conversation_id, "participant": {"id": self.key}}
        last = self.last_sequence() if after is None else after
        if last:
            payload["lastSequence"] = last
        try:
            ack = await self.sio.call("joinConversation", payload, timeout=5)
        except (socketio.exceptions.TimeoutError, socketio.exceptions.BadNamespaceError):
            return  # the connection went again; the next connect joins
        if ack.get("ok"):
            self.joined.set()

    async def _keep(self, message):
        self.messages[message["id"]] = message

    async def _history(self, info):
        for message in info["messages"]:
            self.messages[message["id"]] = message
        if info.get("hasMore") and info["messages"]:
            self.sio.start_background_task(self._join, max(m["sequence"] for m in info["messages"]))

    def chaos_ids(self) -> set[str]:
        return {i for i, m in self.messages.items() if m.get("text", "").startswith("chaos ")}

    async def send(self, text: str, request_id: str) -> str:
        """Send until acknowledged, with one requestId however often it is tried."""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if not self.joined.is_set():
                await asyncio.sleep(0.05)
                continue
            message = {"conversationId": self.conversation_id, "type": "ChatMessage", "text": text}
            try:
                ack = await self.sio.call("sendMessage", {**message, "requestId": request_id}, timeout=5)
            except (socketio.exceptions.TimeoutError, socketio.exceptions.BadNamespaceError):
                continue
            if ack.get("ok"):
                return ack["id"]
            await asyncio.sleep(0.1)  # e.g. INTERNAL_ERROR while the database connection was dropped
        raise AssertionError(f"{text!r} was never acknowledged")

    async def close(self):
        await self.sio.disconnect()


@pytest.fixture(scope="module")
def own_redis():
    redis = OwnRedis()
    yield redis
    redis.stop()


@pytest.fixture(scope="module")
def two_servers(server_env, own_redis, tmp_path_factory):
    """Shared by the tests here (each has a conversation of its own); the one that kills a
    process starts it again on its port."""
    tmp_path = tmp_path_factory.mktemp("chaos")
    env = {
        **server_env,
        "REDIS_URL": own_redis.url,
        "CHAT_INSTANCE": f"chaos-{uuid.uuid4().hex[:8]}",
        "PGAPPNAME": "chaos-server",  # so that the database drop hits the servers only
    }
    servers = [start_server(env=env, log_path=tmp_path / f"server{n}.log") for n in (1, 2)]
    yield servers
    for running in servers:  # chaos servers need no graceful stop (daphne waits 10 s for open sockets)
        running.process.kill()
        running.process.wait()


async def traffic(sender: Tab, tabs: list[Tab], trouble) -> tuple[list[str], int]:
    """Send MESSAGES at RATE, with `trouble` started a third of the way in; wait until every
    tab has every acknowledged message (or CALM seconds pass)."""
    sent: list[str] = []
    trouble_task = None
    began = time.monotonic()
    for n in range(MESSAGES):
        if n == MESSAGES // 3:
            trouble_task = asyncio.create_task(trouble())
        await asyncio.sleep(max(0.0, began + n / RATE - time.monotonic()))
        sent.append(await sender.send(f"chaos {n}", request_id=f"chaos-{n}"))
    await trouble_task
    deadline = time.monotonic() + CALM
    while time.monotonic() < deadline and any(not set(sent) <= tab.chaos_ids() for tab in tabs):
        await asyncio.sleep(0.1)
    return sent, len(sent)


async def assert_sent_stored_delivered(conversation_id: str, sent: list[str], tabs: list[Tab]) -> None:
    stored = await sync_to_async(list)(
        Message.objects.filter(conversation_id=conversation_id, text__startswith="chaos ").values_list("id", "text")
    )
    texts = [text for _, text in stored]
    assert len(texts) == len(set(texts)) == MESSAGES, "a message was stored twice or not at all"
    assert {i for i, _ in stored} == set(sent)
    for tab in tabs:
        missing = set(sent) - tab.chaos_ids()
        assert not missing, f"a tab on {tab.url} lacks {len(missing)} of {MESSAGES} messages"


async def open_tabs(servers) -> tuple[str, Tab, list[Tab]]:
    started = await init_conversation(servers[0].url)
    conversation_id, key = started["conversationId"], started["participant"]["id"]
    sender = await Tab(servers[0].url, conversation_id, key).open()
    tabs = [await Tab(server.url, conversation_id, key).open() for server in servers]
    return conversation_id, sender, tabs


async def test_a_redis_restart_mid_traffic_loses_nothing_live(two_servers, own_redis):
    conversation_id, sender, tabs = await open_tabs(two_servers)

    async def restart_redis():
        await asyncio.to_thread(own_redis.stop)
        await asyncio.sleep(2)
        await asyncio.to_thread(own_redis.start)

    sent, _ = await traffic(sender, tabs, restart_redis)
    await assert_sent_stored_delivered(conversation_id, sent, tabs)
    # The tab on the other process was told (its connection dropped) and resynced.
    assert tabs[1].reconnects >= 1
    for running in two_servers:
        assert "Traceback" not in running.log(), running.log()
        assert running.log().count("cannot publish to Redis") <= 1
    for tab in [sender, *tabs]:
        await tab.close()


async def test_a_process_killed_mid_traffic_loses_nothing(two_servers):
    conversation_id, sender, tabs = await open_tabs(two_servers)
    victim = two_servers[1]

    async def kill_and_restart():
        victim.process.send_signal(signal.SIGKILL)
        victim.process.wait()
        await asyncio.sleep(1)
        fresh = await asyncio.to_thread(start_server, env=victim.env, log_path=victim.log_path, port=victim.port)
        victim.process = fresh.process

    sent, _ = await traffic(sender, tabs, kill_and_restart)
    await assert_sent_stored_delivered(conversation_id, sent, tabs)
    assert tabs[1].reconnects >= 1
    for tab in [sender, *tabs]:
        await tab.close()


async def test_the_database_dropping_the_servers_connections_loses_nothing(two_servers):
    if connection.vendor != "postgresql":
        pytest.skip("drops PostgreSQL connections")
    conversation_id, sender, tabs = await open_tabs(two_servers)
    dsn = two_servers[0].env["DATABASE_URL"]

    async def drop_connections():
        def terminate() -> int:
            with psycopg.connect(dsn, autocommit=True) as db:
                rows = db.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE application_name = 'chaos-server' AND pid <> pg_backend_pid()"
                ).fetchall()
            return len(rows)

        assert await asyncio.to_thread(terminate) >= 1

    sent, _ = await traffic(sender, tabs, drop_connections)
    await assert_sent_stored_delivered(conversation_id, sent, tabs)
    for tab in [sender, *tabs]:
        await tab.close()
