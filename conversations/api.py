"""REST endpoints of the customer API: /api/customer/..."""

from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema

from chatserver.api import ErrorOut
from chatserver.errors import EmailNotSent, UnsupportedTranscriptType
from connectors import inbound
from conversations import selectors, transcripts, wire
from conversations.schemas import InitRequest

router = Router(tags=["customer"])


class ParticipantOut(Schema):
    id: str
    name: str


class InitResponse(Schema):
    conversationId: str
    participant: ParticipantOut
    requestId: str | None
    timestamp: str


@router.post("/init", response={200: InitResponse, 400: ErrorOut, 409: ErrorOut})
def customer_init(request: HttpRequest, payload: InitRequest):
    """Start a conversation for a customer; join it with the returned ids over Socket.IO. On a
    connector's channel a contact (phone or refId) with an open conversation continues it."""
    result = inbound.conversation_for_contact(request=payload)
    return {
        "conversationId": result.conversation.id,
        "participant": {"id": result.customer.join_key, "name": result.customer.name},
        "requestId": payload.request_id,
        "timestamp": wire.iso(result.conversation.created_at),
    }


@router.get(
    "/transcript/{conversation_id}/{kind}",
    response={200: None, 400: ErrorOut, 404: ErrorOut, 422: ErrorOut, 503: ErrorOut},
)
def customer_transcript(request: HttpRequest, conversation_id: str, kind: str):
    """The transcript of an ended conversation: `pdf` returns it, `email` sends it to the customer."""
    if kind not in ("pdf", "email"):
        raise UnsupportedTranscriptType()
    conversation = selectors.ended_conversation(conversation_id)
    if kind == "pdf":
        response = HttpResponse(transcripts.transcript_pdf(conversation), content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="{transcripts.transcript_filename(conversation)}"'
        return response
    email = transcripts.transcript_email(conversation)
    try:
        email.send()
    except OSError as exc:  # smtplib errors and refused connections alike
        raise EmailNotSent() from exc
    return HttpResponse(status=200)
