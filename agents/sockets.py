"""The /agent namespace: authenticated agents. Every socket of an agent is in the agent's own
room, where its offers and the messages of its conversations arrive."""

from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import urlsplit

import socketio
from django.conf import settings

from agents import auth
from callbacks.sockets import CallbackEvents
from chatserver import realtime
from chatserver.db import run_sync
from chatserver.dispatch import perform
from chatserver.errors import ChatError, Unauthorized
from conversations import wire
from conversations.schemas import AddAgent, AgentState, ConversationRef, Empty, TransferConversation
from conversations.sockets import ConversationNamespace, acknowledged
from routing import offers, presence, transfers
from routing import selectors as routing_selectors


def _same_origin(environ: dict) -> bool:
    origin = environ.get("HTTP_ORIGIN")
    return origin is None or urlsplit(origin).netloc == environ.get("HTTP_HOST")


def _authenticate(environ: dict, credentials: Any) -> tuple[Any, dict]:
    """The agent behind a connection, and the credential it used: a bearer token in the `auth`
    payload, else the desk's session cookie (accepted from the server's own pages only)."""
    token = credentials.get("token") if isinstance(credentials, dict) else None
    if token:
        issued = auth.token_in_force(str(token))
        return issued.agent, {"token_id": issued.pk}
    cookie = SimpleCookie(environ.get("HTTP_COOKIE", ""))
    session = cookie.get(settings.SESSION_COOKIE_NAME)
    if session is None or not _same_origin(environ):
        raise Unauthorized("Connect with auth {token} from POST /api/agent/login, or log in to the agent desk.")
    return auth.agent_for_session(session.value), {"session_key": session.value}


class AgentNamespace(CallbackEvents, ConversationNamespace):
    async def agent_id(self, sid: str) -> int:
        agent_id = (await self.session_of(sid)).get("agent")
        if agent_id is None:  # the connection has gone
            raise Unauthorized()
        return agent_id

    async def on_connect(self, sid: str, environ: dict, credentials: Any = None) -> None:
        try:
            agent, credential = await run_sync(_authenticate, environ=environ, credentials=credentials)
        except ChatError as error:
            # The client's connect_error gets {"message": ..., "data": {"code": ...}}.
            raise socketio.exceptions.ConnectionRefusedError(error.message, {"code": error.code}) from None
        done = await perform(
            presence.agent_connected, agent_id=agent.pk, sid=sid, server_id=realtime.SERVER_ID, **credential
        )
        session = done.value
        # Its open chats are joined at once: it may send in them before resume() has run.
        joined = {chat.conversation.id: (chat.participant.id, chat.participant.id) for chat in session.chats}
        await self.save_session(sid, {"agent": agent.pk, "joined": joined})
        await realtime.enter_agent_room(sid, agent.pk)
        self.server.start_background_task(self.resume, sid, session, done.deliveries)

    async def resume(self, sid: str, session: presence.AgentSession, deliveries: list) -> None:
        """After connecting: who the agent is, its open chats with their history (nothing
        sent while it was away is lost), and the offers waiting for it."""
        await realtime.send_to(sid, "agentInfo", {"agent": wire.agent_json(session.agent)}, namespace=self.namespace)
        for chat in session.chats:
            await self.show_conversation(sid, chat)
        for offer in session.offers:
            payload = routing_selectors.offer_payload(offer)
            await realtime.send_to(sid, "conversationOffered", payload, namespace=self.namespace)
        if session.chats:
            await self.send_missed(sid, *session.chats)
        await realtime.publish(deliveries)

    async def on_disconnect(self, sid: str, reason: Any = None) -> None:
        await realtime.publish((await perform(presence.agent_disconnected, sid=sid)).deliveries)

    @acknowledged(AgentState)
    async def on_agentState(self, sid: str, request: AgentState) -> dict:
        done = await perform(presence.agent_set_state, agent_id=await self.agent_id(sid), state=request.state)
        await realtime.publish(done.deliveries)
        return {"agent": wire.agent_json(done.value)}

    @acknowledged(ConversationRef)
    async def on_acceptConversation(self, sid: str, request: ConversationRef) -> dict:
        done = await perform(
            offers.offer_accept, agent_id=await self.agent_id(sid), conversation_id=request.conversation_id
        )
        result = done.value
        participant = result.participant
        await self.remember_join(sid, result.conversation.id, participant.id)
        await self.show_conversation(sid, result)
        await self.send_missed(sid, result)
        await realtime.publish(done.deliveries, caller=sid)
        return {"conversationId": result.conversation.id, "participant": wire.participant_json(participant)}

    @acknowledged(ConversationRef)
    async def on_rejectConversation(self, sid: str, request: ConversationRef) -> dict:
        done = await perform(
            offers.offer_reject, agent_id=await self.agent_id(sid), conversation_id=request.conversation_id
        )
        await realtime.publish(done.deliveries)
        return {"conversationId": request.conversation_id}

    @acknowledged(ConversationRef)
    async def on_leaveConversation(self, sid: str, request: ConversationRef) -> dict:
        done = await perform(
            transfers.agent_leave, agent_id=await self.agent_id(sid), conversation_id=request.conversation_id
        )
        await self.forget_join(sid, request.conversation_id)
        await realtime.publish(done.deliveries)
        return {"conversationId": request.conversation_id}

    @acknowledged(TransferConversation)
    async def on_transferConversation(self, sid: str, request: TransferConversation) -> dict:
        done = await perform(
            transfers.conversation_transfer,
            agent_id=await self.agent_id(sid),
            conversation_id=request.conversation_id,
            queue_name=request.queue,
            to_agent_id=request.agent_id,
        )
        await self.forget_join(sid, request.conversation_id)
        await realtime.publish(done.deliveries)
        return {"conversationId": request.conversation_id}

    @acknowledged(AddAgent)
    async def on_addAgent(self, sid: str, request: AddAgent) -> dict:
        done = await perform(
            transfers.conversation_add_agent,
            agent_id=await self.agent_id(sid),
            conversation_id=request.conversation_id,
            to_agent_id=request.agent_id,
        )
        await realtime.publish(done.deliveries)
        return {"conversationId": request.conversation_id}

    @acknowledged(Empty)
    async def on_directory(self, sid: str, request: Empty) -> dict:
        return await run_sync(routing_selectors.directory)
