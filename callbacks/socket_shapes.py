"""The shapes of callbacks' /agent events and acks, for the AsyncAPI document
(chatserver/socket_shapes.py keeps the others; callbacks.apps registers these there)."""

from pydantic import Field

from chatserver.socket_shapes import Ack, Shape, Timestamp


class Window(Shape):
    start: Timestamp | None
    end: Timestamp | None


class Attempt(Shape):
    at: Timestamp | None
    outcome: str
    note: str
    agent: str | None


class TranscriptLine(Shape):
    from_: str = Field(alias="from")
    role: str
    text: str
    at: Timestamp | None


class Callback(Shape):
    """A callback as an agent sees it (offered to it, or in its hands)."""

    callbackId: str
    state: str = Field(
        description="requested, scheduled, offered, inProgress, completed, retryScheduled, failed, cancelled or expired"
    )
    firstName: str
    lastName: str
    name: str
    phone: str = Field(description="E.164")
    phoneDisplay: str
    email: str
    language: str
    comment: str
    queue: str
    scheduledFor: Timestamp | None
    window: Window | None
    timeZone: str | None
    late: bool
    attempts: list[Attempt]
    maxAttempts: int
    conversationId: str | None
    transcript: list[TranscriptLine]
    expiresAt: Timestamp | None = Field(description="Of the offer; null for a callback in your hands.")
    createdAt: Timestamp | None


class CallbackPayload(Shape):
    callback: Callback


class CallbackIdOnly(Shape):
    callbackId: str


class MyCallbacksAck(Ack):
    offers: list[Callback]
    tasks: list[Callback]


class CallbackAck(Ack):
    callback: Callback


class CallbackIdAck(Ack):
    callbackId: str


class ScheduledAck(Ack):
    callback: Callback
    created: bool


ACKS = {
    "myCallbacks": MyCallbacksAck,
    "acceptCallback": CallbackAck,
    "rejectCallback": CallbackIdAck,
    "callbackOutcome": CallbackAck,
    "scheduleCallback": ScheduledAck,
}
AGENT_EVENTS = {
    "callbackOffered": (Callback, "A due callback is offered to you; answer before expiresAt."),
    "callbackOfferWithdrawn": (CallbackIdOnly, "A callback offer to you ended without your answer."),
    "callbackUpdated": (CallbackPayload, "A callback in your hands changed (cancelled by the visitor, rescheduled)."),
}


SUMMARIES = {
    "myCallbacks": "Your pending callback offers and the callbacks in your hands (the desk asks on connect).",
    "acceptCallback": "Accept a callback offer: call the visitor, then say how it went with callbackOutcome.",
    "rejectCallback": "Decline a callback offer; it goes to the next agent.",
    "callbackOutcome": "How the call went: completed, noAnswer or busy (retried), wrongNumber, cancelledByCustomer.",
    "scheduleCallback": "From a chat: have this customer called back at a time.",
}


def register() -> None:
    from chatserver import socket_shapes

    socket_shapes.SUMMARIES.update(SUMMARIES)
    socket_shapes.ACKS.update(ACKS)
    socket_shapes.AGENT_EVENTS.update(AGENT_EVENTS)
