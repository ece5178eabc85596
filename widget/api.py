"""The widget's REST endpoints under /api/customer/ (on the project's NinjaAPI, so errors have
the same shape as every other customer endpoint)."""

from django.http import HttpRequest
from django.utils import timezone
from ninja import File, Form, Router, Schema
from ninja.files import UploadedFile

from chatserver.api import ErrorOut
from conversations import selectors
from routing.hours import queue_status
from routing.models import Queue
from widget import attachments

router = Router(tags=["customer"])


class QueueOut(Schema):
    name: str
    description: str
    isDefault: bool
    openNow: bool
    nextOpening: str | None  # ISO 8601, UTC; null while open
    closesAt: str | None
    hours: dict


class QueuesOut(Schema):
    queues: list[QueueOut]
    attachments: dict


class AttachmentOut(Schema):
    type: str
    name: str
    contentUrl: str
    thumbnailUrl: str | None


@router.get("/queues", response=QueuesOut)
def customer_queues(request: HttpRequest):
    """The queues a visitor may pick as `subject` in init (the widget's subject list) with their
    business hours (whether each is open now, when it opens next), and the attachment limits."""
    now = timezone.now()
    queues = [queue_status(queue, now=now) for queue in Queue.objects.order_by("name")]
    return {"queues": queues, "attachments": attachments.limits().as_json()}


@router.post(
    "/attachments",
    response={
        200: AttachmentOut,
        **{status: ErrorOut for status in (400, 403, 404, 409, 413, 415, 422)},
    },
)
def customer_attachment(
    request: HttpRequest, conversationId: Form[str], participantId: Form[str], file: File[UploadedFile]
):
    """Upload a file into an open conversation, authenticated by the customer's join key
    (`participantId`, as returned by init). Send the answer as an attachment of sendMessage."""
    uploader = selectors.participant_in_conversation(
        conversation_id=conversationId[:64], participant_id=participantId[:64], by_join_key=True
    )
    stored = attachments.attachment_store(uploader=uploader, upload=file)
    return attachments.attachment_json(stored, absolute=request.build_absolute_uri)
