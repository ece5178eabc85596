"""REST endpoints of the customer API (django-ninja; OpenAPI document at /api/docs)."""

import logging

from django.core.exceptions import RequestDataTooBig
from django.db import DataError
from django.http import HttpRequest, HttpResponse, JsonResponse
from ninja import NinjaAPI, Schema
from ninja.errors import HttpError
from ninja.errors import ValidationError as NinjaValidationError

from conversations import agent_auth, selectors, services, transcripts, wire
from conversations.errors import ChatError, EmailNotSent, InvalidPayload, PayloadTooLarge, UnsupportedTranscriptType
from conversations.schemas import AgentLogin, InitRequest, error_from_details
from widget import identity

logger = logging.getLogger(__name__)

api = NinjaAPI(title="Customer chat server", version="1", docs_url="/docs", urls_namespace="api")


class ParticipantOut(Schema):
    id: str
    name: str


class InitResponse(Schema):
    conversationId: str
    participant: ParticipantOut
    requestId: str | None
    timestamp: str


class ErrorBody(Schema):
    code: str
    message: str
    fields: dict[str, str] | None = None


class ErrorOut(Schema):
    error: ErrorBody


@api.exception_handler(ChatError)
def chat_error(request: HttpRequest, error: ChatError) -> HttpResponse:
    return JsonResponse({"error": error.as_dict()}, status=error.http_status)


@api.exception_handler(NinjaValidationError)
def invalid_request(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    return chat_error(request, error_from_details(exc.errors, drop_location=2))  # less ("body", "payload")


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    """Errors django-ninja raises itself, such as a body that is not JSON."""
    error = InvalidPayload(exc.message) if exc.status_code == 400 else ChatError(exc.message)
    error.http_status = exc.status_code
    return chat_error(request, error)


@api.exception_handler(RequestDataTooBig)
def body_too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    return chat_error(request, PayloadTooLarge("The request body is larger than the server accepts."))


@api.exception_handler(DataError)
def refused_by_database(request: HttpRequest, exc: DataError) -> HttpResponse:
    logger.warning("%s %s: the database refused a value: %s", request.method, request.path, exc)
    return chat_error(request, InvalidPayload("A value could not be stored."))


@api.exception_handler(Exception)
def unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    logger.exception("%s %s failed", request.method, request.path)
    return chat_error(request, ChatError())


@api.post(
    "/customer/init", response={200: InitResponse, 400: ErrorOut, 401: ErrorOut, 409: ErrorOut}, tags=["customer"]
)
def customer_init(request: HttpRequest, payload: InitRequest):
    """Start a conversation for a customer; join it with the returned ids over Socket.IO."""
    verified = identity.init_is_verified(origin=request.headers.get("Origin"), request=payload)
    result = services.conversation_start(request=payload, identity_verified=verified)
    return {
        "conversationId": result.conversation.id,
        "participant": {"id": result.customer.join_key, "name": result.customer.name},
        "requestId": payload.request_id,
        "timestamp": wire.iso(result.conversation.created_at),
    }


@api.get(
    "/customer/transcript/{conversation_id}/{kind}",
    response={200: None, 400: ErrorOut, 404: ErrorOut, 422: ErrorOut, 503: ErrorOut},
    tags=["customer"],
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


class AgentOut(Schema):
    id: int
    name: str
    username: str
    state: str
    maxChats: int


class LoginOut(Schema):
    token: str
    expiresAt: str
    agent: AgentOut


def _bearer(request: HttpRequest) -> str:
    header = request.headers.get("Authorization", "")
    return header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else ""


@api.post("/agent/login", response={200: LoginOut, 400: ErrorOut, 401: ErrorOut, 429: ErrorOut}, tags=["agent"])
def agent_login(request: HttpRequest, payload: AgentLogin):
    """Exchange an agent's username and password for a bearer token (auth of the /agent namespace)."""
    token, issued = agent_auth.agent_login(
        username=payload.username, password=payload.password, client_ip=request.META.get("REMOTE_ADDR", "")
    )
    return {"token": token, "expiresAt": wire.iso(issued.expires_at), "agent": wire.agent_json(issued.agent)}


@api.post("/agent/logout", response={204: None, 401: ErrorOut}, tags=["agent"])
def agent_logout(request: HttpRequest):
    """Revoke the bearer token sent in the Authorization header."""
    token = _bearer(request)
    agent_auth.agent_for_token(token)
    agent_auth.token_revoke(token)
    return 204, None
