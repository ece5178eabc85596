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


class ConversationFull(ChatError):
    code = "CONVERSATION_FULL"
    http_status = 409
    default_message = "The conversation holds as many messages as it may; start a new one."


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


class TooManyEmails(ChatError):
    code = "TOO_MANY_EMAILS"
    http_status = 429
    default_message = "This transcript was mailed often enough lately; try again later."


class PdfUnavailable(ChatError):
    code = "PDF_UNAVAILABLE"
    http_status = 503
    default_message = "This server cannot make PDFs: WeasyPrint or the system's Pango is missing (see the README)."


class TranscriptBusy(ChatError):
    code = "TRANSCRIPT_BUSY"
    http_status = 503
    default_message = "The server is rendering other transcripts; try again in a few seconds."


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


class CallbackNotFound(ChatError):
    code = "CALLBACK_NOT_FOUND"
    http_status = 404
    default_message = "No callback with this id and key."


class CallbackNotOpen(ChatError):
    code = "CALLBACK_NOT_OPEN"
    http_status = 409
    default_message = "This callback is no longer open, or not in a state that allows this."


class SlotFull(ChatError):
    code = "SLOT_FULL"
    http_status = 409
    default_message = "Every callback slot in this window is taken."

    def __init__(self, message: str | None = None, *, next_free_slot: str | None = None):
        super().__init__(message)
        self.next_free_slot = next_free_slot

    def as_dict(self) -> dict:
        return super().as_dict() | {"nextFreeSlot": self.next_free_slot}


class TooManyCallbacks(ChatError):
    code = "TOO_MANY_CALLBACKS"
    http_status = 429
    default_message = "Too many callback requests; try again later."


class RateLimited(ChatError):
    code = "RATE_LIMITED"
    http_status = 429
    default_message = "Too many requests with this key; wait and try again."


class OutboundMessageNotFound(ChatError):
    code = "MESSAGE_NOT_FOUND"
    http_status = 404
    default_message = "No such message for this key."


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
