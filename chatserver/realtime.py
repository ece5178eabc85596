"""The one place that talks to Socket.IO clients: the AsyncServer, its rooms, and the emits.

Services say what happened through chatserver.dispatch; once it has committed, the deliveries
come here, so nothing is emitted that is not stored. This module also holds the process's few
pieces of live state: the event loop it serves on, per-connection event locks, and which
background loops have been started.
"""

import asyncio
import logging
import random
import uuid
from collections.abc import Awaitable, Callable

import socketio
from django.conf import settings

from chatserver.deliveries import Audience, Delivery
from chatserver.guards import GuardedServer
from chatserver.relay import ResyncingRedisManager
from chatserver.transport import DirectEmit, WirePacket

logger = logging.getLogger(__name__)

CUSTOMER_NAMESPACE = "/"
AGENT_NAMESPACE = "/agent"


def _client_manager() -> socketio.AsyncManager:
    if settings.REDIS_URL:
        # Relays emits between server processes (at most once: clients resync by sequence).
        # Clients that may have missed an event are dropped and resync (chatserver/relay.py).
        # A Redis that cannot be reached fails each emit within 2 s instead of the OS's minutes.
        return ResyncingRedisManager(
            settings.REDIS_URL, channel=settings.CHAT_INSTANCE, redis_options={"socket_connect_timeout": 2}
        )
    return DirectEmit()


def _cors_origins():
    origins = settings.CHAT_CORS_ALLOWED_ORIGINS
    from widget.origins import socketio_origin_check  # the server's own pages, the setting, the widget sites

    return "*" if origins == ["*"] else socketio_origin_check


sio = GuardedServer(
    async_mode="asgi",
    serializer=WirePacket,
    client_manager=_client_manager(),
    cors_allowed_origins=_cors_origins(),
    max_http_buffer_size=settings.CHAT_MAX_PAYLOAD_BYTES,
    logger=False,
    engineio_logger=False,
)


def room_of_conversation(conversation_id: str) -> str:
    return f"c:{conversation_id}"


def room_of_participant(participant_id: str) -> str:
    return f"p:{participant_id}"


def room_of_agent(agent_id: int) -> str:
    return f"a:{agent_id}"


def rooms_for(audience: Audience) -> dict[str, list[str]]:
    """The rooms to emit to, by namespace."""
    if audience.participant_ids:
        customer_rooms = [room_of_participant(pid) for pid in audience.participant_ids]
    elif audience.customers and audience.conversation_id:
        customer_rooms = [room_of_conversation(audience.conversation_id)]
    else:
        customer_rooms = []
    return {
        CUSTOMER_NAMESPACE: customer_rooms,
        AGENT_NAMESPACE: [room_of_agent(agent_id) for agent_id in audience.agent_ids],
    }


async def enter_conversation(sid: str, *, conversation_id: str, participant_id: str) -> None:
    """Put a customer's connection in the rooms its messages are sent to."""
    await sio.enter_room(sid, room_of_conversation(conversation_id), namespace=CUSTOMER_NAMESPACE)
    await sio.enter_room(sid, room_of_participant(participant_id), namespace=CUSTOMER_NAMESPACE)


async def enter_agent_room(sid: str, agent_id: int) -> None:
    await sio.enter_room(sid, room_of_agent(agent_id), namespace=AGENT_NAMESPACE)


async def publish(deliveries: list[Delivery], *, caller: str | None = None) -> None:
    """Emit each delivery to its audience; `caller` is the connection whose event caused them."""
    for delivery in deliveries:
        skip_sid = caller if delivery.audience.except_caller else None
        for namespace, rooms in rooms_for(delivery.audience).items():
            if rooms:
                await sio.emit(delivery.event, delivery.payload, to=rooms, namespace=namespace, skip_sid=skip_sid)


_loop: asyncio.AbstractEventLoop | None = None
_sync_emitter: socketio.RedisManager | None = None


def serving_on(loop: asyncio.AbstractEventLoop) -> None:
    """Remember the loop this process serves Socket.IO on (sync code hands deliveries to it)."""
    global _loop
    _loop = loop


def serving_loop() -> asyncio.AbstractEventLoop | None:
    return _loop if _loop is not None and _loop.is_running() else None


def publish_from_sync(deliveries: list[Delivery]) -> None:
    """Send deliveries from sync code (a REST view, an admin action, a command): through this
    process's server loop when it serves Socket.IO, else straight to Redis for the servers that
    relay through it. With neither, no client can be reached from here; clients that resync
    (lastSequence) still get every stored message."""
    if not deliveries:
        return
    if (loop := serving_loop()) is not None:
        future = asyncio.run_coroutine_threadsafe(publish(deliveries), loop)
        future.add_done_callback(_log_failure)
        return
    if settings.REDIS_URL:
        for delivery in deliveries:
            for namespace, rooms in rooms_for(delivery.audience).items():
                if rooms:
                    _redis_emitter().emit(delivery.event, delivery.payload, room=rooms, namespace=namespace)
        return
    logger.debug("no Socket.IO server in this process: %d deliveries left to resync", len(deliveries))


def _redis_emitter() -> socketio.RedisManager:
    global _sync_emitter
    if _sync_emitter is None:
        _sync_emitter = socketio.RedisManager(settings.REDIS_URL, channel=settings.CHAT_INSTANCE, write_only=True)
    return _sync_emitter


def _log_failure(future) -> None:
    if not future.cancelled() and future.exception() is not None:
        logger.error("publishing from sync code failed", exc_info=future.exception())


async def send_to(sid: str, event: str, payload: dict, *, namespace: str) -> None:
    await sio.emit(event, payload, to=sid, namespace=namespace)


SERVER_ID = uuid.uuid4().hex
_background_started: set[str] = set()


def start_background(name: str, run: Callable[[], Awaitable[None]]) -> None:
    """Start a process-wide loop (the routing sweep, the worker) once, from the first
    connection: daphne sends no ASGI lifespan events to start them with."""
    if name in _background_started:
        return
    _background_started.add(name)
    serving_on(asyncio.get_running_loop())
    sio.start_background_task(run)


# One lock per connection: its events run in the order they came (see sockets.trigger_event).
_event_locks: dict[str, asyncio.Lock] = {}


def event_lock(sid: str) -> asyncio.Lock:
    return _event_locks.setdefault(sid, asyncio.Lock())


def forget_event_lock(sid: str) -> None:
    _event_locks.pop(sid, None)


def local_sids(namespace: str) -> list[str]:
    """The sids of this process's connections in `namespace`."""
    return [sid for sid, _ in sio.manager.get_participants(namespace, None)]


# The in-flight budget (CHAT_MAX_IN_FLIGHT): events taken on and not answered yet, waiting for
# their connection's turn or for the database. Beyond it an event is answered BUSY at once, so
# overload costs a short answer instead of a queue (and memory, and latency) without bound.
_in_flight = 0


def take_on() -> bool:
    global _in_flight
    if _in_flight >= settings.CHAT_MAX_IN_FLIGHT:
        return False
    _in_flight += 1
    return True


def done_with() -> None:
    global _in_flight
    _in_flight -= 1


def in_flight() -> int:
    return _in_flight


def busy_retry_ms() -> int:
    """When to try again: the base delay, spread so that refused clients do not come back together."""
    base = settings.CHAT_BUSY_RETRY_MS
    return base + random.randrange(base)  # jitter, not a secret
