"""An agent hands a conversation on: leaves it, transfers it to a queue or an agent, or adds a
second agent."""

from django.db import transaction

from agents.models import AgentProfile
from chatserver import dispatch
from chatserver.deliveries import to_agent
from chatserver.errors import AgentNotFound, AgentUnavailable, NotAllowed, QueueNotFound
from conversations import timeline, wire
from conversations.models import Conversation, Participant
from routing import selectors
from routing.assignment import AssignResult, agent_participant, assign, locked_conversation, remove
from routing.models import Queue
from routing.offers import enqueue, enqueue_if_unattended

LEFT, REMOVED = Participant.LeftReason.LEFT, Participant.LeftReason.REMOVED


@transaction.atomic
def agent_leave(*, agent_id: int, conversation_id: str) -> None:
    conversation = locked_conversation(conversation_id)
    timeline.require_open(conversation)
    remove(conversation, agent_participant(conversation, agent_id), activity_type="participantLeft", reason=LEFT)
    enqueue_if_unattended(conversation)


@transaction.atomic
def conversation_transfer(
    *, agent_id: int, conversation_id: str, queue_name: str | None = None, to_agent_id: int | None = None
) -> None:
    """Hand a conversation on: to another agent at once, or back to a queue for its next agent."""
    conversation = locked_conversation(conversation_id)
    timeline.require_open(conversation)
    leaving = agent_participant(conversation, agent_id)
    if to_agent_id is not None:
        add_agent(conversation, to_agent_id)
        remove(conversation, leaving, activity_type="participantRemoved", reason=REMOVED)
        return
    queue = Queue.objects.filter(name__iexact=queue_name or "").first()
    if queue is None:
        raise QueueNotFound()
    remove(conversation, leaving, activity_type="participantRemoved", reason=REMOVED)
    if selectors.needs_an_agent(conversation):
        enqueue(conversation, queue=queue)
    else:
        conversation.queue = queue
        conversation.save(update_fields=["queue"])


def add_agent(conversation: Conversation, agent_id: int) -> AssignResult:
    """Put a connected agent with a free slot in the conversation (row locked by the caller)."""
    target = AgentProfile.objects.connected().select_for_update(of=("self",)).select_related("user")
    target = target.filter(pk=agent_id).first()
    if target is None:
        if not AgentProfile.objects.filter(pk=agent_id).exists():
            raise AgentNotFound()
        raise AgentUnavailable()
    if conversation.participants.present().filter(agent=target).exists():
        raise NotAllowed("That agent is already in this conversation.")
    if selectors.agent_load(target) >= target.max_chats:
        raise AgentUnavailable()
    result = assign(conversation, target, activity_type="participantAdded")
    dispatch.emit(
        to_agent(
            target.pk,
            "conversationAssigned",
            {"conversationId": conversation.pk, "participant": wire.participant_json(result.participant)},
        )
    )
    return result


@transaction.atomic
def conversation_add_agent(*, agent_id: int, conversation_id: str, to_agent_id: int) -> None:
    """Conference: a second agent joins, the first stays."""
    conversation = locked_conversation(conversation_id)
    timeline.require_open(conversation)
    agent_participant(conversation, agent_id)
    add_agent(conversation, to_agent_id)
