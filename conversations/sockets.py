"""Socket.IO handlers. Each parses its payload, calls one service on the ORM thread, publishes
what the service returns (after its transaction committed), and answers through the ack.

Customers (and the connectors that speak for them) use the default namespace; agents use
/agent, where the connection itself is authenticated.
"""

import json
import logging
from collections.abc import Awaitable, Callable
from functools import wraps
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import urlsplit

import socketio
from django.conf import settings
from django.db import DataError

from chatserver.db import run_sync
from connectors import services as connector_services
from conversations import agent_auth, realtime, routing, selectors, services, wire
from conversations.errors import (
    ChatError,
    InvalidPayload,
    NotAllowed,
    NotJoined,
    SenderMismatch,
    Unauthorized,
    UnknownEvent,
)
from conversations.schemas import (
    AddAgent,
    AgentState,
    ConversationRef,
    Empty,
    EndConversation,
    JoinConversation,
    RegisterConnector,
    SendMessage,
    TransferConversation,
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

    async def on_connect(self, sid: str, environ: dict, auth: Any = None) -> None:
        realtime.start_sweeper(sweep_once)

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
        async with realtime.event_lock(sid):
            return await super().trigger_event(event, *args)

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
        async with self.session(sid) as session:
            session.setdefault("joined", {})[conversation_id] = (participant_id, join_key or participant_id)

    async def forget_join(self, sid: str, conversation_id: str) -> None:
        async with self.session(sid) as session:
            session.setdefault("joined", {}).pop(conversation_id, None)

    async def enter(self, sid: str, conversation_id: str, participant_id: str, join_key: str = "") -> None:
        await self.remember_join(sid, conversation_id, participant_id, join_key)

    async def show_conversation(self, sid: str, view: selectors.ParticipantView) -> None:
        info = wire.conversation_info(
            view.conversation, viewer=view.participant, history=view.history, participants=view.participants
        )
        await realtime.send_to(sid, "conversationInfo", info, namespace=self.namespace)

    async def send_missed(self, sid: str, view: selectors.ParticipantView) -> None:
        """What was stored after the view was read and before this connection was listening
        is in neither its history nor the live stream: send it (clients drop ids they know)."""
        missed = await run_sync(
            selectors.conversation_history,
            conversation=view.conversation,
            viewer=view.participant,
            after_sequence=view.conversation.last_sequence,
        )
        for message in missed:
            await realtime.send_to(sid, "messageArrived", wire.message_json(message), namespace=self.namespace)

    @acknowledged(JoinConversation)
    async def on_joinConversation(self, sid: str, request: JoinConversation) -> dict:
        result = await run_sync(
            services.conversation_join,
            conversation_id=request.conversation_id,
            participant_id=request.participant.id,
            name=request.participant.name,
            after_sequence=request.last_sequence,
            as_agent=await self.agent_id(sid),
        )
        participant = result.participant
        await self.enter(sid, result.conversation.id, participant.id, participant.join_key or "")
        await self.show_conversation(sid, result)
        if result.greeting is not None:  # agents put in a conversation by routing are not greeted
            await realtime.send_to(sid, "messageArrived", wire.message_json(result.greeting), namespace=self.namespace)
        await self.send_missed(sid, result)
        await realtime.publish(result.deliveries, skip_sid=sid)
        await realtime.publish(result.announcements)
        return {"conversationId": result.conversation.id, "participant": wire.participant_json(participant)}

    @acknowledged(SendMessage)
    async def on_sendMessage(self, sid: str, message: SendMessage) -> dict:
        claimed = message.from_.id if message.from_ is not None else None
        participant_id = await self.joined_participant(sid, message.conversation_id, claimed)
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

    async def enter(self, sid: str, conversation_id: str, participant_id: str, join_key: str = "") -> None:
        await super().enter(sid, conversation_id, participant_id, join_key)
        await realtime.enter_conversation(sid, conversation_id=conversation_id, participant_id=participant_id)

    @acknowledged(RegisterConnector)
    async def on_registerConnector(self, sid: str, request: RegisterConnector) -> dict:
        registered = (await self.session_of(sid)).get("connector")
        if registered not in (None, request.id):
            raise NotAllowed(f"This connection is connector '{registered}' already.")
        connector = await run_sync(
            connector_services.connector_register, request=request, new_connection=registered is None
        )
        async with self.session(sid) as session:
            session["connector"] = connector.id
        return {"connector": {"id": connector.id, "name": connector.name, "channel": connector.channel}}

    async def on_disconnect(self, sid: str, reason: Any = None) -> None:
        session = await self.get_session(sid)
        if connector_id := session.get("connector"):
            await run_sync(connector_services.connector_disconnect, connector_id=connector_id)


def _same_origin(environ: dict) -> bool:
    origin = environ.get("HTTP_ORIGIN")
    return origin is None or urlsplit(origin).netloc == environ.get("HTTP_HOST")


def _authenticate(environ: dict, auth: Any) -> tuple[Any, dict]:
    """The agent behind a connection, and the credential it used: a bearer token in the `auth`
    payload, else the desk's session cookie (accepted from the server's own pages only)."""
    token = auth.get("token") if isinstance(auth, dict) else None
    if token:
        issued = agent_auth.token_in_force(str(token))
        return issued.agent, {"token_id": issued.pk}
    cookie = SimpleCookie(environ.get("HTTP_COOKIE", ""))
    session = cookie.get(settings.SESSION_COOKIE_NAME)
    if session is None or not _same_origin(environ):
        raise Unauthorized("Connect with auth {token} from POST /api/agent/login, or log in to the agent desk.")
    return agent_auth.agent_for_session(session.value), {"session_key": session.value}


class AgentNamespace(ConversationNamespace):
    """/agent: authenticated agents. Every socket of an agent is in the agent's own room,
    where its offers and the messages of its conversations arrive."""

    async def agent_id(self, sid: str) -> int:
        agent_id = (await self.session_of(sid)).get("agent")
        if agent_id is None:  # the connection has gone
            raise Unauthorized()
        return agent_id

    async def on_connect(self, sid: str, environ: dict, auth: Any = None) -> None:
        try:
            agent, credential = await run_sync(_authenticate, environ=environ, auth=auth)
        except ChatError as error:
            # The client's connect_error gets {"message": ..., "data": {"code": ...}}.
            raise socketio.exceptions.ConnectionRefusedError(error.message, {"code": error.code}) from None
        session = await run_sync(
            routing.agent_connected, agent_id=agent.pk, sid=sid, server_id=realtime.SERVER_ID, **credential
        )
        # Its open chats are joined at once: it may send in them before resume() has run.
        joined = {conversation.id: (participant.id, participant.id) for conversation, participant in session.chats}
        await self.save_session(sid, {"agent": agent.pk, "joined": joined})
        await realtime.enter_agent_room(sid, agent.pk)
        realtime.start_sweeper(sweep_once)
        self.server.start_background_task(self.resume, sid, session)

    async def resume(self, sid: str, session: routing.AgentSession) -> None:
        """After connecting: who the agent is, its open chats with their history (nothing
        sent while it was away is lost), and the offers waiting for it."""
        await realtime.send_to(sid, "agentInfo", {"agent": wire.agent_json(session.agent)}, namespace=self.namespace)
        for _, participant in session.chats:
            await self.show_conversation(sid, await run_sync(selectors.participant_view, participant_id=participant.id))
        for offer in session.offers:
            await realtime.send_to(sid, "conversationOffered", routing.offer_payload(offer), namespace=self.namespace)
        await realtime.publish(session.deliveries)

    async def on_disconnect(self, sid: str, reason: Any = None) -> None:
        await realtime.publish(await run_sync(routing.agent_disconnected, sid=sid))

    @acknowledged(AgentState)
    async def on_agentState(self, sid: str, request: AgentState) -> dict:
        agent, deliveries = await run_sync(
            routing.agent_set_state, agent_id=await self.agent_id(sid), state=request.state
        )
        await realtime.publish(deliveries)
        return {"agent": wire.agent_json(agent)}

    @acknowledged(ConversationRef)
    async def on_acceptConversation(self, sid: str, request: ConversationRef) -> dict:
        result = await run_sync(
            routing.offer_accept, agent_id=await self.agent_id(sid), conversation_id=request.conversation_id
        )
        participant = result.participant
        await self.remember_join(sid, result.conversation.id, participant.id)
        await self.show_conversation(sid, result)
        await self.send_missed(sid, result)
        await realtime.publish(result.deliveries, skip_sid=sid)
        return {"conversationId": result.conversation.id, "participant": wire.participant_json(participant)}

    @acknowledged(ConversationRef)
    async def on_rejectConversation(self, sid: str, request: ConversationRef) -> dict:
        deliveries = await run_sync(
            routing.offer_reject, agent_id=await self.agent_id(sid), conversation_id=request.conversation_id
        )
        await realtime.publish(deliveries)
        return {"conversationId": request.conversation_id}

    @acknowledged(ConversationRef)
    async def on_leaveConversation(self, sid: str, request: ConversationRef) -> dict:
        deliveries = await run_sync(
            routing.agent_leave, agent_id=await self.agent_id(sid), conversation_id=request.conversation_id
        )
        await self.forget_join(sid, request.conversation_id)
        await realtime.publish(deliveries)
        return {"conversationId": request.conversation_id}

    @acknowledged(TransferConversation)
    async def on_transferConversation(self, sid: str, request: TransferConversation) -> dict:
        deliveries = await run_sync(
            routing.conversation_transfer,
            agent_id=await self.agent_id(sid),
            conversation_id=request.conversation_id,
            queue_name=request.queue,
            to_agent_id=request.agent_id,
        )
        await self.forget_join(sid, request.conversation_id)
        await realtime.publish(deliveries)
        return {"conversationId": request.conversation_id}

    @acknowledged(AddAgent)
    async def on_addAgent(self, sid: str, request: AddAgent) -> dict:
        deliveries = await run_sync(
            routing.conversation_add_agent,
            agent_id=await self.agent_id(sid),
            conversation_id=request.conversation_id,
            to_agent_id=request.agent_id,
        )
        await realtime.publish(deliveries)
        return {"conversationId": request.conversation_id}

    @acknowledged(Empty)
    async def on_directory(self, sid: str, request: Empty) -> dict:
        return await run_sync(routing.directory)


async def sweep_once() -> None:
    deliveries = await run_sync(
        routing.sweep, server_id=realtime.SERVER_ID, live_sids=realtime.local_sids(realtime.AGENT_NAMESPACE)
    )
    await realtime.publish(deliveries)
    for sid in await run_sync(agent_auth.withdrawn_connections, server_id=realtime.SERVER_ID):
        await realtime.sio.disconnect(sid, namespace=realtime.AGENT_NAMESPACE)
