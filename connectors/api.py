"""The campaign API: /api/campaign/messages (docs/connectors.md)."""

from django.http import HttpRequest
from ninja import Router, Schema
from ninja.security import HttpBearer

from chatserver.api import ErrorOut
from chatserver.errors import OutboundMessageNotFound, Unauthorized
from connectors import campaigns
from connectors.models import ApiKey, OutboundMessage
from connectors.schemas import CampaignMessageIn
from conversations import wire


class ApiKeyBearer(HttpBearer):
    """`Authorization: Bearer <api key>` (create_api_key prints one)."""

    def __call__(self, request: HttpRequest):
        if not request.headers.get("Authorization", "").lower().startswith("bearer "):
            raise Unauthorized("Send the API key as 'Authorization: Bearer <key>'.")
        return super().__call__(request)

    def authenticate(self, request: HttpRequest, token: str) -> ApiKey:
        return campaigns.api_key_authenticate(token)


router = Router(tags=["campaign"], auth=ApiKeyBearer())


class QueuedOut(Schema):
    id: str
    status: str


class ErrorDetail(Schema):
    code: str
    message: str


class HistoryOut(Schema):
    status: str
    at: str
    error: ErrorDetail | None = None


class MessageOut(Schema):
    id: str
    channel: str
    to: str
    text: str
    campaignId: str | None
    status: str
    error: ErrorDetail | None
    providerMessageId: str | None
    conversationId: str | None
    createdAt: str
    history: list[HistoryOut]


def _error(message: OutboundMessage) -> dict | None:
    return {"code": message.error_code, "message": message.error_text} if message.error_code else None


@router.post("/messages", response={202: QueuedOut, 400: ErrorOut, 401: ErrorOut, 413: ErrorOut, 429: ErrorOut})
def campaign_message_send(request: HttpRequest, payload: CampaignMessageIn):
    """Send a message to a customer's contact through the channel's connector. It is stored
    first and delivered in the background; follow its status with GET."""
    message = campaigns.campaign_message_send(api_key=request.auth, request=payload)
    return 202, {"id": message.id, "status": message.status}


@router.get("/messages/{message_id}", response={200: MessageOut, 401: ErrorOut, 404: ErrorOut})
def campaign_message_status(request: HttpRequest, message_id: str):
    """A message's status now, and every status it went through."""
    message = campaigns.campaign_message_of(api_key=request.auth, message_id=message_id)
    if message is None:
        raise OutboundMessageNotFound()
    return {
        "id": message.id,
        "channel": message.channel,
        "to": message.to,
        "text": message.text,
        "campaignId": message.campaign_id or None,
        "status": message.status,
        "error": _error(message),
        "providerMessageId": message.provider_message_id or None,
        "conversationId": message.conversation_id,
        "createdAt": wire.iso(message.created_at),
        "history": message.history,
    }
