"""The client side of the bench: customers and agents as python-socketio AsyncClients over
websocket only, in one process or split across several (each runs `worker_main`)."""

import asyncio
import contextlib
import itertools
import time
import traceback
from collections import Counter
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import httpx
import socketio

CONNECT_TIMEOUT = 10.0
JOIN_TIMEOUT = 20.0
ACK_TIMEOUT = 10.0
DRAIN_TIMEOUT = 10.0
BARRIER_TIMEOUT = 120.0
SETUP_CONCURRENCY = 50
CUSTOMER_NAMESPACE = "/"
AGENT_NAMESPACE = "/agent"


def run_loop(main: Coroutine) -> Any:
    """Run `main` on uvloop when it is installed (as the server does), else on asyncio."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    return uvloop.run(main)


def loop_name() -> str:
    try:
        import uvloop  # noqa: F401
    except ImportError:
        return "asyncio"
    return "uvloop"


async def start_conversations(url: str, count: int, *, prefix: str) -> list[dict]:
    """POST /api/customer/init `count` times; returns {conversationId, customer{id,name}} each."""
    semaphore = asyncio.Semaphore(20)
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:

        async def start(number: int) -> dict:
            async with semaphore:
                response = await http.post(
                    "/api/customer/init",
                    json={
                        "firstName": f"Customer {prefix}{number}",
                        "channel": "web",
                        "requestId": f"{prefix}{number}",
                    },
                )
            response.raise_for_status()
            body = response.json()
            return {"conversationId": body["conversationId"], "customer": body["participant"]}

        return await asyncio.gather(*(start(n) for n in range(count)))


def shared_http_session() -> aiohttp.ClientSession:
    """One aiohttp session for all the sockets of a process (no per-host connection limit)."""
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))


class JoinFailed(Exception):
    pass


async def log_in_agents(url: str, agents: list[dict]) -> None:
    """POST /api/agent/login for each agent; adds its bearer token."""
    semaphore = asyncio.Semaphore(20)
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:

        async def log_in(agent: dict) -> None:
            async with semaphore:
                response = await http.post(
                    "/api/agent/login", json={"username": agent["username"], "password": agent["password"]}
                )
            response.raise_for_status()
            agent["token"] = response.json()["token"]

        await asyncio.gather(*(log_in(agent) for agent in agents))


async def connect_and_join(
    url: str,
    http: aiohttp.ClientSession,
    conversation_id: str,
    participant: dict,
    on_message: Callable[[dict], None] | None = None,
) -> socketio.AsyncClient:
    """A customer (default namespace) or, when `participant` has a token, an agent (/agent),
    connected over websocket and joined to the conversation."""
    agent = "token" in participant
    namespace = AGENT_NAMESPACE if agent else CUSTOMER_NAMESPACE
    client = socketio.AsyncClient(reconnection=False, handle_sigint=False, http_session=http)
    if on_message is not None:
        client.on("messageArrived", on_message, namespace=namespace)
    await client.connect(
        url,
        transports=["websocket"],
        namespaces=[namespace],
        auth={"token": participant["token"]} if agent else None,
        wait_timeout=CONNECT_TIMEOUT,
    )
    ack = await client.call(
        "joinConversation",
        {"conversationId": conversation_id, "participant": {"id": participant["id"], "name": participant["name"]}},
        namespace=namespace,
        timeout=JOIN_TIMEOUT,
    )
    if not (isinstance(ack, dict) and ack.get("ok")):
        await client.disconnect()
        raise JoinFailed(f"joinConversation {conversation_id} as {participant['id']}: {ack!r}")
    return client


async def bounded_gather(
    coroutines: list[Coroutine], limit: int = SETUP_CONCURRENCY, *, return_exceptions: bool = False
) -> list:
    semaphore = asyncio.Semaphore(limit)

    async def one(coroutine: Coroutine) -> Any:
        async with semaphore:
            return await coroutine

    return await asyncio.gather(*(one(c) for c in coroutines), return_exceptions=return_exceptions)


async def disconnect_all(clients: list[socketio.AsyncClient]) -> None:
    async def one(client: socketio.AsyncClient) -> None:
        with contextlib.suppress(Exception):
            await client.disconnect()

    await bounded_gather([one(c) for c in clients], limit=200)


@dataclass
class WorkerSpec:
    url: str
    scenario: str  # "throughput" or "latency"
    conversations: list[dict]  # {conversationId, customer{id,name}, agent{id,name}}
    seconds: float
    window: int = 1  # throughput: messages in flight per customer
    rate: float = 0.0  # latency: messages/s over this worker's conversations
    worker: int = 0
    workers: int = 1  # latency: senders are staggered across all workers


@dataclass
class Tally:
    """What one worker saw. Keys of sent/acked/delivered are requestIds."""

    sent: dict[str, float] = field(default_factory=dict)
    acked: dict[str, float] = field(default_factory=dict)
    delivered: dict[str, float] = field(default_factory=dict)
    errors: Counter = field(default_factory=Counter)
    duplicates: int = 0
    unexpected: int = 0
    out_of_order: int = 0
    max_send_lag: float = 0.0
    last_sequence: dict[str, int] = field(default_factory=dict)

    def agent_listener(self, conversation_id: str) -> Callable[[dict], None]:
        def on_message(message: dict) -> None:
            now = time.perf_counter()
            if message.get("type") != "ChatMessage":
                return
            request_id = message.get("requestId")
            if request_id not in self.sent:
                self.unexpected += 1
            elif request_id in self.delivered:
                self.duplicates += 1
            else:
                self.delivered[request_id] = now
            sequence = message.get("sequence") or 0
            if sequence <= self.last_sequence.get(conversation_id, 0):
                self.out_of_order += 1
            self.last_sequence[conversation_id] = max(sequence, self.last_sequence.get(conversation_id, 0))

        return on_message

    def on_ack(self, request_id: str, ack: Any) -> None:
        now = time.perf_counter()
        if isinstance(ack, dict) and ack.get("ok"):
            self.acked[request_id] = now
        else:
            code = ack.get("error", {}).get("code", "?") if isinstance(ack, dict) else repr(ack)
            self.errors[code] += 1


def message(conversation_id: str, request_id: str, number: int) -> dict:
    return {
        "conversationId": conversation_id,
        "type": "ChatMessage",
        "text": f"Bench message {number}: hello, is anybody there?",
        "requestId": request_id,
    }


async def send_as_fast_as_acked(
    client: socketio.AsyncClient, conversation_id: str, prefix: str, numbers, stop_at: float, tally: Tally
) -> None:
    """One slot of a customer's window: send, wait for the ack, send the next, until stop_at."""
    while time.perf_counter() < stop_at:
        number = next(numbers)
        request_id = f"{prefix}-{number}"
        tally.sent[request_id] = time.perf_counter()
        try:
            ack = await client.call("sendMessage", message(conversation_id, request_id, number), timeout=ACK_TIMEOUT)
        except socketio.exceptions.TimeoutError:
            tally.errors["ack timeout"] += 1
            continue
        except socketio.exceptions.SocketIOError as exc:
            tally.errors[f"client: {type(exc).__name__}"] += 1
            return
        tally.on_ack(request_id, ack)


async def send_at_rate(
    client: socketio.AsyncClient,
    conversation_id: str,
    prefix: str,
    first_at: float,
    interval: float,
    count: int,
    tally: Tally,
) -> None:
    """Open loop: emit at first_at + k * interval whatever the acks do."""
    for number in range(count):
        target = first_at + number * interval
        delay = target - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tally.max_send_lag = max(tally.max_send_lag, time.perf_counter() - target)
        request_id = f"{prefix}-{number}"
        tally.sent[request_id] = time.perf_counter()
        try:
            await client.emit(
                "sendMessage",
                message(conversation_id, request_id, number),
                callback=lambda ack, request_id=request_id: tally.on_ack(request_id, ack),
            )
        except socketio.exceptions.SocketIOError as exc:
            tally.errors[f"client: {type(exc).__name__}"] += 1
            return


async def drain(tally: Tally, *, wait_for_acks: bool) -> None:
    """Wait (bounded) until every acked message has reached its agent, and every ack is in."""
    deadline = time.perf_counter() + DRAIN_TIMEOUT
    while time.perf_counter() < deadline:
        acks_in = not wait_for_acks or len(tally.acked) + sum(tally.errors.values()) >= len(tally.sent)
        if acks_in and all(request_id in tally.delivered for request_id in tally.acked):
            return
        await asyncio.sleep(0.05)


async def worker_main(spec: WorkerSpec, barrier) -> dict:
    """Connect and join every customer and agent of `spec`, meet the other workers at
    `barrier`, run the scenario for spec.seconds, drain, and return the tally."""
    tally = Tally()
    clients: list[socketio.AsyncClient] = []
    async with shared_http_session() as http:
        try:
            joins = []
            for c in spec.conversations:
                conversation_id = c["conversationId"]
                joins.append(connect_and_join(spec.url, http, conversation_id, c["customer"]))
                joins.append(
                    connect_and_join(spec.url, http, conversation_id, c["agent"], tally.agent_listener(conversation_id))
                )
            joined = await bounded_gather(joins, return_exceptions=True)
            clients.extend(j for j in joined if isinstance(j, socketio.AsyncClient))
            if failures := [j for j in joined if isinstance(j, BaseException)]:
                raise JoinFailed(f"{len(failures)} of {len(joined)} sockets did not join; first: {failures[0]!r}")
            await asyncio.to_thread(barrier.wait, BARRIER_TIMEOUT)
            await asyncio.sleep(0.2)  # let the join notifications settle
            started = time.perf_counter()
            stop_at = started + spec.seconds
            customers = clients[0::2]
            tasks = []
            if spec.scenario == "throughput":
                for number, (c, customer) in enumerate(zip(spec.conversations, customers, strict=True)):
                    numbers = itertools.count()
                    prefix = f"w{spec.worker}c{number}"
                    for _ in range(spec.window):
                        tasks.append(
                            send_as_fast_as_acked(customer, c["conversationId"], prefix, numbers, stop_at, tally)
                        )
            else:
                per_conversation = spec.rate / len(spec.conversations)
                interval = 1 / per_conversation
                count = max(1, int(spec.seconds * per_conversation))
                total = len(spec.conversations) * spec.workers
                for number, (c, customer) in enumerate(zip(spec.conversations, customers, strict=True)):
                    # Spread the first sends over one interval so the total rate is even.
                    slot = number * spec.workers + spec.worker
                    first_at = started + interval * slot / total
                    prefix = f"w{spec.worker}c{number}"
                    tasks.append(send_at_rate(customer, c["conversationId"], prefix, first_at, interval, count, tally))
            await asyncio.gather(*tasks)
            sending_ended = time.perf_counter()
            await drain(tally, wait_for_acks=spec.scenario == "latency")
            return {
                "started": started,
                "sendingSeconds": sending_ended - started,
                "seconds": spec.seconds,
                "sent": tally.sent,
                "acked": tally.acked,
                "delivered": tally.delivered,
                "errors": dict(tally.errors),
                "duplicates": tally.duplicates,
                "unexpected": tally.unexpected,
                "outOfOrder": tally.out_of_order,
                "maxSendLag": tally.max_send_lag,
            }
        except Exception:
            with contextlib.suppress(Exception):
                barrier.abort()
            return {"failure": traceback.format_exc()}
        finally:
            await disconnect_all(clients)


def worker_process(spec: WorkerSpec, barrier, results) -> None:
    """Entry point of a client process (multiprocessing, spawn)."""
    results.put((spec.worker, run_loop(worker_main(spec, barrier))))
