"""Putting an agent into a conversation and taking one out (the conversation's row locked by
the caller)."""

from dataclasses import dataclass

from django.utils import timezone

from agents.models import AgentProfile
from chatserver import dispatch
from chatserver.deliveries import to_agent
from chatserver.errors import ConversationNotFound, NotAParticipant
from conversations import selectors, timeline, wire
from conversations.models import Conversation, Participant
from routing.selectors import queue_ids_of


@dataclass
class AssignResult(selectors.ParticipantView):
    pass


def locked_conversation(conversation_id: str) -> Conversation:
    conversation = Conversation.objects.select_for_update().filter(pk=conversation_id).first()
    if conversation is None:
        raise ConversationNotFound()
    return conversation


def assign(
    conversation: Conversation, agent: AgentProfile, *, activity_type: str, except_caller: bool = False
) -> AssignResult:
    """Make the agent a participant; it is what it sees of the conversation. An agent who was
    in it before comes back as the participant it was, so its earlier messages are still its
    own and it is listed once. `except_caller`: the announcement skips the connection that
    asked (it gets conversationInfo instead)."""
    participant = conversation.participants.agents().filter(agent=agent).order_by("-added_at").first()
    if participant is None:
        participant = conversation.participants.create(
            role=Participant.Role.AGENT, agent=agent, name=agent.display_name[:200], joined_at=timezone.now()
        )
    else:
        participant.left_at, participant.left_reason, participant.name = None, "", agent.display_name[:200]
        participant.save(update_fields=["left_at", "left_reason", "name"])
    conversation.queued_at = None
    notice = timeline.activity(conversation, activity_type, info={"participant": wire.participant_json(participant)})
    conversation.save(update_fields=["queued_at", "last_sequence"])
    AgentProfile.objects.filter(pk=agent.pk).update(idle_since=timezone.now())
    dispatch.emit(timeline.broadcast(notice, except_caller=except_caller))
    return AssignResult(
        conversation=conversation,
        participant=participant,
        history=selectors.conversation_history(conversation=conversation, viewer=participant),
        participants=selectors.participants_of(conversation),
    )


def agent_participant(conversation: Conversation, agent_id: int) -> Participant:
    participant = conversation.participants.present().filter(agent_id=agent_id).first()
    if participant is None:
        raise NotAParticipant("You are not an agent of this conversation.")
    return participant


def remove(conversation: Conversation, participant: Participant, *, activity_type: str, reason: str) -> None:
    """Take an agent out (reason: a Participant.LeftReason); its queues have a free slot now."""
    participant.left_at, participant.left_reason = timezone.now(), reason
    participant.save(update_fields=["left_at", "left_reason"])
    notice = timeline.activity(conversation, activity_type, info={"participant": wire.participant_json(participant)})
    conversation.save(update_fields=["last_sequence"])
    dispatch.emit(
        timeline.broadcast(notice),
        to_agent(participant.agent_id, "conversationRemoved", {"conversationId": conversation.pk}),
    )
    dispatch.queues_freed(queue_ids_of(participant.agent_id))
