"""Payloads of the connector protocol and the campaign API."""

from typing import Annotated, Literal

from pydantic import Field, StringConstraints, model_validator
from pydantic_core import PydanticCustomError

from conversations.schemas import Attachment, Slug, WireModel

Code = Annotated[str, StringConstraints(max_length=64)]


class DeliveryError(WireModel):
    code: Code = ""
    message: Annotated[str, StringConstraints(max_length=500)] = ""


class DeliveryStatus(WireModel):
    """deliveryStatus: a connector reports what became of an outboundMessage."""

    id: Annotated[str, StringConstraints(min_length=1, max_length=32)]
    status: Literal["sent", "delivered", "undelivered", "failed", "read"]
    error: DeliveryError | None = None


class CampaignMessageIn(WireModel):
    """POST /api/campaign/messages"""

    channel: Slug
    to: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    text: Annotated[str, StringConstraints(max_length=10_000)] = ""
    campaign_id: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] = ""
    attachments: list[Attachment] = Field(default_factory=list, max_length=10)

    @model_validator(mode="after")
    def something_to_send(self) -> "CampaignMessageIn":
        if not self.text.strip() and not self.attachments:
            raise PydanticCustomError("missing", "give text or attachments")
        return self


class HistoryEntry(WireModel):
    status: str
    at: str
    error: DeliveryError | None = None
