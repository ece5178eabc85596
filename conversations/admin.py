"""Conversations in the admin: created by the API only, so everything here is read-only, except
downloading transcripts (and deleting, for data-removal requests)."""

import io
import zipfile

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import path
from django.utils import timezone
from django.utils.html import format_html

from chatserver.admin import ReadOnlyAdmin, ReadOnlyInline
from chatserver.errors import PdfUnavailable, TranscriptNotAvailable
from conversations import admin_chat, selectors, transcripts
from conversations.models import Conversation, Message, Participant, TranscriptEmail

VERIFIED_MARK = (
    '{} <span class="verified-mark" title="Identity verified: the site signed it" data-testid="verified">'
    '✓<span class="visually-hidden"> verified</span></span>'
)

# Each PDF takes a fraction of a second to render, inside the admin's request.
MAX_TRANSCRIPTS_PER_DOWNLOAD = 50


class ParticipantInline(ReadOnlyInline):
    model = Participant
    fields = ("name", "role", "added_at", "joined_at", "left_at")
    readonly_fields = fields


class MessageInline(ReadOnlyInline):
    """Every message as stored, whispers, addressed ones and typing included: the technical
    view, collapsed under the chat the change page shows (admin_chat.chat_lines)."""

    model = Message
    classes = ("collapse",)
    verbose_name_plural = "Messages as stored (technical)"
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
    # Eight short columns fit 1280 px beside the admin's two sidebars (channel and subject are
    # filters; the id is on the page and searchable; a verified identity is a mark beside the
    # customer). The figures come annotated (admin_chat.with_figures).
    list_display = (
        "customer",
        "agent",
        "queue",
        "state",
        "waited",
        "duration",
        "message_count",
        "started",
    )
    list_filter = ("state", "queue", "channel", "subject", "identity_verified", "created_at")
    list_display_links = ("customer",)
    list_select_related = ("queue",)
    change_form_template = "admin/conversations/conversation/change_form.html"
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
            "Details",
            {
                "classes": ("collapse",),
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
                ),
            },
        ),
        (
            "Customer",
            {
                "classes": ("collapse",),
                "fields": (
                    "customer_first_name",
                    "customer_last_name",
                    "customer_email",
                    "customer_phone",
                    "customer_ref_id",
                    "identity_verified",
                ),
            },
        ),
        (
            "Context",
            {"classes": ("collapse",), "fields": ("page_url", "comment", "extra", "request_id", "last_sequence")},
        ),
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
        name = (
            conversation.customer_name
            or conversation.customer_ref_id
            or conversation.customer_phone
            or conversation.id[:8]  # something to click
        )
        if conversation.identity_verified:  # the site signed it (widget identityHash)
            return format_html(VERIFIED_MARK, name)
        return name

    def get_queryset(self, request: HttpRequest):
        return admin_chat.with_figures(super().get_queryset(request))

    @admin.display(description="Agent", ordering="first_agent")
    def agent(self, conversation: Conversation) -> str:
        if not conversation.first_agent:
            return "—"
        more = conversation.agent_count - 1
        return f"{conversation.first_agent} +{more}" if more > 0 else conversation.first_agent

    @admin.display(description="Waited", ordering="first_agent_at")
    def waited(self, conversation: Conversation) -> str:
        """From the start until an agent came; still waiting: until now."""
        if conversation.first_agent_at is not None:
            return admin_chat.short_duration(conversation.first_agent_at - conversation.created_at)
        if conversation.is_open:
            return admin_chat.short_duration(timezone.now() - conversation.created_at)
        return "no agent"

    @admin.display(description="Duration")
    def duration(self, conversation: Conversation) -> str:
        """Until it ended; while open, until now."""
        return admin_chat.short_duration((conversation.ended_at or timezone.now()) - conversation.created_at)

    @admin.display(description="Msgs", ordering="message_count")
    def message_count(self, conversation: Conversation) -> int:
        return conversation.message_count

    @admin.display(description="Started", ordering="created_at")
    def started(self, conversation: Conversation) -> str:
        return admin_chat.short_moment(conversation.created_at)

    class Media:
        css = {"all": ("conversations/admin-chat.css",)}

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "", extra_context=None):
        conversation = self.get_object(request, object_id)
        if conversation is not None:
            extra_context = {
                **(extra_context or {}),
                "chat": admin_chat.chat_lines(conversation),
                "summary": conversation,
            }
        return super().change_view(request, object_id, form_url, extra_context)

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
        try:
            if len(ended) == 1:
                return _transcript_download(ended[0])
            return _transcripts_zip(ended)
        except PdfUnavailable as error:
            self.message_user(request, error.message, messages.ERROR)
            return None

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
        try:
            return _transcript_download(conversation)
        except PdfUnavailable as error:
            return HttpResponse(error.message, status=error.http_status, content_type="text/plain; charset=utf-8")


@admin.register(TranscriptEmail)
class TranscriptEmailAdmin(ReadOnlyAdmin):
    """Transcripts customers asked to be mailed, and how sending them went."""

    list_display = ("conversation", "to", "state", "attempts", "created_at", "sent_at", "last_error")
    list_filter = ("state",)
    list_select_related = ("conversation",)
    search_fields = ("to", "conversation__id")
    fields = list_display + ("due_at",)
