"""The one place that talks to Socket.IO clients: the AsyncServer, its rooms, and the emits.

Services return Delivery objects; handlers pass them here after the service's transaction
has committed, so nothing is emitted that is not stored.
"""

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable

import socketio
from django.conf import settings
from django.db import DatabaseError

from conversations.deliveries import Audience, Delivery

logger = logging.getLogger(__name__)

CUSTOMER_NAMESPACE = "/"
AGENT_NAMESPACE = "/agent"


def _client_manager() -> socketio.AsyncManager:
    if settings.REDIS_URL:
        # Relays emits between server processes (at most once: clients resync by sequence).
        return socketio.AsyncRedisManager(settings.REDIS_URL, channel=settings.CHAT_INSTANCE)
    return socketio.AsyncManager()


def _cors_origins():
    origins = settings.CHAT_CORS_ALLOWED_ORIGINS
    from widget.origins import socketio_origin_check  # the server's own pages, the setting, the widget sites

    return "*" if origins == ["*"] else socketio_origin_check


sio = socketio.AsyncServer(
    async_mode="asgi",
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


async def publish(deliveries: list[Delivery], *, skip_sid: str | None = None) -> None:
    """Emit each delivery to its audience."""
    for delivery in deliveries:
        for namespace, rooms in rooms_for(delivery.audience).items():
            if rooms:
                await sio.emit(delivery.event, delivery.payload, to=rooms, namespace=namespace, skip_sid=skip_sid)


async def send_to(sid: str, event: str, payload: dict, *, namespace: str) -> None:
    await sio.emit(event, payload, to=sid, namespace=namespace)


# Routing's periodic sweep: one loop per server process, started by the first agent connection
# (daphne sends no ASGI lifespan events to start it with).
SERVER_ID = uuid.uuid4().hex
_sweeper_started = False


def start_sweeper(sweep_once: Callable[[], Awaitable[None]]) -> None:
    global _sweeper_started
    if _sweeper_started:
        return
    _sweeper_started = True
    sio.start_background_task(_sweep_forever, sweep_once)


async def _sweep_forever(sweep_once: Callable[[], Awaitable[None]]) -> None:
    while True:
        await sio.sleep(settings.CHAT_SWEEP_INTERVAL)
        try:
            await sweep_once()
        except DatabaseError as error:  # a lock timeout, a restarting database: try next time
            logger.warning("routing sweep: %s; trying again", error)
        except Exception:
            logger.exception("routing sweep failed; trying again")


# One lock per connection: its events run in the order they came (see sockets.trigger_event).
_event_locks: dict[str, asyncio.Lock] = {}


def event_lock(sid: str) -> asyncio.Lock:
    return _event_locks.setdefault(sid, asyncio.Lock())


def forget_event_lock(sid: str) -> None:
    _event_locks.pop(sid, None)


def local_sids(namespace: str) -> list[str]:
    """The sids of this process's connections in `namespace`."""
    return [sid for sid, _ in sio.manager.get_participants(namespace, None)]
