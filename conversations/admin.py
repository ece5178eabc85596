"""Conversations in the admin: created by the API only, so everything here is read-only, except
downloading transcripts (and deleting, for data-removal requests)."""

import io
import zipfile

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import path
from django.utils import timezone

from chatserver.admin import ReadOnlyAdmin, ReadOnlyInline
from chatserver.errors import TranscriptNotAvailable
from conversations import selectors, transcripts
from conversations.models import Conversation, Message, Participant, TranscriptEmail

# Each PDF takes a fraction of a second to render, inside the admin's request.
MAX_TRANSCRIPTS_PER_DOWNLOAD = 50


class ParticipantInline(ReadOnlyInline):
    model = Participant
    fields = ("name", "role", "added_at", "joined_at", "left_at")
    readonly_fields = fields


class MessageInline(ReadOnlyInline):
    """Every message, whispers and addressed ones included: admins see everything."""

    model = Message
    ordering = ("sequence",)
    fields = (
        "sequence",
        "type",
        "activity_type",
        "sender_name",
        "sender_role",
        "addressed_to",
        "tag",
        "text",
        "created_at",
    )
    readonly_fields = fields

    @admin.display(description="To")
    def addressed_to(self, message: Message) -> str:
        return ", ".join(r.get("name") or r["id"] for r in message.recipients) or "everyone"


def _transcript_download(conversation: Conversation) -> HttpResponse:
    response = HttpResponse(transcripts.transcript_pdf(conversation), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{transcripts.transcript_filename(conversation)}"'
    return response


def _transcripts_zip(conversations: list[Conversation]) -> HttpResponse:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for conversation in conversations:
            archive.writestr(transcripts.transcript_filename(conversation), transcripts.transcript_pdf(conversation))
    response = HttpResponse(buffer.getvalue(), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="transcripts-{timezone.now():%Y%m%d-%H%M%S}.zip"'
    return response


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    list_display = (
        "short_id",
        "customer",
        "channel",
        "subject",
        "queue",
        "state",
        "waiting_since",
        "created_at",
        "ended_at",
    )
    list_filter = ("state", "queue", "channel", "subject", "created_at")
    list_select_related = ("queue",)
    search_fields = (
        "customer_first_name",
        "customer_last_name",
        "customer_phone",
        "customer_email",
        "customer_ref_id",
        "id",
    )
    date_hierarchy = "created_at"
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "id",
                    "state",
                    "channel",
                    "subject",
                    "language",
                    "queue",
                    "queued_at",
                    "created_at",
                    "ended_at",
                )
            },
        ),
        (
            "Customer",
            {
                "fields": (
                    "customer_first_name",
                    "customer_last_name",
                    "customer_email",
                    "customer_phone",
                    "customer_ref_id",
                )
            },
        ),
        ("Context", {"fields": ("page_url", "comment", "extra", "request_id", "last_sequence")}),
    )
    readonly_fields = ("id", "created_at")
    inlines = (ParticipantInline, MessageInline)
    actions = ("download_transcripts",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    @admin.display(description="ID", ordering="id")
    def short_id(self, conversation: Conversation) -> str:
        return conversation.id[:8]

    @admin.display(description="Customer", ordering="customer_last_name")
    def customer(self, conversation: Conversation) -> str:
        return conversation.customer_name or conversation.customer_ref_id or conversation.customer_phone

    @admin.display(description="Waiting since", ordering="queued_at")
    def waiting_since(self, conversation: Conversation):
        # queued_at is set only while the conversation waits for an agent.
        return conversation.queued_at

    @admin.action(description="Download transcript (PDF)", permissions=["view"])
    def download_transcripts(self, request: HttpRequest, queryset) -> HttpResponse | None:
        selected = list(queryset)
        ended = [conversation for conversation in selected if not conversation.is_open]
        if still_open := [conversation for conversation in selected if conversation.is_open]:
            self.message_user(
                request,
                f"Skipped {len(still_open)} conversation(s) still open, which have no transcript yet: "
                + ", ".join(conversation.id[:8] for conversation in still_open),
                messages.WARNING,
            )
        if not ended:
            self.message_user(request, "None of the selected conversations has ended.", messages.WARNING)
            return None
        if len(ended) > MAX_TRANSCRIPTS_PER_DOWNLOAD:
            self.message_user(
                request,
                f"Select at most {MAX_TRANSCRIPTS_PER_DOWNLOAD} conversations per download.",
                messages.ERROR,
            )
            return None
        if len(ended) == 1:
            return _transcript_download(ended[0])
        return _transcripts_zip(ended)

    def get_urls(self):
        transcript = path(
            "<path:object_id>/transcript/",
            self.admin_site.admin_view(self.transcript_view),
            name="conversations_conversation_transcript",
        )
        return [transcript, *super().get_urls()]

    def transcript_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            conversation = selectors.ended_conversation(object_id)
        except TranscriptNotAvailable:
            raise Http404("No transcript: the conversation is unknown or still open.") from None
        return _transcript_download(conversation)


@admin.register(TranscriptEmail)
class TranscriptEmailAdmin(ReadOnlyAdmin):
    """Transcripts customers asked to be mailed, and how sending them went."""

    list_display = ("conversation", "to", "state", "attempts", "created_at", "sent_at", "last_error")
    list_filter = ("state",)
    list_select_related = ("conversation",)
    search_fields = ("to", "conversation__id")
    fields = list_display + ("due_at",)
