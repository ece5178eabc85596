"""REST endpoints of the customer API: /api/customer/..."""

from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema

from chatserver.api import ErrorOut
from chatserver.errors import UnsupportedTranscriptType
from connectors import inbound
from conversations import selectors, transcript_emails, transcripts, wire
from conversations.schemas import InitRequest
from widget import identity

router = Router(tags=["customer"])
# Said in the OpenAPI document as the `kind` parameter's enum (chatserver.api); any other kind is
# answered 400 UNSUPPORTED_TRANSCRIPT_TYPE rather than a validation error.
TRANSCRIPT_KINDS = ("pdf", "email")
OPENAPI_PATH_ENUMS = {"kind": list(TRANSCRIPT_KINDS)}


class ParticipantOut(Schema):
    id: str
    name: str


class EmailQueued(Schema):
    status: str


class InitResponse(Schema):
    conversationId: str
    participant: ParticipantOut
    requestId: str | None
    timestamp: str


@router.post("/init", response={200: InitResponse, 400: ErrorOut, 401: ErrorOut, 409: ErrorOut, 413: ErrorOut})
def customer_init(request: HttpRequest, payload: InitRequest):
    """Start a conversation for a customer; join it with the returned ids over Socket.IO. On a
    connector's channel a contact (phone or refId) with an open conversation continues it."""
    verified = identity.init_is_verified(origin=request.headers.get("Origin"), request=payload)
    result = inbound.conversation_for_contact(request=payload, identity_verified=verified)
    return {
        "conversationId": result.conversation.id,
        "participant": {"id": result.customer.join_key, "name": result.customer.name},
        "requestId": payload.request_id,
        "timestamp": wire.iso(result.conversation.created_at),
    }


@router.get(
    "/transcript/{conversation_id}/{kind}",
    # 503: PDF_UNAVAILABLE, or TRANSCRIPT_BUSY
    response={200: None, 202: EmailQueued, 400: ErrorOut, 404: ErrorOut, 422: ErrorOut, 429: ErrorOut, 503: ErrorOut},
)
def customer_transcript(request: HttpRequest, conversation_id: str, kind: str):
    """The transcript of an ended conversation: `pdf` returns it, `email` queues it for the
    customer's address (sent in the background; a few times an hour at most)."""
    if kind not in TRANSCRIPT_KINDS:
        raise UnsupportedTranscriptType()
    conversation = selectors.ended_conversation(conversation_id)
    if kind == "pdf":
        response = HttpResponse(transcripts.stored_transcript_pdf(conversation), content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="{transcripts.transcript_filename(conversation)}"'
        return response
    transcript_emails.transcript_email_request(conversation_id=conversation.id)
    return 202, {"status": "queued"}
