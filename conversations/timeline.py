"""Appending to a conversation's timeline: every stored message gets the next sequence number.

Callers hold the conversation row lock (select_for_update) inside their transaction and save
`last_sequence` once at the end.
"""

from django.utils import timezone

from chatserver.deliveries import Audience, Delivery
from chatserver.errors import ConversationEnded
from conversations import message_store, wire
from conversations.models import Conversation, Message


def append(conversation: Conversation, **fields) -> Message:
    conversation.last_sequence += 1
    return Message.objects.create(conversation=conversation, sequence=conversation.last_sequence, **fields)


def activity(conversation: Conversation, activity_type: str, *, info: dict, to: list[dict] | None = None) -> Message:
    return append(
        conversation,
        type=Message.Type.ACTIVITY,
        activity_type=activity_type,
        info=info,
        recipients=to or [],
    )


def close(conversation: Conversation, *, info: dict) -> Message:
    """End the conversation and store its endOfConversation."""
    conversation.state = Conversation.State.ENDED
    conversation.ended_at = timezone.now()
    conversation.queued_at = None
    ended = activity(conversation, "endOfConversation", info=info)
    conversation.save(update_fields=["state", "ended_at", "queued_at", "last_sequence"])
    return ended


def broadcast(message: Message, *, except_caller: bool = False) -> Delivery:
    """messageArrived for the conversation's customers and its present agents."""
    audience = Audience(
        message.conversation_id,
        agent_ids=message_store.present_agent_ids(message.conversation_id),
        except_caller=except_caller,
    )
    return Delivery("messageArrived", wire.message_json(message), audience)


def require_open(conversation: Conversation) -> None:
    if not conversation.is_open:
        raise ConversationEnded()
