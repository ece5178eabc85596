"""Queues are managed here; offers are shown for troubleshooting (routing makes, answers and
expires them)."""

from django.conf import settings
from django.contrib import admin, messages
from django.db.models import Count, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import HttpRequest
from django.utils import timezone
from django.utils.formats import localize
from django.utils.html import format_html, format_html_join
from django.utils.timesince import timesince

from chatserver.admin import ReadOnlyAdmin, change_link
from conversations.models import Conversation
from routing.admin_hours import ClosedDateInline, OpeningHoursInline
from routing.models import Offer, Queue
from routing.queues import queue_make_default
from routing.selectors import agents_with_live_state

# A queue's change page lists this many of its waiting conversations, oldest first.
MAX_WAITING_LISTED = 100


def _waiting_in(queues):
    waiting = (
        Conversation.objects.waiting()
        .filter(queue=OuterRef("pk"))
        .order_by()
        .values("queue")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return queues.annotate(waiting=Coalesce(Subquery(waiting), Value(0)))


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
        "time_zone",
        ("callback_retry_delay_seconds", "callback_max_attempts"),
        ("callbacks_per_slot", "callback_weight"),
        "waiting_conversations",
        "queue_agents",
    )
    readonly_fields = ("waiting_conversations", "queue_agents")
    inlines = (OpeningHoursInline, ClosedDateInline)  # business hours (issue 9)

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
        waiting = list(queue.conversations.waiting().order_by("queued_at")[: MAX_WAITING_LISTED + 1])
        if not waiting:
            return "None"
        now = timezone.now()
        items = format_html_join(
            "\n",
            "<li>{} ({}), waiting {} since {}</li>",
            (
                (
                    change_link(conversation, conversation.id[:8]),
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
        agents = list(agents_with_live_state(queue.agents.select_related("user")))
        if not agents:
            return "None: give agents this queue on their pages."
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "\n",
                "<li>{}: {}, {}, {} / {} chats</li>",
                (
                    (
                        change_link(agent, agent.display_name),
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
        return change_link(offer.conversation, str(offer.conversation))
