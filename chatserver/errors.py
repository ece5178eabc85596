"""Domain errors. Each has one code (for Socket.IO acks) and one HTTP status (for REST).

The list is documented in docs/errors.md; keep the two in step.
"""


class ChatError(Exception):
    code = "INTERNAL_ERROR"
    http_status = 500
    default_message = "Something went wrong on the server."

    def __init__(self, message: str | None = None, *, fields: dict[str, str] | None = None):
        super().__init__(message or self.default_message)
        self.message = message or self.default_message
        self.fields = fields or {}

    def as_dict(self) -> dict:
        error: dict = {"code": self.code, "message": self.message}
        if self.fields:
            error["fields"] = self.fields
        return error


class InvalidPayload(ChatError):
    code = "INVALID_PAYLOAD"
    http_status = 400
    default_message = "The payload is not valid."


class PayloadTooLarge(ChatError):
    code = "PAYLOAD_TOO_LARGE"
    http_status = 413
    default_message = "The payload is too large."


class Unauthorized(ChatError):
    code = "UNAUTHORIZED"
    http_status = 401
    default_message = "Missing or wrong credentials."


class ConversationNotFound(ChatError):
    code = "CONVERSATION_NOT_FOUND"
    http_status = 404
    default_message = "No such conversation."


class NotAParticipant(ChatError):
    code = "NOT_A_PARTICIPANT"
    http_status = 403
    default_message = "That participant does not belong to this conversation."


class NotJoined(ChatError):
    code = "NOT_JOINED"
    http_status = 403
    default_message = "Join the conversation on this connection first."


class SenderMismatch(ChatError):
    code = "SENDER_MISMATCH"
    http_status = 403
    default_message = "'from' must be the participant that joined on this connection."


class NotAllowed(ChatError):
    code = "NOT_ALLOWED"
    http_status = 403
    default_message = "This participant may not do that."


class ConversationEnded(ChatError):
    code = "CONVERSATION_ENDED"
    http_status = 409
    default_message = "The conversation has ended."


class RequestIdConflict(ChatError):
    code = "REQUEST_ID_CONFLICT"
    http_status = 409
    default_message = "This requestId was already used for a different request."


class TranscriptNotAvailable(ChatError):
    code = "TRANSCRIPT_NOT_AVAILABLE"
    http_status = 404
    default_message = "No transcript: the conversation is unknown or still ongoing."


class UnsupportedTranscriptType(ChatError):
    code = "UNSUPPORTED_TRANSCRIPT_TYPE"
    http_status = 400
    default_message = "Transcript type must be 'pdf' or 'email'."


class NoCustomerEmail(ChatError):
    code = "NO_CUSTOMER_EMAIL"
    http_status = 422
    default_message = "The customer left no email address to send the transcript to."


class EmailNotSent(ChatError):
    code = "EMAIL_NOT_SENT"
    http_status = 503
    default_message = "The mail server did not take the transcript; try again later."


class ConnectorUnknown(ChatError):
    code = "CONNECTOR_UNKNOWN"
    http_status = 404
    default_message = "No connector with that id; create it in admin or with create_connector."


class NotOffered(ChatError):
    code = "NOT_OFFERED"
    http_status = 409
    default_message = "This conversation is not (or no longer) offered to you."


class QueueNotFound(ChatError):
    code = "QUEUE_NOT_FOUND"
    http_status = 404
    default_message = "No such queue."


class AgentNotFound(ChatError):
    code = "AGENT_NOT_FOUND"
    http_status = 404
    default_message = "No such agent."


class AgentUnavailable(ChatError):
    code = "AGENT_UNAVAILABLE"
    http_status = 409
    default_message = "That agent is not connected, or has no free capacity."


class TooManyAttempts(ChatError):
    code = "TOO_MANY_ATTEMPTS"
    http_status = 429
    default_message = "Too many failed logins; wait a few minutes and try again."


class UnknownEvent(ChatError):
    code = "UNKNOWN_EVENT"
    http_status = 404
    default_message = "No such event on this namespace."


class Busy(ChatError):
    """The process has as many events in flight as it takes on (CHAT_MAX_IN_FLIGHT): nothing
    was done; send the same event again (same requestId) after retryAfterMs."""

    code = "BUSY"
    http_status = 503
    default_message = "The server is busy; try again shortly."

    def __init__(self, message: str | None = None, *, retry_after_ms: int = 200):
        super().__init__(message)
        self.retry_after_ms = retry_after_ms

    def as_dict(self) -> dict:
        return {**super().as_dict(), "retryAfterMs": self.retry_after_ms}


ALL_ERRORS: list[type[ChatError]] = [ChatError, *ChatError.__subclasses__()]
