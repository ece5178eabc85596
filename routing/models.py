"""Routing state: skill queues and the offers of waiting conversations to agents.

The tables keep the names they had when these models lived in `conversations` (see
migrations/0001_initial.py: the move changed no table)."""

from django.core.validators import MinValueValidator
from django.db import models
from django.db.models.functions import Lower


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

    class Meta:
        db_table = "conversations_queue"
        ordering = ["name"]
        constraints = [models.UniqueConstraint(Lower("name"), name="queue_name_unique_whatever_its_case")]

    def __str__(self) -> str:
        return self.name


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
