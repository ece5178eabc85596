"""Changes. Each service is one transaction; what it makes happen for others is said through
chatserver.dispatch, which sends it once the transaction has committed."""

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from chatserver import dispatch
from chatserver.deliveries import Audience, Delivery
from chatserver.errors import (
    ConversationEnded,
    ConversationFull,
    InvalidPayload,
    NotAllowed,
    NotAParticipant,
    RequestIdConflict,
)
from chatserver.ids import new_secret_id
from connectors import outbound
from conversations import message_store, selectors, timeline, wire
from conversations.models import Conversation, Message, Participant
from conversations.schemas import InitRequest, SendMessage
from routing import offers
from routing import selectors as routing_selectors
from widget import catalogue


@dataclass
class StartResult:
    conversation: Conversation
    customer: Participant
    created: bool


@dataclass
class JoinResult(selectors.ParticipantView):
    greeting: Message | None = None  # None for agents that routing put in the conversation


@dataclass
class SendResult:
    message: Message
    duplicate: bool


def _identity(request: InitRequest) -> tuple:
    return (request.channel, request.first_name, request.last_name, request.email, request.phone, request.ref_id)


def _conversation_identity(conversation: Conversation) -> tuple:
    c = conversation
    return (
        c.channel,
        c.customer_first_name,
        c.customer_last_name,
        c.customer_email,
        c.customer_phone,
        c.customer_ref_id,
    )


def _replayed_start(request: InitRequest) -> StartResult | None:
    """The conversation an earlier init with the same requestId started, if any."""
    if not request.request_id:
        return None
    conversation = Conversation.objects.filter(request_id=request.request_id).first()
    if conversation is None:
        return None
    if _conversation_identity(conversation) != _identity(request):
        raise RequestIdConflict()
    customer = selectors.customer_of(conversation)
    return StartResult(conversation=conversation, customer=customer, created=False)


def conversation_start(*, request: InitRequest, identity_verified: bool = False) -> StartResult:
    """Open a conversation for a customer (POST /api/customer/init). A replayed requestId
    returns the conversation it started instead of a second one."""
    if replay := _replayed_start(request):
        return replay
    try:
        with transaction.atomic():
            conversation = Conversation.objects.create(
                channel=request.channel,
                subject=request.subject,
                language=request.language,
                customer_first_name=request.first_name,
                customer_last_name=request.last_name,
                customer_email=request.email,
                customer_phone=request.phone,
                customer_ref_id=request.ref_id,
                page_url=request.url,
                comment=request.comment,
                extra=request.model_extra or {},
                request_id=request.request_id or None,
                identity_verified=identity_verified,
            )
            name = " ".join(p for p in (request.first_name, request.last_name) if p)
            customer = conversation.participants.create(
                role=Participant.Role.CUSTOMER,
                name=(name or request.ref_id or request.phone or request.email)[:200],
                join_key=new_secret_id(),
            )
    except IntegrityError:
        # Two inits with one requestId raced; the other one won.
        if replay := _replayed_start(request):
            return replay
        raise
    return StartResult(conversation=conversation, customer=customer, created=True)


@transaction.atomic
def participant_add(*, conversation_id: str, role: str, name: str, agent_id: int | None = None) -> Participant:
    """Add a participant (an agent, a bot) to an open conversation directly, without routing."""
    conversation = Conversation.objects.select_for_update().get(id=conversation_id)
    timeline.require_open(conversation)
    if agent_id is not None:
        conversation.queued_at = None
        conversation.save(update_fields=["queued_at"])
        offers.withdraw_all(conversation)  # its pending offer, if any, is void now
    return conversation.participants.create(role=role, name=name, agent_id=agent_id)


@transaction.atomic
def conversation_join(
    *,
    conversation_id: str,
    participant_id: str,
    name: str = "",
    after_sequence: int | None = None,
    as_agent: int | None = None,
) -> JoinResult:
    """A participant's connection joins its conversation: customers on the default namespace
    with the key init gave them (`participant_id`), agents (as_agent: the authenticated agent)
    on /agent with their participant id, each only as themselves. The first
    join stores the greeting (addressed to the joiner) and a participantJoined for the others;
    a customer's conversation with no agent enters its queue."""
    participant = selectors.participant_in_conversation(
        conversation_id=conversation_id, participant_id=participant_id, lock=True, by_join_key=as_agent is None
    )
    if (participant.agent_id or None) != as_agent or (as_agent is None and not participant.is_customer):
        raise NotAParticipant("Join as yourself: customers on the default namespace, agents on /agent.")
    conversation = participant.conversation
    timeline.require_open(conversation)
    # The history is what was there before this join; what the join itself stores arrives live.
    history = selectors.conversation_history(
        conversation=conversation, viewer=participant, after_sequence=after_sequence
    )
    if name and name != participant.name:
        participant.name = name
        participant.save(update_fields=["name"])
    if participant.joined_at is None:
        participant.joined_at = timezone.now()
        participant.save(update_fields=["joined_at"])
        greeting = timeline.activity(
            conversation,
            "greetings",
            info={"text": catalogue.greeting(conversation.language)},
            to=[{"id": participant.id, "name": participant.name}],
        )
        joined = timeline.activity(
            conversation, "participantJoined", info={"participant": wire.participant_json(participant)}
        )
        conversation.save(update_fields=["last_sequence"])
        dispatch.emit(timeline.broadcast(joined, except_caller=True))
    else:
        greeting = (
            conversation.messages.filter(activity_type="greetings", recipients__0__id=participant.id)
            .order_by("sequence")
            .first()
        )
    if participant.is_customer:
        offers.enqueue_if_unattended(conversation)
    return JoinResult(
        conversation=conversation,
        participant=participant,
        history=history,
        participants=selectors.participants_of(conversation),
        greeting=greeting,
    )


def _recipients(conversation_id: str, message: SendMessage) -> list[Participant]:
    if not message.to:
        return []
    wanted = {ref.id for ref in message.to}
    found = list(Participant.objects.filter(conversation_id=conversation_id, id__in=wanted, left_at__isnull=True))
    if unknown := wanted - {p.id for p in found}:
        raise InvalidPayload(
            "'to' names participants that are not in this conversation.",
            fields={"to": ", ".join(sorted(unknown))},
        )
    if message.tag == "whisper" and any(p.is_customer for p in found):
        raise NotAllowed("A whisper cannot be addressed to a customer.")
    return found


def _audience(
    conversation_id: str, *, whisper: bool, recipients: list[Participant], present_agent_ids: tuple[int, ...]
) -> Audience:
    if recipients:
        return Audience(
            conversation_id,
            participant_ids=tuple(p.id for p in recipients if p.is_customer),
            agent_ids=tuple(p.agent_id for p in recipients if p.agent_id),
            customers=any(p.is_customer for p in recipients),
            except_caller=True,
        )
    return Audience(
        conversation_id,
        customers=not whisper,
        agent_ids=present_agent_ids,
        except_caller=True,
    )


def message_send(*, conversation_id: str, sender_id: str, message: SendMessage) -> SendResult:
    """Store a message, then say who receives it. Three statements in plain SQL
    (conversations.message_store), whatever the size of the conversation. A repeated requestId
    from the same sender stores nothing new: the unique index refuses it (and the transaction,
    sequence number included, is rolled back), then the first message is the answer."""
    try:
        return _store(conversation_id=conversation_id, sender_id=sender_id, message=message)
    except IntegrityError:
        earlier = message.request_id and _earlier(conversation_id, sender_id, message.request_id)
        if not earlier:
            raise
        return SendResult(message=earlier, duplicate=True)


@transaction.atomic
def _store(*, conversation_id: str, sender_id: str, message: SendMessage) -> SendResult:
    sender, present_agent_ids = message_store.sender_and_agents(conversation_id, sender_id)
    if sender is None:
        selectors.participant_in_conversation(conversation_id=conversation_id, participant_id=sender_id)
        raise NotAParticipant()  # it exists but has left
    if not sender.conversation_open:
        raise ConversationEnded()
    if message.tag == "whisper" and sender.is_customer:
        raise NotAllowed("Customers cannot whisper.")
    recipients = _recipients(conversation_id, message)
    lines, characters = _size_in_a_transcript(message)
    sequence = message_store.next_sequence(conversation_id, lines=lines, characters=characters)
    if sequence is None:
        raise ConversationEnded() if message_store.has_ended(conversation_id) else ConversationFull()
    stored = message_store.insert(
        conversation_id=conversation_id,
        sequence=sequence,
        type=message.type,
        activity_type=message.activity_type,
        sender_id=sender.id,
        sender_name=sender.name,
        sender_role=sender.role,
        recipients=[{"id": p.id, "name": p.name} for p in recipients],
        tag=message.tag,
        text=message.text,
        language=message.language or sender.conversation_language,
        ref_id=message.ref_id,
        attachments=[a.model_dump(by_alias=True, exclude_none=True) for a in message.attachments],
        info=message.info,
        request_id=message.request_id,
        client_timestamp=message.timestamp,
    )
    audience = _audience(
        conversation_id, whisper=stored.is_whisper, recipients=recipients, present_agent_ids=present_agent_ids
    )
    dispatch.emit(Delivery("messageArrived", wire.message_json(stored), audience))
    if not sender.is_customer:  # on a connector's channel, the customer gets it through the connector
        outbound.reply_stored(stored)
    return SendResult(message=stored, duplicate=False)


def _size_in_a_transcript(message: SendMessage) -> tuple[int, int]:
    """What a message counts against its conversation's caps (CHAT_MAX_MESSAGES_PER_CONVERSATION,
    CHAT_MAX_CONVERSATION_TEXT), which bound the transcript PDF: the lines it gets there (one,
    and one per attachment) and the characters printed (the text, each attachment's name and
    type, and its URL when it is a web address). A typing indicator is not printed, and a desk
    sends one every 2 s while its agent types: it counts for nothing."""
    if message.type != Message.Type.CHAT:
        return 0, 0
    printed = len(message.text)
    for attachment in message.attachments:
        url = attachment.content_url
        printed += len(attachment.name) + len(attachment.type)
        printed += len(url) if url[:6].lower() in ("http:/", "https:") else 0
    return 1 + len(message.attachments), printed


def _earlier(conversation_id: str, sender_id: str, request_id: str) -> Message | None:
    return Message.objects.filter(conversation_id=conversation_id, sender_id=sender_id, request_id=request_id).first()


@transaction.atomic
def conversation_end(*, conversation_id: str, participant_id: str) -> Conversation:
    """End the conversation for everyone; later sends and joins are refused. Its agents have a
    free slot in their queues now."""
    participant = selectors.participant_in_conversation(
        conversation_id=conversation_id, participant_id=participant_id, lock=True
    )
    conversation = participant.conversation
    timeline.require_open(conversation)
    ended = timeline.close(conversation, info={"endedBy": wire.participant_json(participant)})
    dispatch.emit(timeline.broadcast(ended))
    offers.withdraw_all(conversation)
    dispatch.queues_freed(routing_selectors.queues_of_agents_in(conversation_id))
    return conversation
