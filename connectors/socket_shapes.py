"""The shapes of what connectors and agents exchange about outbound messages, for the AsyncAPI
document (chatserver/socket_shapes.py keeps the others; connectors.apps registers these there)."""

from pydantic import Field

from chatserver.socket_shapes import Ack, Shape


class Attachment(Shape):
    type: str | None = None
    name: str | None = None
    contentUrl: str | None = None
    thumbnailUrl: str | None = None


class OutboundMessage(Shape):
    """To a registered connector: send this to the customer; answer through the ack."""

    id: str = Field(description="The outbound message's id; deliveryStatus reports name it.")
    conversationId: str | None
    channel: str
    to: str = Field(description="The customer's contact on the channel (an E.164 number for SMS).")
    text: str
    attachments: list[Attachment]
    campaignId: str | None = None


class StatusError(Shape):
    code: str
    message: str


class MessageStatus(Shape):
    """To the agents of a conversation: how far a reply through a connector got."""

    conversationId: str
    messageId: str | None
    sequence: int | None
    outboundId: str
    channel: str
    status: str = Field(description="queued, sent, delivered, undelivered, failed, read or suppressed")
    error: StatusError | None


class DeliveryStatusAck(Ack):
    id: str
    status: str


ACKS = {"deliveryStatus": DeliveryStatusAck}
CONNECTOR_EVENTS = {
    "outboundMessage": (
        OutboundMessage,
        "A message for a customer of your channel. Ack {ok: true, providerMessageId} or"
        " {ok: false, error: {code, retryable}}; then report deliveryStatus.",
    )
}
AGENT_EVENTS = {"messageStatus": (MessageStatus, "A reply in one of your conversations went out through a connector.")}
SUMMARIES = {
    "deliveryStatus": "What the provider said of an outbound message: sent, delivered, undelivered, failed, read."
}


def register() -> None:
    from chatserver import socket_shapes

    socket_shapes.SUMMARIES.update(SUMMARIES)
    socket_shapes.ACKS.update(ACKS)
    socket_shapes.CONNECTOR_EVENTS.update(CONNECTOR_EVENTS)
    socket_shapes.AGENT_EVENTS.update(AGENT_EVENTS)
