from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models.functions import Lower

from conversations.ids import new_secret_id


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
        ordering = ["name"]
        constraints = [models.UniqueConstraint(Lower("name"), name="queue_name_unique_whatever_its_case")]

    def __str__(self) -> str:
        return self.name


class AgentProfile(models.Model):
    """What makes a Django user an agent."""

    class State(models.TextChoices):
        READY = "ready", "Ready"
        NOT_READY = "notReady", "Not ready"

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="agent")
    queues = models.ManyToManyField(Queue, related_name="agents", blank=True)
    max_chats = models.PositiveIntegerField(default=3)
    state = models.CharField(max_length=16, choices=State.choices, default=State.NOT_READY)
    idle_since = models.DateTimeField(
        null=True, blank=True, help_text="When the agent last got ready or was last given a chat."
    )
    disconnected_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["user__username"]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.user.get_full_name() or self.user.get_username()


class AgentToken(models.Model):
    """A bearer token from POST /api/agent/login, stored as its SHA-256 only."""

    key_hash = models.CharField(max_length=64, unique=True)
    agent = models.ForeignKey(AgentProfile, on_delete=models.CASCADE, related_name="tokens")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"token of {self.agent} until {self.expires_at:%Y-%m-%d %H:%M}"


class AgentConnection(models.Model):
    """One live /agent socket. Server processes refresh `seen_at` of theirs; a row not
    refreshed for a while belongs to a process that died, and no longer counts."""

    sid = models.CharField(max_length=64, primary_key=True)
    agent = models.ForeignKey(AgentProfile, on_delete=models.CASCADE, related_name="connections")
    server_id = models.CharField(max_length=64, db_index=True)
    connected_at = models.DateTimeField(auto_now_add=True)
    seen_at = models.DateTimeField(db_index=True)
    # The credential it connected with: when it is revoked or expires, the socket is closed.
    token = models.ForeignKey("AgentToken", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    session_key = models.CharField(max_length=40, blank=True)

    def __str__(self) -> str:
        return f"{self.agent} on {self.server_id}"


class Conversation(models.Model):
    class State(models.TextChoices):
        OPEN = "open", "Open"
        ENDED = "ended", "Ended"

    id = models.CharField(primary_key=True, max_length=32, default=new_secret_id, editable=False)
    channel = models.CharField(max_length=32, db_index=True)
    subject = models.CharField(max_length=100, blank=True, db_index=True)
    language = models.CharField(max_length=16, blank=True)
    state = models.CharField(max_length=8, choices=State.choices, default=State.OPEN, db_index=True)
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
    queue = models.ForeignKey(Queue, null=True, blank=True, on_delete=models.SET_NULL, related_name="conversations")
    queued_at = models.DateTimeField(
        null=True, blank=True, db_index=True, help_text="Set while the conversation waits for an agent."
    )
    last_sequence = models.PositiveBigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    ended_at = models.DateTimeField(null=True, blank=True)

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
        AgentProfile, null=True, blank=True, on_delete=models.SET_NULL, related_name="participations"
    )
    name = models.CharField(max_length=200, blank=True)
    added_at = models.DateTimeField(auto_now_add=True)
    joined_at = models.DateTimeField(null=True, blank=True, help_text="First joinConversation.")
    left_at = models.DateTimeField(null=True, blank=True)

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

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="offers")
    agent = models.ForeignKey(AgentProfile, on_delete=models.CASCADE, related_name="offers")
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["conversation"], condition=models.Q(state="pending"), name="one_pending_offer_per_conversation"
            )
        ]

    def __str__(self) -> str:
        return f"{self.conversation_id[:8]} → {self.agent} ({self.state})"
