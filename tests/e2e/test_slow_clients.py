"""A client that does not read costs the server a bounded amount of memory (chatserver/backpressure.py)."""

import asyncio
import time

import pytest

from tests.conftest import start_server, stop_server
from tests.e2e.people import Person, init_conversation
from tests.e2e.rawsocket import RawSocket

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

NON_READERS = 10
MESSAGE = "x" * 8_000
MESSAGES = 2_000  # 16 MB to each non-reader: 160 MB in all, were it kept (measured without the bound: +104 MB at 1,500)


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


@pytest.fixture
def lone_server(server_env, tmp_path):
    """A server of its own: its memory is this test's alone."""
    # Pages of history small enough for python-socketio's client (it gives up on frames near 1 MB).
    # One conversation carries far more than a transcript may hold (docs/security.md): no caps here.
    env = {
        **server_env,
        "CHAT_HISTORY_LIMIT": "100",
        "CHAT_MAX_MESSAGES_PER_CONVERSATION": "1000000",
        "CHAT_MAX_CONVERSATION_TEXT": "1000000000",
    }
    running = start_server(env=env, log_path=tmp_path / "server.log")
    yield running
    stop_server(running)


async def test_clients_that_never_read_are_dropped_and_memory_stays_bounded(lone_server):
    started = await init_conversation(lone_server.url)
    conversation_id, key = started["conversationId"], started["participant"]["id"]
    sender = await Person(lone_server.url, conversation_id, key, "Kashif").connect()
    assert (await sender.join())["ok"]
    reader = await sender.another_connection()  # a tab that reads
    assert (await reader.join())["ok"]

    def open_non_reader() -> RawSocket:
        raw = RawSocket(lone_server.url, receive_buffer=4096)
        raw.connect_namespace()
        raw.emit("joinConversation", {"conversationId": conversation_id, "participant": {"id": key}})
        raw.read_until(b'"ok":true')
        return raw  # and from here on it reads nothing

    non_readers = [await asyncio.to_thread(open_non_reader) for _ in range(NON_READERS)]
    pid = lone_server.process.pid
    baseline = rss_mb(pid)
    peak = baseline
    for n in range(MESSAGES):
        ack = await sender.say(f"{n} {MESSAGE}")
        assert ack["ok"], ack
        if n % 50 == 0:
            peak = max(peak, rss_mb(pid))
    peak = max(peak, rss_mb(pid))
    # Every message reached the one client that reads.
    await reader.wait_for("messageArrived", lambda m: m.get("text", "").startswith(f"{MESSAGES - 1} "))
    assert len(reader.texts()) == MESSAGES

    print(f"RSS baseline {baseline:.0f} MB, peak {peak:.0f} MB")
    assert peak - baseline < 100, f"RSS grew {peak - baseline:.0f} MB (from {baseline:.0f} MB)"
    closed = await asyncio.gather(*(asyncio.to_thread(raw.is_closed_by_server, 5) for raw in non_readers))
    assert all(closed), f"{closed.count(False)} non-readers were left connected"
    assert "fell" in lone_server.log() and "behind" in lone_server.log()

    for raw in non_readers:
        raw.close()
    deadline = time.monotonic() + 10
    while rss_mb(pid) - baseline >= 40 and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
    assert rss_mb(pid) - baseline < 40, f"RSS stayed {rss_mb(pid) - baseline:.0f} MB above its baseline"
    print(f"RSS baseline {baseline:.0f} MB, peak {peak:.0f} MB, after {rss_mb(pid):.0f} MB")
    await reader.disconnect()
    await sender.disconnect()


async def test_a_dropped_client_rejoins_with_last_sequence_and_misses_nothing(lone_server):
    started = await init_conversation(lone_server.url)
    conversation_id, key = started["conversationId"], started["participant"]["id"]
    sender = await Person(lone_server.url, conversation_id, key, "Kashif").connect()
    assert (await sender.join())["ok"]

    def open_non_reader() -> RawSocket:
        raw = RawSocket(lone_server.url, receive_buffer=4096)
        raw.connect_namespace()
        raw.emit("joinConversation", {"conversationId": conversation_id, "participant": {"id": key}})
        raw.read_until(b'"ok":true')
        return raw

    slow = await asyncio.to_thread(open_non_reader)
    sent = []
    for n in range(1_200):  # 4.8 MB: past the limit and the kernel buffers
        ack = await sender.say(f"{n} {MESSAGE[:4000]}")
        sent.append(ack["sequence"])
    assert await asyncio.to_thread(slow.is_closed_by_server, 5)
    slow.close()

    # The client reconnects and rejoins from the last sequence it saw (here: none past the greeting).
    again = await Person(lone_server.url, conversation_id, key, "Kashif").connect()
    seen = 1
    while True:
        pages = len(again.received["conversationInfo"])
        ack = await again.join(lastSequence=seen)
        assert ack["ok"], ack
        await again.wait_for_count("conversationInfo", pages + 1)
        info = again.received["conversationInfo"][-1]
        sequences = [m["sequence"] for m in info["messages"]]
        if not sequences:
            break
        seen = max(sequences)
        if not info.get("hasMore"):
            break
    got = {m["sequence"] for i in again.received["conversationInfo"] for m in i["messages"]}
    assert set(sent) <= got
    await again.disconnect()
    await sender.disconnect()
