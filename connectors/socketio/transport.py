"""The external connector's transport: an `outboundMessage` to one of its sockets, answered by
the ack. Runs in the worker (a thread of the server process); the emits run on the server's loop.

Every connection that registered as the connector is in its room; the worker sends each
message it claimed to one of this process's sockets in that room, spreading a batch over them,
so two connections share the work and neither gets what the other got.
"""

import asyncio
import logging

from django.conf import settings

from chatserver import realtime
from connectors.base import Connector, NotReachable, Sent, TransportError
from connectors.models import OutboundMessage

logger = logging.getLogger(__name__)

NAMESPACE = realtime.CUSTOMER_NAMESPACE


def room_of_connector(connector_id: str) -> str:
    return f"connector:{connector_id}"


def local_sockets(connector_id: str) -> list[str]:
    """This process's connections registered as the connector."""
    return sorted(sid for sid, _ in realtime.sio.manager.get_participants(NAMESPACE, room_of_connector(connector_id)))


def outbound_payload(message: OutboundMessage) -> dict:
    payload = {
        "id": message.id,
        "conversationId": message.conversation_id,
        "channel": message.channel,
        "to": message.to,
        "text": message.text,
        "attachments": message.attachments,
    }
    if message.campaign_id:
        payload["campaignId"] = message.campaign_id
    return payload


def outcome_of(ack) -> Sent | TransportError:
    if isinstance(ack, dict) and ack.get("ok") is True:
        return Sent(provider_message_id=str(ack.get("providerMessageId") or "")[:100])
    error = ack.get("error") if isinstance(ack, dict) else None
    if not isinstance(error, dict):
        return TransportError("The connector's ack was not {ok, ...}.", permanent=False, code="BAD_ACK")
    return TransportError(
        str(error.get("message") or "The connector could not send it.")[:500],
        permanent=error.get("retryable") is False,
        code=str(error.get("code") or "")[:64],
    )


class SocketIOConnector(Connector):
    def __init__(self, channel: str):
        self.channel = channel

    def delivers_here(self, message: OutboundMessage) -> bool:
        return realtime.serving_loop() is not None and bool(local_sockets(self.channel))

    def send(self, message: OutboundMessage) -> Sent:
        outcome = self.send_many([message])[0]
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def send_many(self, messages: list[OutboundMessage]) -> list:
        loop = realtime.serving_loop()
        if loop is None:
            return [NotReachable()] * len(messages)
        timeout = settings.CHAT_CONNECTOR_ACK_TIMEOUT
        future = asyncio.run_coroutine_threadsafe(self._send_on_loop(messages, ack_within=timeout), loop)
        return future.result(timeout=timeout + 10)

    async def _send_on_loop(self, messages: list[OutboundMessage], *, ack_within: float) -> list:
        sids = local_sockets(self.channel)
        if not sids:
            return [NotReachable()] * len(messages)

        async def one(message: OutboundMessage, sid: str):
            try:
                ack = await realtime.sio.call(
                    "outboundMessage", outbound_payload(message), to=sid, namespace=NAMESPACE, timeout=ack_within
                )
            except TimeoutError:
                return TransportError(f"No ack within {ack_within:g} s.", code="ACK_TIMEOUT")
            except Exception as error:  # the socket went meanwhile
                logger.info("outboundMessage %s to %s: %r", message.id, sid, error)
                return TransportError("The connector's connection went.", code="DISCONNECTED")
            return outcome_of(ack)

        return await asyncio.gather(*(one(m, sids[i % len(sids)]) for i, m in enumerate(messages)))
