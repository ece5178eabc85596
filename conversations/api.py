"""REST endpoints of the customer API: /api/customer/..."""

from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema

from chatserver.api import ErrorOut
from chatserver.errors import EmailNotSent, UnsupportedTranscriptType
from conversations import selectors, services, transcripts, wire
from conversations.schemas import InitRequest

router = Router(tags=["customer"])
# Said in the OpenAPI document as the `kind` parameter's enum (chatserver.api); any other kind is
# answered 400 UNSUPPORTED_TRANSCRIPT_TYPE rather than a validation error.
TRANSCRIPT_KINDS = ("pdf", "email")
OPENAPI_PATH_ENUMS = {"kind": list(TRANSCRIPT_KINDS)}


class ParticipantOut(Schema):
    id: str
    name: str


class InitResponse(Schema):
    conversationId: str
    participant: ParticipantOut
    requestId: str | None
    timestamp: str


@router.post("/init", response={200: InitResponse, 400: ErrorOut, 409: ErrorOut, 413: ErrorOut})
def customer_init(request: HttpRequest, payload: InitRequest):
    """Start a conversation for a customer; join it with the returned ids over Socket.IO."""
    result = services.conversation_start(request=payload)
    return {
        "conversationId": result.conversation.id,
        "participant": {"id": result.customer.join_key, "name": result.customer.name},
        "requestId": payload.request_id,
        "timestamp": wire.iso(result.conversation.created_at),
    }


@router.get(
    "/transcript/{conversation_id}/{kind}",
    response={200: None, 400: ErrorOut, 404: ErrorOut, 422: ErrorOut, 503: ErrorOut},  # 503: TRANSCRIPT_BUSY too
)
def customer_transcript(request: HttpRequest, conversation_id: str, kind: str):
    """The transcript of an ended conversation: `pdf` returns it, `email` sends it to the customer."""
    if kind not in TRANSCRIPT_KINDS:
        raise UnsupportedTranscriptType()
    conversation = selectors.ended_conversation(conversation_id)
    if kind == "pdf":
        response = HttpResponse(transcripts.stored_transcript_pdf(conversation), content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="{transcripts.transcript_filename(conversation)}"'
        return response
    email = transcripts.transcript_email(conversation)
    try:
        email.send()
    except OSError as exc:  # smtplib errors and refused connections alike
        raise EmailNotSent() from exc
    return HttpResponse(status=200)
