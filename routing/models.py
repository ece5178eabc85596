"""Routing state: skill queues and the offers of waiting conversations to agents.

The tables keep the names they had when these models lived in `conversations` (see
migrations/0001_initial.py: the move changed no table)."""

import zoneinfo
from datetime import time

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models.functions import Lower


def _valid_time_zone(name: str) -> None:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValidationError(f"'{name}' is not a known time zone (use an IANA name such as Europe/Berlin).") from None


class Queue(models.Model):
    """A skill group. `subject` in /api/customer/init picks one by name."""

    name = models.CharField(max_length=100, unique=True)
    description = models.CharField(max_length=200, blank=True)
    is_default = models.BooleanField(default=False, help_text="Takes conversations whose subject names no queue.")
    offer_timeout_seconds = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text="How long an agent has to accept an offer; empty: the server default.",
    )
    max_wait_seconds = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="End conversations that waited this long for an agent; empty: the server default (0: never).",
    )
    # Business hours and callbacks (issue 9): see routing/hours.py and callbacks/.
    time_zone = models.CharField(
        max_length=64,
        default="UTC",
        validators=[_valid_time_zone],
        help_text="IANA time zone of the opening hours, e.g. Europe/Berlin.",
    )
    callback_retry_delay_seconds = models.PositiveIntegerField(
        default=900, help_text="After no answer or busy, the next call attempt comes this much later."
    )
    callback_max_attempts = models.PositiveIntegerField(
        default=3, validators=[MinValueValidator(1)], help_text="Call attempts before a callback has failed."
    )
    callbacks_per_slot = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Most callbacks scheduled in one slot (CHAT_CALLBACK_SLOT_MINUTES); empty: no cap.",
    )
    callback_weight = models.PositiveIntegerField(
        default=1,
        validators=[MinValueValidator(1)],
        help_text="How many chats of an agent's capacity a callback takes.",
    )

    class Meta:
        db_table = "conversations_queue"
        ordering = ["name"]
        constraints = [models.UniqueConstraint(Lower("name"), name="queue_name_unique_whatever_its_case")]

    def __str__(self) -> str:
        return self.name


class OpeningHours(models.Model):
    """One opening range of a queue on one weekday, in the queue's time zone. A day may have
    several; a queue with none is open all day, every day (less its closed dates)."""

    class Weekday(models.IntegerChoices):
        MONDAY = 0
        TUESDAY = 1
        WEDNESDAY = 2
        THURSDAY = 3
        FRIDAY = 4
        SATURDAY = 5
        SUNDAY = 6

    queue = models.ForeignKey(Queue, on_delete=models.CASCADE, related_name="opening_hours")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    opens = models.TimeField()
    closes = models.TimeField(help_text="00:00 means midnight at the end of the day.")

    class Meta:
        ordering = ["queue", "weekday", "opens"]
        verbose_name_plural = "opening hours"

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens:%H:%M}-{self.closes:%H:%M}"

    def clean(self) -> None:
        if self.opens is not None and self.closes is not None and self.closes != time(0) and self.closes <= self.opens:
            raise ValidationError("A range closes after it opens (use 00:00 for midnight; split ranges across it).")


class ClosedDate(models.Model):
    """A day the queue is closed all day (a holiday), in its time zone."""

    queue = models.ForeignKey(Queue, on_delete=models.CASCADE, related_name="closed_dates")
    date = models.DateField()
    reason = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["queue", "date"]
        constraints = [models.UniqueConstraint(fields=["queue", "date"], name="one_closed_date_per_queue_and_day")]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.reason}".strip()


class OfferQuerySet(models.QuerySet):
    def pending(self):
        return self.filter(state=Offer.State.PENDING)


class Offer(models.Model):
    """A queued conversation offered to one agent. At most one offer of a conversation is
    pending at a time (a unique index), so with several server processes each offer goes to
    exactly one agent."""

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        ACCEPTED = "accepted", "Accepted"
        REJECTED = "rejected", "Rejected"
        EXPIRED = "expired", "Expired"
        WITHDRAWN = "withdrawn", "Withdrawn"

    conversation = models.ForeignKey("conversations.Conversation", on_delete=models.CASCADE, related_name="offers")
    agent = models.ForeignKey("agents.AgentProfile", on_delete=models.CASCADE, related_name="offers")
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)
    answered_at = models.DateTimeField(null=True, blank=True)

    objects = OfferQuerySet.as_manager()

    class Meta:
        db_table = "conversations_offer"
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["conversation"], condition=models.Q(state="pending"), name="one_pending_offer_per_conversation"
            )
        ]

    def __str__(self) -> str:
        return f"{self.conversation_id[:8]} → {self.agent} ({self.state})"
