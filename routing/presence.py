"""Agents coming and going: their sockets, and their ready / not ready state."""

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from agents.models import AgentConnection, AgentProfile, ServerProcess
from chatserver import dispatch
from conversations import selectors
from conversations.models import Conversation, Participant
from conversations.selectors import ParticipantView
from routing.models import Offer
from routing.offers import reoffer, safely, withdraw_offers
from routing.selectors import queue_ids_of


@transaction.atomic
def agent_set_state(*, agent_id: int, state: str) -> AgentProfile:
    """Not ready withdraws the agent's pending offers (their conversations go to others);
    ready frees its slots. Offers are changed before the agent row (the lock order of the rest
    of routing)."""
    if state != AgentProfile.State.READY:
        withdraw_offers(Offer.objects.pending().filter(agent_id=agent_id))
    agent = AgentProfile.objects.select_related("user").get(pk=agent_id)
    if agent.state != state:
        agent.state = state
        if state == AgentProfile.State.READY:
            agent.idle_since = timezone.now()
        agent.save(update_fields=["state", "idle_since"])
    dispatch.queues_freed(queue_ids_of(agent_id))
    return agent


@dataclass
class AgentSession:
    agent: AgentProfile
    chats: list[ParticipantView]  # the agent's open chats, as it sees them
    offers: list[Offer]


@transaction.atomic
def agent_connected(
    *, agent_id: int, sid: str, server_id: str, token_id: int | None = None, session_key: str = ""
) -> AgentSession:
    """A socket of the agent connected: it counts as present again, and gets its open chats
    and pending offers."""
    now = timezone.now()
    ServerProcess.objects.update_or_create(server_id=server_id, defaults={"seen_at": now})  # live from now
    AgentConnection.objects.update_or_create(
        sid=sid,
        defaults={
            "agent_id": agent_id,
            "server_id": server_id,
            "seen_at": now,
            "token_id": token_id,
            "session_key": session_key,
        },
    )
    AgentProfile.objects.filter(pk=agent_id, disconnected_at__isnull=False).update(disconnected_at=None)
    agent = AgentProfile.objects.select_related("user").get(pk=agent_id)
    chats = [
        selectors.participant_view(participant_id=participant_id)
        for participant_id in Participant.objects.present()
        .filter(agent=agent, conversation__state=Conversation.State.OPEN)
        .values_list("pk", flat=True)
    ]
    offers = list(Offer.objects.pending().select_related("conversation__queue").filter(agent=agent, expires_at__gt=now))
    dispatch.queues_freed(queue_ids_of(agent_id))
    return AgentSession(agent=agent, chats=chats, offers=offers)


def agent_disconnected(*, sid: str) -> None:
    """The socket is gone. When it was the agent's last, its offers go to the next agent at
    once; its chats wait for it for CHAT_AGENT_GRACE seconds (see the sweep)."""
    for offer_id in _disconnect(sid=sid):
        safely(reoffer, offer_id, state=Offer.State.WITHDRAWN)


@transaction.atomic
def _disconnect(*, sid: str) -> list[int]:
    """Forget the connection; the ids of the offers to pass on if it was the agent's last."""
    connection = AgentConnection.objects.filter(sid=sid).first()
    if connection is None:
        return []
    connection.delete()
    if AgentProfile.objects.connected().filter(pk=connection.agent_id).exists():
        return []
    AgentProfile.objects.filter(pk=connection.agent_id).update(disconnected_at=timezone.now())
    return list(Offer.objects.pending().filter(agent_id=connection.agent_id).values_list("pk", flat=True))
