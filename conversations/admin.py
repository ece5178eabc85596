"""Admin for operating and looking: conversations are created by the API only, so everything
here is read-only, except downloading transcripts (and deleting, for data-removal requests).
Queues and agents are managed here; offers and tokens are shown for troubleshooting (tokens
can be revoked), and what the server keeps up to date (an agent's state, load and
connections) is shown, never edited."""

import io
import zipfile

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import quote
from django.contrib.auth import get_permission_codename, get_user_model
from django.contrib.auth.forms import SetPasswordMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Exists, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import localize
from django.utils.html import format_html, format_html_join
from django.utils.timesince import timesince

from conversations import admin_chat, agent_auth, routing, selectors, transcripts
from conversations.agents import agent_create, agent_password_validate, queue_make_default
from conversations.desk import AdminLoginForm
from conversations.errors import PdfUnavailable, TranscriptNotAvailable
from conversations.models import AgentProfile, AgentToken, Conversation, Message, Offer, Participant, Queue

# Each PDF takes a fraction of a second to render, inside the admin's request.
MAX_TRANSCRIPTS_PER_DOWNLOAD = 50
# A queue's change page lists this many of its waiting conversations, oldest first.
MAX_WAITING_LISTED = 100

WAITING = Q(state=Conversation.State.OPEN, queued_at__isnull=False)


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


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
    # filters; the id is on the page and searchable). The figures come annotated
    # (admin_chat.with_figures).
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
    list_filter = ("state", "queue", "channel", "subject", "created_at")
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
        return (
            conversation.customer_name
            or conversation.customer_ref_id
            or conversation.customer_phone
            or conversation.id[:8]  # something to click
        )

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


# --- queues and agents -----------------------------------------------------------------------


def _change_link(obj, text: str) -> str:
    url = reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[quote(obj.pk)])
    return format_html('<a href="{}">{}</a>', url, text)


def _waiting_in(queues):
    waiting = (
        Conversation.objects.filter(WAITING, queue=OuterRef("pk"))
        .order_by()
        .values("queue")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return queues.annotate(waiting=Coalesce(Subquery(waiting), Value(0)))


def _with_live_state(agents):
    """Annotate `load` (open chats and pending offers, as routing counts them) and
    `connected` (a live /agent socket)."""
    connected = routing.connected_agents().filter(pk=OuterRef("pk"))
    return routing.with_load(agents).annotate(connected=Exists(connected))


def _seconds_or_default(seconds: int | None, default: int) -> str:
    if seconds is None:
        return f"default ({default} s)" if default else "default (never)"
    return f"{seconds} s" if seconds else "never"


@admin.register(Queue)
class QueueAdmin(admin.ModelAdmin):
    list_display = ("name", "is_default", "waiting_now", "agent_count", "offer_timeout", "max_wait")
    search_fields = ("name", "description")
    fields = (
        "name",
        "description",
        "is_default",
        "offer_timeout_seconds",
        "max_wait_seconds",
        "waiting_conversations",
        "queue_agents",
    )
    readonly_fields = ("waiting_conversations", "queue_agents")

    def get_queryset(self, request: HttpRequest):
        return _waiting_in(super().get_queryset(request)).annotate(agent_count=Count("agents"))

    @admin.display(description="Waiting now", ordering="waiting")
    def waiting_now(self, queue: Queue) -> int:
        return queue.waiting

    @admin.display(description="Agents", ordering="agent_count")
    def agent_count(self, queue: Queue) -> int:
        return queue.agent_count

    @admin.display(description="Offer timeout", ordering="offer_timeout_seconds")
    def offer_timeout(self, queue: Queue) -> str:
        return _seconds_or_default(queue.offer_timeout_seconds, settings.CHAT_OFFER_TIMEOUT)

    @admin.display(description="Max wait", ordering="max_wait_seconds")
    def max_wait(self, queue: Queue) -> str:
        return _seconds_or_default(queue.max_wait_seconds, settings.CHAT_QUEUE_MAX_WAIT)

    @admin.display(description="Waiting now, oldest first")
    def waiting_conversations(self, queue: Queue) -> str:
        if queue.pk is None:
            return "-"
        waiting = list(queue.conversations.filter(WAITING).order_by("queued_at")[: MAX_WAITING_LISTED + 1])
        if not waiting:
            return "None"
        now = timezone.now()
        items = format_html_join(
            "\n",
            "<li>{} ({}), waiting {} since {}</li>",
            (
                (
                    _change_link(conversation, conversation.id[:8]),
                    conversation,
                    timesince(conversation.queued_at, now),
                    localize(timezone.template_localtime(conversation.queued_at)),
                )
                for conversation in waiting[:MAX_WAITING_LISTED]
            ),
        )
        more = f"Only the oldest {MAX_WAITING_LISTED} are listed." if len(waiting) > MAX_WAITING_LISTED else ""
        return format_html("<ol>{}</ol>{}", items, more)

    @admin.display(description="Agents")
    def queue_agents(self, queue: Queue) -> str:
        if queue.pk is None:
            return "-"
        agents = list(_with_live_state(queue.agents.select_related("user")))
        if not agents:
            return "None: give agents this queue on their pages."
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "\n",
                "<li>{}: {}, {}, {} / {} chats</li>",
                (
                    (
                        _change_link(agent, agent.display_name),
                        agent.get_state_display(),
                        "connected" if agent.connected else "not connected",
                        agent.load,
                        agent.max_chats,
                    )
                    for agent in agents
                ),
            ),
        )

    def save_model(self, request: HttpRequest, obj: Queue, form, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if obj.is_default and (previous := queue_make_default(queue=obj)):
            self.message_user(
                request,
                f"'{obj}' is the default queue now, instead of " + ", ".join(f"'{queue}'" for queue in previous) + ".",
                messages.INFO,
            )


class AgentCreationForm(SetPasswordMixin, forms.ModelForm):
    """Adds an agent in one step: its Django user (username, name, password) and its profile."""

    username = get_user_model()._meta.get_field("username").formfield()
    name = forms.CharField(
        max_length=150, required=False, help_text="First and last name, shown to customers; empty: the username."
    )
    password1, password2 = SetPasswordMixin.create_password_fields()
    # As create_agent: an agent who can take no chat is not one.
    max_chats = forms.IntegerField(min_value=1, initial=3, help_text="Open chats and pending offers at a time.")

    class Meta:
        model = AgentProfile
        fields = ("queues", "max_chats")

    def clean_username(self) -> str:
        # agent_create would update an existing user, password included: adding is for new ones.
        username = self.cleaned_data["username"]
        if get_user_model().objects.filter(username__iexact=username).exists():
            raise ValidationError("A user with that username already exists.", code="unique")
        return username

    def clean(self) -> dict:
        cleaned = super().clean()
        self.validate_passwords()
        if cleaned.get("password2") and "password2" not in self.errors:
            try:
                agent_password_validate(
                    username=cleaned.get("username", ""), password=cleaned["password2"], name=cleaned.get("name", "")
                )
            except ValidationError as error:
                self.add_error("password2", error)
        return cleaned


@admin.register(AgentProfile)
class AgentProfileAdmin(admin.ModelAdmin):
    """State, idle time and connections are the server's: they are shown, not edited."""

    add_form = AgentCreationForm
    add_fieldsets = (
        (None, {"fields": ("username", "name", "password1", "password2")}),
        ("Routing", {"fields": ("queues", "max_chats")}),
    )
    list_display = ("user", "display_name", "state", "connected_now", "chats", "queue_names")
    list_filter = ("state", "queues")
    search_fields = ("user__username", "user__first_name", "user__last_name")
    filter_horizontal = ("queues",)
    fieldsets = (
        (None, {"fields": ("user_link", "display_name", "queues", "max_chats")}),
        ("Now", {"fields": ("state", "connected_now", "chats", "idle_since", "disconnected_at")}),
    )
    readonly_fields = ("user_link", "display_name", "state", "connected_now", "chats", "idle_since", "disconnected_at")

    def get_queryset(self, request: HttpRequest):
        agents = super().get_queryset(request).select_related("user").prefetch_related("queues")
        return _with_live_state(agents)

    def get_fieldsets(self, request: HttpRequest, obj: AgentProfile | None = None):
        return self.add_fieldsets if obj is None else super().get_fieldsets(request, obj)

    def get_readonly_fields(self, request: HttpRequest, obj: AgentProfile | None = None):
        return () if obj is None else super().get_readonly_fields(request, obj)

    def get_form(self, request: HttpRequest, obj: AgentProfile | None = None, **kwargs):
        if obj is None:
            kwargs["form"] = self.add_form
        return super().get_form(request, obj, **kwargs)

    def save_model(self, request: HttpRequest, obj: AgentProfile, form, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        data = form.cleaned_data
        agent = agent_create(
            username=data["username"],
            password=data["password1"],
            name=data["name"],
            queues=[queue.name for queue in data["queues"]],
            max_chats=data["max_chats"],
        )
        obj.pk = agent.pk
        obj.refresh_from_db()

    def save_related(self, request: HttpRequest, form, formsets, change: bool) -> None:
        if change:  # on adding, agent_create has set the queues
            super().save_related(request, form, formsets, change)

    @admin.display(description="User")
    def user_link(self, agent: AgentProfile) -> str:
        return _change_link(agent.user, agent.user.get_username())

    @admin.display(description="Connected", boolean=True, ordering="connected")
    def connected_now(self, agent: AgentProfile) -> bool:
        return agent.connected

    @admin.display(description="Load / max chats", ordering="load")
    def chats(self, agent: AgentProfile) -> str:
        return f"{agent.load} / {agent.max_chats}"

    @admin.display(description="Queues")
    def queue_names(self, agent: AgentProfile) -> str:
        return ", ".join(queue.name for queue in agent.queues.all())


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows the server writes. Deleting stays allowed: deleting a conversation or an agent
    deletes its rows here too, which the admin refuses without delete permission on them."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(AgentToken)
class AgentTokenAdmin(ReadOnlyAdmin):
    """Only the SHA-256 of a token is stored, and it is not shown."""

    list_display = ("agent", "created_at", "expires_at", "revoked_at")
    list_select_related = ("agent__user",)
    search_fields = ("agent__user__username",)
    fields = ("agent", "created_at", "expires_at", "revoked_at")
    actions = ("revoke",)

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        # Revoking is the one change allowed here.
        opts = self.opts
        return request.user.has_perm(f"{opts.app_label}.{get_permission_codename('change', opts)}")

    @admin.action(description="Revoke (sockets connected with it stay connected)", permissions=["revoke"])
    def revoke(self, request: HttpRequest, queryset) -> None:
        revoked = agent_auth.tokens_revoke(token_ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(request, f"Revoked {revoked} token(s).", messages.SUCCESS)


@admin.register(Offer)
class OfferAdmin(ReadOnlyAdmin):
    """Offers are made, answered and expired by routing; shown to see why a chat waits."""

    list_display = ("conversation_link", "agent", "state", "created_at", "expires_at", "answered_at")
    list_filter = ("state",)
    list_select_related = ("conversation", "agent__user")
    search_fields = ("conversation__id", "agent__user__username")
    fields = ("conversation", "agent", "state", "created_at", "expires_at", "answered_at")

    @admin.display(description="Conversation", ordering="conversation__created_at")
    def conversation_link(self, offer: Offer) -> str:
        return _change_link(offer.conversation, str(offer.conversation))


# The admin's own login is throttled with the same counters as the agents' logins.
admin.site.login_form = AdminLoginForm
