"""Customers coming in through a connector: one open conversation per contact and channel
(the database's partial unique index decides, not a lookup), a campaign's id carried into the
conversation its reply starts, opt-outs, and conversations ended when the customer went quiet.
"""

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from chatserver import dispatch
from chatserver.errors import ConversationFull
from connectors import outbound, registry
from connectors.models import ContactConversation, OptOut, OutboundMessage, OutboundStatus
from conversations import selectors, services, timeline, wire
from conversations.models import Conversation
from conversations.schemas import InitRequest, SendMessage
from conversations.services import StartResult
from routing import offers
from routing import selectors as routing_selectors

logger = logging.getLogger(__name__)

IDLE_JOB = "connectors.idle"
STOP_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}
START_WORDS = {"START", "UNSTOP", "YES"}
HELP_WORDS = {"HELP", "INFO"}


class _Raced(Exception):
    """Another message from the same contact opened the conversation first."""


def contact_of(request: InitRequest) -> str:
    return request.phone or request.ref_id


def recent_campaign(channel: str, contact: str) -> str:
    since = timezone.now() - timedelta(seconds=settings.CHAT_CAMPAIGN_REPLY_WINDOW)
    latest = (
        OutboundMessage.objects.filter(channel=channel, to=contact, created_at__gte=since)
        .exclude(campaign_id="")
        .exclude(status__in=[OutboundStatus.SUPPRESSED, OutboundStatus.FAILED])  # never reached them
        .order_by("-created_at")
        .values_list("campaign_id", flat=True)
        .first()
    )
    return latest or ""


def conversation_for_contact(*, request: InitRequest, identity_verified: bool = False) -> StartResult:
    """The init of a connector's customer: the conversation this contact has open on this
    channel, or a new one (carrying the campaign id if it answers a campaign message). Other
    channels, or a customer with no phone or refId, start a conversation as always."""
    contact = contact_of(request)
    if not contact or registry.connector_for(request.channel) is None:
        return services.conversation_start(request=request, identity_verified=identity_verified)
    for _ in range(5):
        try:
            return _open_for_contact(request, contact)
        except _Raced:
            continue
    raise IntegrityError("could not settle the conversation of this contact")


def _open_for_contact(request: InitRequest, contact: str) -> StartResult:
    with transaction.atomic():
        link = (
            ContactConversation.objects.select_for_update()
            .select_related("conversation")
            .filter(channel=request.channel, contact=contact, open=True)
            .first()
        )
        if link is not None and link.conversation.is_open:
            link.last_inbound_at = timezone.now()
            link.save(update_fields=["last_inbound_at"])
            customer = selectors.customer_of(link.conversation)
            return StartResult(conversation=link.conversation, customer=customer, created=False)
        if link is not None:  # ended meanwhile (by an agent, the customer, or as idle)
            link.open = False
            link.save(update_fields=["open"])
        campaign_id = recent_campaign(request.channel, contact)
        if campaign_id:
            request = request.model_copy(update={"subject": request.subject or f"Campaign {campaign_id}"[:100]})
            request.__pydantic_extra__ = {**(request.model_extra or {}), "campaignId": campaign_id}
        started = services.conversation_start(request=request)
        try:
            with transaction.atomic():
                ContactConversation.objects.create(
                    channel=request.channel, contact=contact, conversation=started.conversation, campaign_id=campaign_id
                )
        except IntegrityError:
            raise _Raced() from None  # and the conversation just started is rolled back with it
        return started


@dataclass
class Inbound:
    conversation: Conversation
    created: bool
    message_id: str | None


def message_in(
    *,
    channel: str,
    contact: str,
    text: str,
    attachments: list[dict],
    provider_message_id: str = "",
    info: dict | None = None,
) -> Inbound:
    """A customer's message that a built-in connector received: the Customer API's init, join
    and send in one transaction, as an external connector would do them."""
    identity = {"phone": contact} if _is_phone(channel) else {"refId": contact}
    request = InitRequest(channel=channel, **identity)
    fields = {"text": text, "attachments": attachments, "requestId": provider_message_id or None, "info": info or {}}
    with transaction.atomic():
        started = conversation_for_contact(request=request)
        try:
            sent = _send_as_customer(started, fields)
        except ConversationFull:
            # A contact's conversation lasts as long as it writes (SMS customers never end
            # one): a full one ends, and the message opens the next.
            _end_full(started.conversation.id)
            started = conversation_for_contact(request=request)
            sent = _send_as_customer(started, fields)
        if started.created and outbound.is_opted_out(channel, contact):  # agents should know before they reply
            outbound.note_for_agents(started.conversation.id, "optedOut", {"channel": channel, "reason": "earlier"})
    return Inbound(conversation=started.conversation, created=started.created, message_id=sent.message.id)


def _send_as_customer(started: StartResult, fields: dict) -> services.SendResult:
    customer = started.customer
    if customer.joined_at is None:
        services.conversation_join(conversation_id=started.conversation.id, participant_id=customer.join_key)
    message = SendMessage(conversationId=started.conversation.id, type="ChatMessage", **fields)
    return services.message_send(conversation_id=started.conversation.id, sender_id=customer.id, message=message)


def _end_full(conversation_id: str) -> None:
    conversation = Conversation.objects.select_for_update().get(id=conversation_id)
    _close(conversation, info={"endedBy": wire.SYSTEM_SENDER, "reason": "full"})
    logger.info("conversation %s ended: it was full", conversation.id)


def _close(conversation: Conversation, *, info: dict) -> None:
    ended = timeline.close(conversation, info=info)
    dispatch.emit(timeline.broadcast(ended))
    offers.withdraw_all(conversation)
    dispatch.queues_freed(routing_selectors.queues_of_agents_in(conversation.id))


def _is_phone(channel: str) -> bool:
    return registry.contacts_are_phone_numbers(channel)


def open_conversation_of(channel: str, contact: str) -> Conversation | None:
    link = (
        ContactConversation.objects.select_related("conversation")
        .filter(channel=channel, contact=contact, open=True, conversation__state=Conversation.State.OPEN)
        .first()
    )
    return link.conversation if link else None


def opt_out(*, channel: str, contact: str, reason: str) -> None:
    """Nothing more is sent to this contact on this channel until they opt in again; the agents
    of their open conversation see it."""
    with transaction.atomic():
        _, created = OptOut.objects.get_or_create(channel=channel, contact=contact, defaults={"reason": reason[:100]})
        if created and (conversation := open_conversation_of(channel, contact)):
            outbound.note_for_agents(conversation.id, "optedOut", {"channel": channel, "reason": reason[:100]})


def opt_in(*, channel: str, contact: str) -> None:
    with transaction.atomic():
        deleted, _ = OptOut.objects.filter(channel=channel, contact=contact).delete()
        if deleted and (conversation := open_conversation_of(channel, contact)):
            outbound.note_for_agents(conversation.id, "optedIn", {"channel": channel})


def end_idle_conversations() -> int:
    """End the open conversations of CHAT_IDLE_END_CHANNELS whose customer has said nothing for
    CHAT_IDLE_END_AFTER seconds (SMS customers never end a chat themselves)."""
    if settings.CHAT_IDLE_END_AFTER <= 0:
        return 0
    cutoff = timezone.now() - timedelta(seconds=settings.CHAT_IDLE_END_AFTER)
    idle = ContactConversation.objects.filter(
        open=True, channel__in=settings.CHAT_IDLE_END_CHANNELS, last_inbound_at__lt=cutoff
    ).values_list("id", flat=True)[:100]
    ended = 0
    for link_id in list(idle):
        ended += _end_idle(link_id, cutoff)
    return ended


@transaction.atomic
def _end_idle(link_id: int, cutoff) -> int:
    link = ContactConversation.objects.select_for_update().filter(id=link_id, open=True).first()
    if link is None or link.last_inbound_at >= cutoff:
        return 0
    link.open = False
    link.save(update_fields=["open"])
    conversation = Conversation.objects.select_for_update().get(id=link.conversation_id)
    if not conversation.is_open:
        return 0
    _close(
        conversation,
        info={"endedBy": wire.SYSTEM_SENDER, "reason": "idle", "idleSeconds": settings.CHAT_IDLE_END_AFTER},
    )
    logger.info("conversation %s on %s ended: the customer was silent", conversation.id, link.channel)
    return 1
