"""Reads. Nothing here changes the database."""

from dataclasses import dataclass

from django.conf import settings

from chatserver.errors import ConversationNotFound, NotAParticipant, TranscriptNotAvailable
from conversations.models import Conversation, Message, Participant

HIDDEN_FROM_HISTORY = ("typing",)


class HistoryPage(list):
    """Messages of a conversation, and whether the page was full (more may follow)."""

    def __init__(self, messages, *, has_more: bool):
        super().__init__(messages)
        self.has_more = has_more


def participant_in_conversation(
    *, conversation_id: str, participant_id: str, lock: bool = False, by_join_key: bool = False
) -> Participant:
    """The participant (by id, or by a customer's join key), with its conversation loaded;
    the conversation row locked if `lock`."""
    query = Participant.objects.select_related("conversation")
    if lock:
        query = query.select_for_update(of=("conversation",))
    key = {"join_key": participant_id} if by_join_key else {"id": participant_id}
    participant = query.filter(conversation_id=conversation_id, **key).first()
    if participant is None:
        if not Conversation.objects.filter(id=conversation_id).exists():
            raise ConversationNotFound()
        raise NotAParticipant()
    if participant.left_at is not None:
        raise NotAParticipant("This participant has left the conversation.")
    return participant


def participants_of(conversation: Conversation, *, present_only: bool = True) -> list[Participant]:
    query = conversation.participants.all()
    if present_only:
        query = query.filter(left_at__isnull=True)
    return list(query)


def is_visible_to(message: Message, participant: Participant) -> bool:
    """Whispers never reach customers; addressed messages reach their addressees and sender."""
    if message.is_whisper and participant.is_customer:
        return False
    if message.recipients and message.sender_id != participant.id:
        return any(recipient["id"] == participant.id for recipient in message.recipients)
    return True


def conversation_history(
    *, conversation: Conversation, viewer: Participant | None, after_sequence: int | None = None
) -> list[Message]:
    """The messages `viewer` may see (all of them when viewer is None), oldest first, at most
    CHAT_HISTORY_LIMIT; typing indicators are left out. Without `after_sequence` these are the
    newest; with it, the oldest after it, so that a client catching up loses nothing: when it
    got a full page it asks again from the last one it got."""
    query = conversation.messages.exclude(activity_type__in=HIDDEN_FROM_HISTORY)
    if viewer is not None and viewer.is_customer:
        query = query.exclude(tag="whisper")
    if after_sequence is not None:
        page = list(query.filter(sequence__gt=after_sequence).order_by("sequence")[: settings.CHAT_HISTORY_LIMIT])
    else:
        page = list(query.order_by("-sequence")[: settings.CHAT_HISTORY_LIMIT])
        page.reverse()
    visible = page if viewer is None else [message for message in page if is_visible_to(message, viewer)]
    return HistoryPage(visible, has_more=len(page) >= settings.CHAT_HISTORY_LIMIT)


def customer_of(conversation: Conversation) -> Participant | None:
    return conversation.participants.filter(role=Participant.Role.CUSTOMER).first()


def customer_visible_transcript(conversation: Conversation) -> list[Message]:
    """Every chat message (with its attachments) the customer could see, oldest first, no limit."""
    customer = customer_of(conversation)
    messages = conversation.messages.filter(type=Message.Type.CHAT).exclude(tag="whisper").order_by("sequence")
    return [message for message in messages if customer is None or is_visible_to(message, customer)]


def ended_conversation(conversation_id: str) -> Conversation:
    """The conversation if it has ended; transcripts exist for nothing else."""
    conversation = Conversation.objects.filter(id=conversation_id, state=Conversation.State.ENDED).first()
    if conversation is None:
        raise TranscriptNotAvailable()
    return conversation


@dataclass
class ParticipantView:
    """What a participant sees of its conversation (the makings of conversationInfo)."""

    conversation: Conversation
    participant: Participant
    history: list[Message]
    participants: list[Participant]


def stored_since(*, views: list[ParticipantView]) -> list[Message]:
    """For each view, what its participant may see that was stored after the view was read."""
    return [
        message
        for view in views
        for message in conversation_history(
            conversation=view.conversation, viewer=view.participant, after_sequence=view.conversation.last_sequence
        )
    ]


def participant_view(*, participant_id: str) -> ParticipantView:
    """What a participant sees of its conversation: for an agent's connection that resumes."""
    participant = Participant.objects.select_related("conversation").get(pk=participant_id)
    conversation = participant.conversation
    return ParticipantView(
        conversation=conversation,
        participant=participant,
        history=conversation_history(conversation=conversation, viewer=participant),
        participants=participants_of(conversation),
    )
