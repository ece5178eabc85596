"""The admin's view of a conversation as a chat, and the figures its list shows. Reads only."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Count, DateTimeField, IntegerField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.html import format_html

from conversations.models import Conversation, Message, Participant

# Typing indicators are stored like any message; nobody reading a conversation wants them.
LEFT_OUT = ("typing",)


@dataclass
class ChatLine:
    kind: str  # "message" or "event"
    when: datetime
    sequence: int
    text: str = ""
    sender: str = ""
    role: str = ""
    whisper: bool = False
    to: str = ""
    attachments: list[dict] = field(default_factory=list)


def _who(info: dict) -> str:
    participant = info.get("participant") or {}
    return participant.get("name") or participant.get("role") or "someone"


def _event_text(message: Message) -> str:
    info, kind = message.info or {}, message.activity_type
    if kind == "greetings":
        return f"Greeting sent: “{info.get('text', '')}”"
    if kind in ("participantJoined", "participantLeft", "participantAdded", "participantRemoved"):
        verb = {"participantJoined": "joined", "participantLeft": "left", "participantAdded": "was added",
                "participantRemoved": "was removed"}[kind]  # fmt: skip
        role = (info.get("participant") or {}).get("role", "")
        return f"{_who(info)}{f' ({role})' if role else ''} {verb}"
    if kind == "handOff":
        return f"Queued for an agent in “{info.get('queue', '')}”"
    if kind == "noAgentAvailable":
        return f"No agent available in “{info.get('queue', '')}”"
    if kind == "endOfConversation":
        if "endedBy" in info:
            return f"Ended by {_who({'participant': info['endedBy']})}"
        return f"Ended by the server ({info.get('reason', 'no reason given')})"
    return kind


def chat_lines(conversation: Conversation) -> list[ChatLine]:
    """Every message an operator may see (whispers and addressed ones too), oldest first;
    activities as one-line events that say who; typing left out."""
    lines = []
    for message in conversation.messages.exclude(activity_type__in=LEFT_OUT).order_by("sequence"):
        if message.type == Message.Type.ACTIVITY:
            lines.append(ChatLine("event", message.created_at, message.sequence, text=_event_text(message)))
            continue
        lines.append(
            ChatLine(
                "message",
                message.created_at,
                message.sequence,
                text=message.text,
                sender=message.sender_name or message.sender_role or "system",
                role=message.sender_role,
                whisper=message.is_whisper,
                to=", ".join(r.get("name") or r.get("id", "") for r in message.recipients),
                attachments=[
                    {"name": a.get("name") or a.get("type") or "attachment", "type": a.get("type", "")}
                    for a in message.attachments
                ],
            )
        )
    return lines


def with_figures(conversations: QuerySet) -> QuerySet:
    """Annotate each conversation with its first agent's name, how many agents it had, when
    the first agent came, and its number of chat messages: one query for the whole page."""
    agents = Participant.objects.filter(conversation=OuterRef("pk"), role=Participant.Role.AGENT)
    chat_messages = (
        Message.objects.filter(conversation=OuterRef("pk"), type=Message.Type.CHAT)
        .order_by()
        .values("conversation")
        .annotate(n=Count("pk"))
        .values("n")
    )
    agent_count = agents.order_by().values("conversation").annotate(n=Count("pk")).values("n")
    return conversations.annotate(
        first_agent=Subquery(agents.order_by("added_at").values("name")[:1]),
        agent_count=Coalesce(Subquery(agent_count, output_field=IntegerField()), Value(0)),
        first_agent_at=Subquery(agents.order_by("added_at").values("added_at")[:1], output_field=DateTimeField()),
        message_count=Coalesce(Subquery(chat_messages, output_field=IntegerField()), Value(0)),
    )


def short_duration(delta: timedelta | None) -> str:
    """45 s, 12 min, 3 h 05, 2 d 3 h: short enough for a list column."""
    if delta is None:
        return "—"
    seconds = max(int(delta.total_seconds()), 0)
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes:02d}"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h"


def short_moment(moment: datetime) -> str:
    """18:41 today, 1 Dec this year, Dec 2025 before (the full time on hover), in the site's time zone."""
    local, now = timezone.localtime(moment), timezone.localtime()
    if local.date() == now.date():
        short = f"{local:%H:%M}"
    elif local.year == now.year:
        short = f"{local.day} {local:%b}"
    else:
        short = f"{local:%b %Y}"
    return format_html('<time datetime="{}" title="{}">{}</time>', local.isoformat(), f"{local:%Y-%m-%d %H:%M}", short)
