"""Socket.IO handlers of the customer API. Each one parses its payload, calls one service on
the ORM thread, publishes what the service returns, and answers through the ack."""

import json
import logging
from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any

import socketio

from chatserver.db import run_sync
from connectors import services as connector_services
from conversations import realtime, services, wire
from conversations.errors import ChatError, NotJoined, SenderMismatch
from conversations.schemas import EndConversation, JoinConversation, RegisterConnector, SendMessage, parse

logger = logging.getLogger(__name__)

Handler = Callable[..., Awaitable[dict]]


def acknowledged(schema):
    """Parse the payload with `schema`, run the handler, and turn its outcome into the ack:
    {"ok": true, ...} or {"ok": false, "error": {"code", "message"[, "fields"]}}."""

    def decorate(handler: Handler) -> Callable[[Any, str, Any], Awaitable[dict]]:
        @wraps(handler)
        async def wrapper(self, sid: str, data: Any = None) -> dict:
            try:
                if isinstance(data, str | bytes):
                    data = _json_or_none(data)
                result = await handler(self, sid, parse(schema, data))
            except ChatError as error:
                return {"ok": False, "error": error.as_dict()}
            except Exception:
                logger.exception("%s failed", handler.__name__)
                return {"ok": False, "error": ChatError().as_dict()}
            return {"ok": True, **result}

        return wrapper

    return decorate


def _json_or_none(data: str | bytes) -> Any:
    try:
        return json.loads(data)
    except ValueError:
        return None


class ConversationNamespace(socketio.AsyncNamespace):
    """Events every participant uses: join, send, end. A connection remembers, in its
    Socket.IO session, which participant it joined each conversation as."""

    staff = False

    async def joined_participant(self, sid: str, conversation_id: str) -> str:
        session = await self.get_session(sid)
        participant_id = session.get("joined", {}).get(conversation_id)
        if participant_id is None:
            raise NotJoined()
        return participant_id

    async def remember_join(self, sid: str, conversation_id: str, participant_id: str) -> None:
        async with self.session(sid) as session:
            session.setdefault("joined", {})[conversation_id] = participant_id

    @acknowledged(JoinConversation)
    async def on_joinConversation(self, sid: str, request: JoinConversation) -> dict:
        result = await run_sync(
            services.conversation_join,
            conversation_id=request.conversation_id,
            participant_id=request.participant.id,
            name=request.participant.name,
            after_sequence=request.last_sequence,
        )
        participant = result.participant
        await self.remember_join(sid, result.conversation.id, participant.id)
        await realtime.enter_conversation(
            sid,
            namespace=self.namespace,
            conversation_id=result.conversation.id,
            participant_id=participant.id,
            staff=not participant.is_customer,
        )
        participants = [wire.participant_json(p) for p in result.participants]
        info = {
            "conversation": wire.conversation_json(result.conversation),
            "messages": [wire.message_json(m) for m in result.history],
            "participants": participants,
            "participant": participants,  # the key the published document's sample uses
            "role": participant.role,
            "me": wire.participant_json(participant),
        }
        await realtime.send_to(sid, "conversationInfo", info, namespace=self.namespace)
        await realtime.send_to(sid, "messageArrived", wire.message_json(result.greeting), namespace=self.namespace)
        await realtime.publish(result.deliveries, skip_sid=sid)
        return {"conversationId": result.conversation.id, "participant": wire.participant_json(participant)}

    @acknowledged(SendMessage)
    async def on_sendMessage(self, sid: str, message: SendMessage) -> dict:
        participant_id = await self.joined_participant(sid, message.conversation_id)
        if message.from_ is not None and message.from_.id != participant_id:
            raise SenderMismatch()
        result = await run_sync(
            services.message_send,
            conversation_id=message.conversation_id,
            sender_id=participant_id,
            message=message,
        )
        await realtime.publish(result.deliveries, skip_sid=sid)
        return {
            "id": result.message.id,
            "sequence": result.message.sequence,
            "timestamp": wire.iso(result.message.created_at),
            "duplicate": result.duplicate,
        }

    @acknowledged(EndConversation)
    async def on_endConversation(self, sid: str, request: EndConversation) -> dict:
        participant_id = await self.joined_participant(sid, request.conversation_id)
        result = await run_sync(
            services.conversation_end, conversation_id=request.conversation_id, participant_id=participant_id
        )
        await realtime.publish(result.deliveries)
        return {"conversationId": result.conversation.id, "endedAt": wire.iso(result.conversation.ended_at)}


class CustomerNamespace(ConversationNamespace):
    """The default namespace: customers, and the channel connectors that speak for them."""

    @acknowledged(RegisterConnector)
    async def on_registerConnector(self, sid: str, request: RegisterConnector) -> dict:
        connector = await run_sync(connector_services.connector_register, request=request)
        async with self.session(sid) as session:
            session["connector"] = connector.id
        await self.enter_room(sid, realtime.room_of_connector(connector.channel))
        return {"connector": {"id": connector.id, "name": connector.name, "channel": connector.channel}}

    async def on_disconnect(self, sid: str, reason: Any = None) -> None:
        session = await self.get_session(sid)
        if connector_id := session.get("connector"):
            await run_sync(connector_services.connector_disconnect, connector_id=connector_id)
