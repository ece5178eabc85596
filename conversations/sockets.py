"""Socket.IO handlers of conversations. Each parses its payload, performs one service on the ORM
thread (chatserver.dispatch), publishes what it made happen, and answers through the ack.

Customers (and the connectors that speak for them) use the default namespace; agents use
/agent (agents.sockets), where the connection itself is authenticated.
"""

import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any

import socketio
from django.db import DataError

from chatserver import realtime
from chatserver.db import run_sync
from chatserver.dispatch import perform, perform_grouped
from chatserver.errors import (
    Busy,
    ChatError,
    InvalidPayload,
    NotJoined,
    SenderMismatch,
    UnknownEvent,
)
from chatserver.payloads import refuse_oversized
from conversations import selectors, services, wire
from conversations.schemas import (
    Empty,
    EndConversation,
    JoinConversation,
    SendMessage,
    parse,
)

logger = logging.getLogger(__name__)

Handler = Callable[..., Awaitable[dict]]


def acknowledged(schema):
    """Parse the payload with `schema`, run the handler, and turn its outcome into the ack:
    {"ok": true, ...} or {"ok": false, "error": {"code", "message"[, "fields"]}}."""

    def decorate(handler: Handler) -> Callable[[Any, str, Any], Awaitable[dict]]:
        @wraps(handler)
        async def wrapper(self, sid: str, data: Any = None, *ignored: Any) -> dict:
            try:
                if isinstance(data, str | bytes):
                    data = _json_or_none(data)
                if data is None and schema is Empty:
                    data = {}
                refuse_oversized(data)  # before validation, whose cost grows with the input
                result = await handler(self, sid, parse(schema, data))
            except ChatError as error:
                return {"ok": False, "error": error.as_dict()}
            except DataError as error:  # a value the database refuses that validation let through
                logger.warning("%s: the database refused a value: %s", handler.__name__, error)
                return {"ok": False, "error": InvalidPayload("A value could not be stored.").as_dict()}
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

    async def trigger_event(self, event: str, *args: Any) -> Any:
        """Dispatch one event. The events of one connection run one after another, in the
        order they came (python-socketio runs each in a task of its own), so a send right
        after a join sees the join. `connect` and `disconnect` run only when they happen: a
        client that emits them gets the same error as for an event that does not exist."""
        sid = args[0] if args else ""
        if event == "connect":
            if (await self.get_session(sid)).get("connected"):
                return self._unknown(event)
            result = await super().trigger_event(event, *args)
            async with self.session(sid) as session:
                session["connected"] = True
            return result
        if event == "disconnect":
            if self.server.manager.is_connected(sid, self.namespace):  # still connected: sent by the client
                return self._unknown(event)
            try:
                return await super().trigger_event(event, *args)
            finally:
                realtime.forget_event_lock(sid)
        if not isinstance(event, str) or not hasattr(self, f"on_{event}"):
            return self._unknown(event)
        if not realtime.take_on():  # at the in-flight budget: refused at once, nothing done
            return {"ok": False, "error": Busy(retry_after_ms=realtime.busy_retry_ms()).as_dict()}
        try:
            async with realtime.event_lock(sid):
                return await super().trigger_event(event, *args)
        finally:
            realtime.done_with()

    def _unknown(self, event: Any) -> dict:
        unknown = UnknownEvent(f"'{str(event)[:50]}' is not an event of {self.namespace}")
        return {"ok": False, "error": unknown.as_dict()}

    async def agent_id(self, sid: str) -> int | None:
        return None

    async def session_of(self, sid: str) -> dict:
        """The connection's session; empty once it has gone (events it sent may still be queued)."""
        try:
            return await self.get_session(sid)
        except KeyError:
            return {}

    async def joined_participant(self, sid: str, conversation_id: str, claimed: str | None = None) -> str:
        """The participant this connection joined `conversation_id` as; `claimed` (a `from`
        id) must name it, by its id or by the key it joined with."""
        session = await self.session_of(sid)
        joined = session.get("joined", {}).get(conversation_id)
        if joined is None:
            raise NotJoined()
        participant_id, join_key = joined
        if claimed is not None and claimed not in (participant_id, join_key):
            raise SenderMismatch()
        return participant_id

    async def remember_join(self, sid: str, conversation_id: str, participant_id: str, join_key: str = "") -> None:
        # A connection closed mid-join has no session left: what the join stored still stands,
        # and its announcements still go out (no KeyError traceback).
        with contextlib.suppress(KeyError):
            async with self.session(sid) as session:
                session.setdefault("joined", {})[conversation_id] = (participant_id, join_key or participant_id)

    async def forget_join(self, sid: str, conversation_id: str) -> None:
        with contextlib.suppress(KeyError):
            async with self.session(sid) as session:
                session.setdefault("joined", {}).pop(conversation_id, None)

    async def enter(self, sid: str, conversation_id: str, participant_id: str, join_key: str = "") -> None:
        await self.remember_join(sid, conversation_id, participant_id, join_key)

    async def show_conversation(self, sid: str, view: selectors.ParticipantView) -> None:
        info = wire.conversation_info(
            view.conversation, viewer=view.participant, history=view.history, participants=view.participants
        )
        await realtime.send_to(sid, "conversationInfo", info, namespace=self.namespace)

    async def send_missed(self, sid: str, *views: selectors.ParticipantView) -> None:
        """What was stored after the views were read and before this connection was listening
        is in neither their history nor the live stream: send it (clients drop ids they know).
        One more trip to the database, whatever the number of views: it must come after the
        connection is listening, so it cannot be part of the read before."""
        missed = await run_sync(selectors.stored_since, views=list(views))
        for message in missed:
            await realtime.send_to(sid, "messageArrived", wire.message_json(message), namespace=self.namespace)

    @acknowledged(JoinConversation)
    async def on_joinConversation(self, sid: str, request: JoinConversation) -> dict:
        done = await perform(
            services.conversation_join,
            conversation_id=request.conversation_id,
            participant_id=request.participant.id,
            name=request.participant.name,
            after_sequence=request.last_sequence,
            as_agent=await self.agent_id(sid),
        )
        result = done.value
        participant = result.participant
        await self.enter(sid, result.conversation.id, participant.id, participant.join_key or "")
        await self.show_conversation(sid, result)
        if result.greeting is not None:  # agents put in a conversation by routing are not greeted
            await realtime.send_to(sid, "messageArrived", wire.message_json(result.greeting), namespace=self.namespace)
        await self.send_missed(sid, result)
        await realtime.publish(done.deliveries, caller=sid)
        return {"conversationId": result.conversation.id, "participant": wire.participant_json(participant)}

    @acknowledged(SendMessage)
    async def on_sendMessage(self, sid: str, message: SendMessage) -> dict:
        claimed = message.from_.id if message.from_ is not None else None
        participant_id = await self.joined_participant(sid, message.conversation_id, claimed)
        done = await perform_grouped(  # committed with the other messages queued meanwhile
            message.conversation_id,
            services.message_send,
            atomic=True,  # _store is one atomic block; the rest of message_send only reads
            conversation_id=message.conversation_id,
            sender_id=participant_id,
            message=message,
        )
        await realtime.publish(done.deliveries, caller=sid)
        stored = done.value.message
        return {
            "id": stored.id,
            "sequence": stored.sequence,
            "timestamp": wire.iso(stored.created_at),
            "duplicate": done.value.duplicate,
        }

    @acknowledged(EndConversation)
    async def on_endConversation(self, sid: str, request: EndConversation) -> dict:
        participant_id = await self.joined_participant(sid, request.conversation_id)
        done = await perform(
            services.conversation_end, conversation_id=request.conversation_id, participant_id=participant_id
        )
        await realtime.publish(done.deliveries)
        return {"conversationId": done.value.id, "endedAt": wire.iso(done.value.ended_at)}


class CustomerNamespace(ConversationNamespace):
    """The default namespace: customers (the events of the connectors that speak for them are in
    connectors/socketio/namespace.py)."""

    async def enter(self, sid: str, conversation_id: str, participant_id: str, join_key: str = "") -> None:
        await super().enter(sid, conversation_id, participant_id, join_key)
        await realtime.enter_conversation(sid, conversation_id=conversation_id, participant_id=participant_id)
