"""The one place that talks to Socket.IO clients: the AsyncServer, its rooms, and the emits.

Services return Delivery objects; handlers pass them here after the service's transaction
has committed, so nothing is emitted that is not stored.
"""

import socketio
from django.conf import settings

from conversations.deliveries import Audience, Delivery

CUSTOMER_NAMESPACE = "/"
AGENT_NAMESPACE = "/agent"
NAMESPACES = (CUSTOMER_NAMESPACE, AGENT_NAMESPACE)


def _client_manager() -> socketio.AsyncManager:
    if settings.REDIS_URL:
        # Relays emits between server processes (at most once: clients resync by sequence).
        return socketio.AsyncRedisManager(settings.REDIS_URL, channel="chatserver")
    return socketio.AsyncManager()


def _cors_origins() -> list[str] | str:
    origins = settings.CHAT_CORS_ALLOWED_ORIGINS
    return "*" if origins == ["*"] else origins


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


def room_of_staff(conversation_id: str) -> str:
    return f"s:{conversation_id}"


def room_of_participant(participant_id: str) -> str:
    return f"p:{participant_id}"


def room_of_connector(channel: str) -> str:
    return f"connector:{channel}"


def rooms_for(audience: Audience) -> list[str]:
    if audience.participant_ids:
        return [room_of_participant(pid) for pid in audience.participant_ids]
    if audience.staff_only:
        return [room_of_staff(audience.conversation_id)]
    return [room_of_conversation(audience.conversation_id)]


async def enter_conversation(sid: str, *, namespace: str, conversation_id: str, participant_id: str, staff: bool):
    """Put a connection in the rooms that its participant's messages are sent to."""
    rooms = [room_of_conversation(conversation_id), room_of_participant(participant_id)]
    if staff:
        rooms.append(room_of_staff(conversation_id))
    for room in rooms:
        await sio.enter_room(sid, room, namespace=namespace)


async def publish(deliveries: list[Delivery], *, skip_sid: str | None = None) -> None:
    """Emit each delivery to its audience, in every namespace where participants connect."""
    for delivery in deliveries:
        rooms = rooms_for(delivery.audience)
        for namespace in NAMESPACES:
            await sio.emit(delivery.event, delivery.payload, to=rooms, namespace=namespace, skip_sid=skip_sid)


async def send_to(sid: str, event: str, payload: dict, *, namespace: str) -> None:
    await sio.emit(event, payload, to=sid, namespace=namespace)
