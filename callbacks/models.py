"""Web callbacks: a visitor asks to be called back; agents of the queue call; every change is kept.

A Callback is the request and its current state; CallbackOffer is one offer of it to one agent
(like routing.Offer for chats, at most one pending at a time); CallbackEvent is its history: each
change of state, who made it and when, and each call attempt with its outcome and note.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone

from chatserver.ids import new_secret_id


class Callback(models.Model):
    class State(models.TextChoices):
        REQUESTED = "requested", "Requested"
        SCHEDULED = "scheduled", "Scheduled"
        OFFERED = "offered", "Offered"
        IN_PROGRESS = "inProgress", "In progress"
        COMPLETED = "completed", "Completed"
        RETRY_SCHEDULED = "retryScheduled", "Retry scheduled"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"
        EXPIRED = "expired", "Expired"

    class Adjusted(models.TextChoices):
        NONE = "", "As asked"
        OUTSIDE_HOURS = "outsideHours", "Moved to the next opening"
        SLOT_FULL = "slotFull", "Moved to the next free slot"

    id = models.CharField(max_length=32, primary_key=True, default=new_secret_id, editable=False)
    key_hash = models.CharField(max_length=64, editable=False)
    queue = models.ForeignKey("routing.Queue", on_delete=models.PROTECT, related_name="callbacks")
    conversation = models.ForeignKey(
        "conversations.Conversation", null=True, blank=True, on_delete=models.SET_NULL, related_name="callbacks"
    )
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100, blank=True)
    phone = models.CharField(max_length=20, help_text="E.164", db_index=True)
    email = models.CharField(max_length=254, blank=True)
    language = models.CharField(max_length=16, blank=True)
    comment = models.TextField(max_length=2000, blank=True)
    window_start = models.DateTimeField(null=True, blank=True, help_text="Empty: as soon as possible.")
    window_end = models.DateTimeField(null=True, blank=True)
    time_zone = models.CharField(max_length=64, blank=True, help_text="The visitor's time zone, when given.")
    adjusted = models.CharField(max_length=16, choices=Adjusted.choices, blank=True, default="")
    scheduled_for = models.DateTimeField(db_index=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.REQUESTED, db_index=True)
    attempts = models.PositiveIntegerField(default=0, help_text="Calls made so far.")
    agent = models.ForeignKey(
        "agents.AgentProfile",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="callbacks",
        help_text="The agent it is offered to or who is calling.",
    )
    weight = models.PositiveIntegerField(default=1, help_text="Capacity it takes of its agent.")
    request_id = models.CharField(max_length=64, null=True, blank=True, unique=True)
    client_ip = models.GenericIPAddressField(null=True, blank=True)
    scheduled_by = models.ForeignKey(
        "agents.AgentProfile", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["scheduled_for"]
        indexes = [
            models.Index(fields=["state", "scheduled_for"]),
            models.Index(fields=["client_ip", "created_at"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["phone", "queue"],
                condition=models.Q(
                    state__in=["requested", "scheduled", "offered", "inProgress", "retryScheduled", "expired"]
                ),
                name="one_open_callback_per_phone_and_queue",
            )
        ]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name} {self.phone} ({self.get_state_display()})".replace("  ", " ")

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


S = Callback.State
OPEN_STATES = (S.REQUESTED, S.SCHEDULED, S.OFFERED, S.IN_PROGRESS, S.RETRY_SCHEDULED, S.EXPIRED)
# Waiting for an agent once their time has come (expired ones first: they are late).
ROUTABLE_STATES = (S.SCHEDULED, S.RETRY_SCHEDULED, S.EXPIRED)
# Holding an agent's capacity.
HELD_STATES = (S.OFFERED, S.IN_PROGRESS)


class CallbackOffer(models.Model):
    """A due callback offered to one agent; at most one pending a callback (a unique index)."""

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        ACCEPTED = "accepted", "Accepted"
        REJECTED = "rejected", "Rejected"
        EXPIRED = "expired", "Expired"
        WITHDRAWN = "withdrawn", "Withdrawn"

    callback = models.ForeignKey(Callback, on_delete=models.CASCADE, related_name="offers")
    agent = models.ForeignKey("agents.AgentProfile", on_delete=models.CASCADE, related_name="callback_offers")
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(db_index=True)
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["callback"], condition=models.Q(state="pending"), name="one_pending_offer_per_callback"
            )
        ]

    def __str__(self) -> str:
        return f"{self.callback_id[:8]} → {self.agent} ({self.state})"


class CallbackEvent(models.Model):
    """One change of a callback: its state before and after, who made it, when; a call attempt
    carries its outcome and the agent's note."""

    class Actor(models.TextChoices):
        CUSTOMER = "customer", "Customer"
        AGENT = "agent", "Agent"
        OPERATOR = "operator", "Operator"
        SYSTEM = "system", "System"

    class Outcome(models.TextChoices):
        NONE = "", "-"
        COMPLETED = "completed", "Completed"
        NO_ANSWER = "noAnswer", "No answer"
        BUSY = "busy", "Busy"
        WRONG_NUMBER = "wrongNumber", "Wrong number"
        CANCELLED_BY_CUSTOMER = "cancelledByCustomer", "Cancelled by the customer"

    callback = models.ForeignKey(Callback, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(default=timezone.now)
    from_state = models.CharField(max_length=16, choices=Callback.State.choices, blank=True)
    to_state = models.CharField(max_length=16, choices=Callback.State.choices)
    actor = models.CharField(max_length=16, choices=Actor.choices)
    agent = models.ForeignKey("agents.AgentProfile", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    outcome = models.CharField(max_length=24, choices=Outcome.choices, blank=True, default="")
    note = models.TextField(max_length=2000, blank=True)
    detail = models.CharField(max_length=200, blank=True, help_text="Why, in a few words (system changes).")

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.from_state or '-'} → {self.to_state} by {self.actor} at {self.at:%Y-%m-%d %H:%M}"
