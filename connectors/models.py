"""Connectors and what goes through them: the messages sent out to customers (with their
delivery status), the conversation each contact has open on a channel, who opted out, and the
API keys of the third parties that send campaign messages."""

from django.db import models
from django.utils import timezone

from chatserver.ids import new_secret_id


class Connector(models.Model):
    """A channel connector (SMS gateway, messenger bridge, ...) known to the server."""

    id = models.SlugField(primary_key=True, max_length=32)
    name = models.CharField(max_length=200)
    channel = models.SlugField(max_length=32)
    key_hash = models.CharField(max_length=64, blank=True, editable=False, help_text="SHA-256 of the API key.")
    connected = models.BooleanField(default=False)
    connected_sockets = models.PositiveIntegerField(default=0)
    last_connected_at = models.DateTimeField(null=True, blank=True)
    last_disconnected_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.id})"


class OutboundStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    SENT = "sent", "Sent"
    DELIVERED = "delivered", "Delivered"
    UNDELIVERED = "undelivered", "Undelivered"
    FAILED = "failed", "Failed"
    READ = "read", "Read"
    SUPPRESSED = "suppressed", "Suppressed (opted out)"


FINAL_STATUSES = {OutboundStatus.FAILED, OutboundStatus.SUPPRESSED}
UNSUCCESSFUL_STATUSES = {OutboundStatus.UNDELIVERED, OutboundStatus.FAILED}


class OutboundMessageQuerySet(models.QuerySet):
    def due(self, now=None):
        """Queued, its next attempt due, and not held by a worker that is still on it."""
        now = now or timezone.now()
        return (
            self.filter(status=OutboundStatus.QUEUED, next_attempt_at__lte=now)
            .filter(models.Q(claimed_until__isnull=True) | models.Q(claimed_until__lt=now))
            .order_by("created_at")
        )


class OutboundMessage(models.Model):
    """One message for a customer, stored before a connector is asked to deliver it."""

    id = models.CharField(primary_key=True, max_length=32, default=new_secret_id, editable=False)
    channel = models.SlugField(max_length=32, db_index=True)
    to = models.CharField(max_length=100, help_text="The customer's contact: a phone number, a refId.")
    text = models.TextField(blank=True)
    attachments = models.JSONField(default=list, blank=True)
    campaign_id = models.CharField(max_length=100, blank=True, db_index=True)
    conversation = models.ForeignKey(
        "conversations.Conversation", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    message = models.ForeignKey(
        "conversations.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    api_key = models.ForeignKey("ApiKey", null=True, blank=True, on_delete=models.SET_NULL, related_name="messages")
    status = models.CharField(
        max_length=16, choices=OutboundStatus.choices, default=OutboundStatus.QUEUED, db_index=True
    )
    error_code = models.CharField(max_length=64, blank=True)
    error_text = models.CharField(max_length=500, blank=True)
    provider_message_id = models.CharField(max_length=100, blank=True, db_index=True)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now, db_index=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    history = models.JSONField(default=list, blank=True, help_text="Each status it went through, with when.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = OutboundMessageQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.channel} to {self.to}: {self.status}"


class ContactConversation(models.Model):
    """The conversation a contact has open on a channel. The partial unique index is what makes
    two messages arriving at the same instant from a new number one conversation, not two."""

    channel = models.SlugField(max_length=32)
    contact = models.CharField(max_length=100)
    conversation = models.OneToOneField("conversations.Conversation", on_delete=models.CASCADE, related_name="+")
    open = models.BooleanField(default=True)
    campaign_id = models.CharField(max_length=100, blank=True)
    last_inbound_at = models.DateTimeField(default=timezone.now, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "contact"], condition=models.Q(open=True), name="one_open_conversation_per_contact"
            )
        ]

    def __str__(self) -> str:
        return f"{self.channel}:{self.contact}"


class InboundReceipt(models.Model):
    """A provider's message id seen once: its retries of the same webhook are stored once."""

    channel = models.SlugField(max_length=32)
    provider_message_id = models.CharField(max_length=100)
    conversation = models.ForeignKey("conversations.Conversation", null=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["channel", "provider_message_id"], name="inbound_receipt_once")]

    def __str__(self) -> str:
        return f"{self.channel}:{self.provider_message_id}"


class OptOut(models.Model):
    """A contact who said STOP on a channel: nothing is sent to them until they say START."""

    channel = models.SlugField(max_length=32)
    contact = models.CharField(max_length=100)
    reason = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["channel", "contact"], name="opt_out_once")]

    def __str__(self) -> str:
        return f"{self.channel}:{self.contact}"


class ApiKey(models.Model):
    """A third party's key for the campaign API; only its SHA-256 is stored."""

    name = models.CharField(max_length=200)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
