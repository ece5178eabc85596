"""Messages going out to customers through a connector: stored first, delivered by the
background worker (job kind OUTBOUND_JOB), their status kept as the provider reports it.

    queued -> sent -> delivered | undelivered | failed   (and read, where a channel says so)
    queued -> failed      no connector, a permanent error, or out of retries
    queued -> suppressed  the contact opted out

Agents present in the conversation hear each change as `messageStatus`; a reply that could not
be delivered also leaves a `deliveryFailed` activity in the conversation (agents only), so it
is there after a reload too.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from chatserver import dispatch
from chatserver.deliveries import Audience, Delivery
from connectors import registry
from connectors.base import NotReachable, Sent, TransportError
from connectors.models import UNSUCCESSFUL_STATUSES, OptOut, OutboundMessage, OutboundStatus
from connectors.models import Connector as ConnectorRow
from conversations import message_store, wire
from conversations.models import Conversation, Message

logger = logging.getLogger(__name__)

OUTBOUND_JOB = "connectors.outbound"
CLAIM_BATCH = 50
# Later statuses never go back to earlier ones (callbacks arrive out of order).
RANK = {
    OutboundStatus.QUEUED: 0,
    OutboundStatus.SENT: 1,
    OutboundStatus.DELIVERED: 2,
    OutboundStatus.UNDELIVERED: 2,
    OutboundStatus.FAILED: 2,
    OutboundStatus.READ: 3,
    OutboundStatus.SUPPRESSED: 3,
}


def is_opted_out(channel: str, contact: str) -> bool:
    return OptOut.objects.filter(channel=channel, contact=contact).exists()


def outbound_create(
    *,
    channel: str,
    to: str,
    text: str,
    attachments: list[dict] | None = None,
    campaign_id: str = "",
    conversation: Conversation | None = None,
    message: Message | None = None,
    api_key=None,
) -> OutboundMessage:
    """Store a message for a customer and wake the worker. With no connector for the channel
    it is stored as failed, and to an opted-out contact as suppressed: never dropped silently."""
    outbound = OutboundMessage(
        channel=channel,
        to=to,
        text=text,
        attachments=attachments or [],
        campaign_id=campaign_id,
        conversation=conversation,
        message=message,
        api_key=api_key,
    )
    if registry.connector_for(channel) is None:
        outbound.status, outbound.error_code = OutboundStatus.FAILED, "NO_CONNECTOR"
        outbound.error_text = f"No connector carries channel '{channel}'."
    elif is_opted_out(channel, to):
        outbound.status, outbound.error_code = OutboundStatus.SUPPRESSED, "OPTED_OUT"
        outbound.error_text = "The contact opted out of messages on this channel."
    outbound.history = [_entry(outbound.status, outbound.error_code, outbound.error_text)]
    with transaction.atomic():
        outbound.save(force_insert=True)
        if outbound.status == OutboundStatus.QUEUED:
            dispatch.wake(OUTBOUND_JOB)
        else:
            _tell_agents(outbound)
    return outbound


def reply_stored(message: Message) -> OutboundMessage | None:
    """An agent's (or bot's) chat message was stored: if the conversation's channel has a
    connector, the customer gets it through it. Called inside the storing transaction; one query
    when the channel has none."""
    if message.type != Message.Type.CHAT or message.is_whisper or message.sender_role == "customer":
        return None
    conversation = (
        Conversation.objects.only("id", "channel", "customer_phone", "customer_ref_id", "extra")
        .annotate(external_connector=Exists(ConnectorRow.objects.filter(id=OuterRef("channel"))))
        .get(id=message.conversation_id)
    )
    contact = conversation.customer_phone or conversation.customer_ref_id
    if not contact or not (conversation.external_connector or registry.built_in(conversation.channel)):
        return None
    if message.recipients and not _addressed_to_customer(message):
        return None
    return outbound_create(
        channel=conversation.channel,
        to=contact,
        text=message.text,
        attachments=message.attachments,
        campaign_id=str((conversation.extra or {}).get("campaignId", "")),
        conversation=conversation,
        message=message,
    )


def _addressed_to_customer(message: Message) -> bool:
    from conversations.models import Participant

    ids = [recipient.get("id") for recipient in message.recipients]
    return Participant.objects.filter(id__in=ids, role=Participant.Role.CUSTOMER).exists()


def _entry(status: str, code: str = "", text: str = "") -> dict:
    entry = {"status": status, "at": wire.iso(timezone.now())}
    if code or text:
        entry["error"] = {"code": code, "message": text}
    return entry


# --- the worker's side ------------------------------------------------------------------------


def run_pending() -> int:
    """Deliver what is due, in batches; each message is claimed by one worker only."""
    done, connectors, waiting = 0, {}, set()
    while True:
        claimed = _claim_due(connectors, waiting)
        if not claimed:
            return done
        by_channel: dict[str, list[OutboundMessage]] = {}
        for outbound in claimed:
            by_channel.setdefault(outbound.channel, []).append(outbound)
        for channel, messages in by_channel.items():
            outcomes = _send_all(connectors[channel], messages)
            for outbound, outcome in zip(messages, outcomes, strict=True):
                _after_attempt(outbound.id, outcome)
        done += len(claimed)


def _claim_due(connectors: dict, waiting: set[str]) -> list[OutboundMessage]:
    """Claim a batch of due messages this process can send. Channels whose connector is not
    here (not configured in this process, an external connector away from it) are left alone:
    their messages wait, untouched, for a process that can send them."""
    now = timezone.now()
    lease = now + timedelta(seconds=settings.CHAT_CONNECTOR_ACK_TIMEOUT * 3 + 30)
    claimed: list[OutboundMessage] = []
    while not claimed:
        batch = list(OutboundMessage.objects.due(now).exclude(channel__in=waiting)[:CLAIM_BATCH])
        if not batch:
            return []
        for outbound in batch:
            if outbound.channel not in connectors:
                connectors[outbound.channel] = registry.connector_for(outbound.channel)
            connector = connectors[outbound.channel]
            if connector is None or not connector.delivers_here(outbound):
                waiting.add(outbound.channel)
                continue
            # The conditional update is the claim: of two workers, one gets the row.
            if (
                OutboundMessage.objects.due(now)
                .filter(id=outbound.id, claimed_until=outbound.claimed_until)
                .update(claimed_until=lease)
            ):
                claimed.append(outbound)
    return claimed


def _send_all(connector, messages: list[OutboundMessage]) -> list:
    send_many = getattr(connector, "send_many", None)
    if send_many is not None:
        return send_many(messages)
    outcomes = []
    for outbound in messages:
        try:
            outcomes.append(connector.send(outbound))
        except (TransportError, NotReachable) as outcome:
            outcomes.append(outcome)
        except Exception as error:
            logger.exception("connector %s failed on outbound %s", outbound.channel, outbound.id)
            outcomes.append(TransportError(f"The connector failed: {type(error).__name__}"))
    return outcomes


def backoff(attempts: int) -> float:
    return min(settings.CHAT_CONNECTOR_RETRY_BASE * 2 ** (attempts - 1), 3600)


@transaction.atomic
def _after_attempt(outbound_id: str, outcome) -> None:
    outbound = OutboundMessage.objects.select_for_update().filter(id=outbound_id).first()
    if outbound is None:  # deleted meanwhile (in admin, or a test emptying the tables)
        return
    outbound.claimed_until = None
    if isinstance(outcome, NotReachable):
        outbound.save(update_fields=["claimed_until", "updated_at"])
        return
    if isinstance(outcome, Sent):
        outbound.provider_message_id = outbound.provider_message_id or outcome.provider_message_id
        if outbound.status == OutboundStatus.QUEUED:  # a status report may have come first
            _move(outbound, OutboundStatus.SENT)
        outbound.save()
        return
    outbound.attempts += 1
    if outbound.status != OutboundStatus.QUEUED:
        outbound.save()
        return
    code, text = outcome.code, outcome.message[:500]
    if outcome.permanent or outbound.attempts >= settings.CHAT_CONNECTOR_MAX_ATTEMPTS:
        logger.warning("outbound %s on %s failed for good: %s %s", outbound.id, outbound.channel, code, text)
        _move(outbound, OutboundStatus.FAILED, code, text)
    else:
        delay = backoff(outbound.attempts)
        outbound.next_attempt_at = timezone.now() + timedelta(seconds=delay)
        outbound.history.append({**_entry("retrying", code, text), "attempt": outbound.attempts})
        logger.info("outbound %s on %s: %s; trying again in %.1f s", outbound.id, outbound.channel, text, delay)
    outbound.save()


# --- what providers report --------------------------------------------------------------------


def status_reported(
    *,
    channel: str,
    status: str,
    outbound_id: str = "",
    provider_message_id: str = "",
    error_code: str = "",
    error_text: str = "",
) -> OutboundMessage | None:
    """A connector says what became of a message (by our id or the provider's). Statuses that
    would go back (a late 'sent' after 'delivered') are kept in the history only."""
    with transaction.atomic():
        query = OutboundMessage.objects.select_for_update().filter(channel=channel)
        if outbound_id:
            outbound = query.filter(id=outbound_id).first()
        else:
            outbound = query.filter(provider_message_id=provider_message_id).first() if provider_message_id else None
        if outbound is None:
            return None
        if status not in RANK or RANK[status] < RANK[outbound.status] or status == outbound.status:
            outbound.history.append(_entry(status, error_code, error_text))
            outbound.save(update_fields=["history", "updated_at"])
            return outbound
        _move(outbound, status, error_code, error_text[:500])
        outbound.save()
    return outbound


def _move(outbound: OutboundMessage, status: str, code: str = "", text: str = "") -> None:
    outbound.status = status
    if code or text:
        outbound.error_code, outbound.error_text = code, text
    outbound.history.append(_entry(status, code, text))
    _tell_agents(outbound)


def _tell_agents(outbound: OutboundMessage) -> None:
    """messageStatus to the agents in the conversation; a failure also stays as an activity."""
    if outbound.conversation_id is None:
        return
    error = {"code": outbound.error_code, "message": outbound.error_text} if outbound.error_code else None
    payload = {
        "conversationId": outbound.conversation_id,
        "messageId": outbound.message_id,
        "sequence": None,
        "outboundId": outbound.id,
        "channel": outbound.channel,
        "status": outbound.status,
        "error": error,
    }
    if outbound.message_id:
        payload["sequence"] = Message.objects.filter(id=outbound.message_id).values_list("sequence", flat=True).first()
    agents = message_store.present_agent_ids(outbound.conversation_id)
    dispatch.emit(
        Delivery("messageStatus", payload, Audience(outbound.conversation_id, customers=False, agent_ids=agents))
    )
    if outbound.status in UNSUCCESSFUL_STATUSES or outbound.status == OutboundStatus.SUPPRESSED:
        note_for_agents(
            outbound.conversation_id, "deliveryFailed", {k: v for k, v in payload.items() if k != "conversationId"}
        )


def note_for_agents(conversation_id: str, activity_type: str, info: dict) -> Message:
    """Store an activity only agents see (a whisper), and send it to those present."""
    from conversations import timeline

    conversation = Conversation.objects.select_for_update().get(id=conversation_id)
    note = timeline.append(
        conversation, type=Message.Type.ACTIVITY, activity_type=activity_type, info=info, tag="whisper"
    )
    conversation.save(update_fields=["last_sequence"])
    agents = message_store.present_agent_ids(conversation_id)
    dispatch.emit(
        Delivery(
            "messageArrived", wire.message_json(note), Audience(conversation_id, customers=False, agent_ids=agents)
        )
    )
    return note
