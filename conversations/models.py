"""Conversations, their participants, and the messages of their timelines."""

from django.db import models

from chatserver.ids import new_secret_id


class ConversationQuerySet(models.QuerySet):
    def open(self):
        return self.filter(state=Conversation.State.OPEN)

    def waiting(self):
        """Open and in a queue, waiting for an agent."""
        return self.open().filter(queued_at__isnull=False)


class ParticipantQuerySet(models.QuerySet):
    def present(self):
        """Those who have not left."""
        return self.filter(left_at__isnull=True)

    def agents(self):
        return self.filter(role=Participant.Role.AGENT)


class Conversation(models.Model):
    class State(models.TextChoices):
        OPEN = "open", "Open"
        ENDED = "ended", "Ended"
        # Started with init and never joined by its customer (CHAT_ABANDONED_AFTER).
        ABANDONED = "abandoned", "Abandoned"

    id = models.CharField(primary_key=True, max_length=32, default=new_secret_id, editable=False)
    channel = models.CharField(max_length=32, db_index=True)
    subject = models.CharField(max_length=100, blank=True, db_index=True)
    language = models.CharField(max_length=16, blank=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.OPEN, db_index=True)
    customer_first_name = models.CharField(max_length=100, blank=True)
    customer_last_name = models.CharField(max_length=100, blank=True)
    customer_email = models.EmailField(max_length=254, blank=True)
    customer_phone = models.CharField(max_length=32, blank=True)
    customer_ref_id = models.CharField(max_length=100, blank=True)
    page_url = models.URLField(max_length=2000, blank=True)
    comment = models.TextField(blank=True)
    extra = models.JSONField(default=dict, blank=True, help_text="Other fields the client sent at init.")
    request_id = models.CharField(max_length=64, null=True, blank=True, unique=True)
    identity_verified = models.BooleanField(
        default=False, help_text="The site signed the visitor's refId or email (widget identityHash)."
    )
    queue = models.ForeignKey(
        "routing.Queue", null=True, blank=True, on_delete=models.SET_NULL, related_name="conversations"
    )
    queued_at = models.DateTimeField(
        null=True, blank=True, db_index=True, help_text="Set while the conversation waits for an agent."
    )
    last_sequence = models.PositiveBigIntegerField(default=0)
    # Chat messages (and their attachments) sent so far and the characters a transcript prints
    # of them (conversations.services), against CHAT_MAX_MESSAGES_PER_CONVERSATION and
    # CHAT_MAX_CONVERSATION_TEXT.
    transcript_lines = models.PositiveIntegerField(default=0)
    transcript_characters = models.PositiveBigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    objects = ConversationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.customer_name or self.customer_ref_id or self.id} ({self.channel})"

    @property
    def customer_name(self) -> str:
        return " ".join(p for p in (self.customer_first_name, self.customer_last_name) if p)

    @property
    def is_open(self) -> bool:
        return self.state == self.State.OPEN


class Participant(models.Model):
    class LeftReason(models.TextChoices):
        LEFT = "left", "Left"
        REMOVED = "removed", "Transferred away"
        ABSENT = "absent", "Away past the grace period"

    class Role(models.TextChoices):
        CUSTOMER = "customer", "Customer"
        AGENT = "agent", "Agent"
        BOT = "bot", "Bot"
        SYSTEM = "system", "System"

    id = models.CharField(primary_key=True, max_length=32, default=new_secret_id, editable=False)
    # A customer joins with this key (the participant id that /api/customer/init returns). The
    # `id` above is shown to everyone in the conversation, so it grants nothing.
    join_key = models.CharField(max_length=32, unique=True, null=True, blank=True, editable=False)  # noqa: DJ001
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="participants")
    role = models.CharField(max_length=16, choices=Role.choices)
    agent = models.ForeignKey(
        "agents.AgentProfile", null=True, blank=True, on_delete=models.SET_NULL, related_name="participations"
    )
    name = models.CharField(max_length=200, blank=True)
    added_at = models.DateTimeField(auto_now_add=True)
    joined_at = models.DateTimeField(null=True, blank=True, help_text="First joinConversation.")
    left_at = models.DateTimeField(null=True, blank=True)
    left_reason = models.CharField(max_length=16, choices=LeftReason.choices, blank=True)

    objects = ParticipantQuerySet.as_manager()

    class Meta:
        ordering = ["added_at"]

    def __str__(self) -> str:
        return f"{self.name or self.id} ({self.role})"

    @property
    def is_customer(self) -> bool:
        return self.role == self.Role.CUSTOMER


class Message(models.Model):
    class Type(models.TextChoices):
        CHAT = "ChatMessage", "Chat message"
        ACTIVITY = "ActivityMessage", "Activity message"

    id = models.CharField(primary_key=True, max_length=32, default=new_secret_id, editable=False)
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    sequence = models.PositiveBigIntegerField()
    type = models.CharField(max_length=16, choices=Type.choices)
    activity_type = models.CharField(max_length=32, blank=True)
    sender = models.ForeignKey(Participant, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    sender_name = models.CharField(max_length=200, blank=True)
    sender_role = models.CharField(max_length=16, blank=True)
    recipients = models.JSONField(default=list, blank=True, help_text="Participant ids; empty means everyone.")
    tag = models.CharField(max_length=16, blank=True)
    text = models.TextField(blank=True)
    language = models.CharField(max_length=16, blank=True)
    ref_id = models.CharField(max_length=100, blank=True)
    attachments = models.JSONField(default=list, blank=True)
    info = models.JSONField(default=dict, blank=True)
    request_id = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001 (NULL: not given, unconstrained)
    client_timestamp = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["conversation_id", "sequence"]  # not "conversation": that would join and sort by its ordering
        constraints = [
            models.UniqueConstraint(fields=["conversation", "sequence"], name="message_sequence_unique"),
            models.UniqueConstraint(
                fields=["conversation", "sender", "request_id"],
                condition=models.Q(request_id__isnull=False),
                name="message_request_id_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.sequence} {self.activity_type or self.text[:40]}"

    @property
    def is_whisper(self) -> bool:
        return self.tag == "whisper"


class TranscriptEmail(models.Model):
    """A transcript to mail to the customer: stored when asked for, sent by the background
    worker (chatserver.worker), retried when the mail server fails."""

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="transcript_emails")
    to = models.EmailField(max_length=254)
    state = models.CharField(max_length=8, choices=State.choices, default=State.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    # When a queued email is due, or until when a sending one is held by the worker that took it.
    due_at = models.DateTimeField(db_index=True)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"transcript of {self.conversation_id[:8]} to {self.to} ({self.state})"
