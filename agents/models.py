"""Agents: the Django users who answer conversations, their bearer tokens and live sockets.

The tables keep the names they had when these models lived in `conversations` (see
migrations/0001_initial.py: the move changed no table)."""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef
from django.utils import timezone


class AgentProfileQuerySet(models.QuerySet):
    def connected(self):
        """Agents with at least one live /agent socket, whose user is active."""
        return self.filter(Exists(AgentConnection.objects.live().filter(agent=OuterRef("pk"))), user__is_active=True)

    def ready(self):
        return self.filter(state=AgentProfile.State.READY)


class AgentConnectionQuerySet(models.QuerySet):
    def live(self):
        """Held by a server process whose sweep was seen lately (one heartbeat row a process,
        not one a socket: the sweep's cost does not grow with the agents connected)."""
        seen = timezone.now() - timedelta(seconds=settings.CHAT_CONNECTION_STALE)
        return self.filter(server_id__in=ServerProcess.objects.filter(seen_at__gte=seen).values("server_id"))


class AgentProfile(models.Model):
    """What makes a Django user an agent."""

    class State(models.TextChoices):
        READY = "ready", "Ready"
        NOT_READY = "notReady", "Not ready"

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="agent")
    queues = models.ManyToManyField("routing.Queue", related_name="agents", blank=True)
    max_chats = models.PositiveIntegerField(default=3)
    state = models.CharField(max_length=16, choices=State.choices, default=State.NOT_READY)
    idle_since = models.DateTimeField(
        null=True, blank=True, help_text="When the agent last got ready or was last given a chat."
    )
    disconnected_at = models.DateTimeField(null=True, blank=True, db_index=True)

    objects = AgentProfileQuerySet.as_manager()

    class Meta:
        db_table = "conversations_agentprofile"
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

    class Meta:
        db_table = "conversations_agenttoken"

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

    objects = AgentConnectionQuerySet.as_manager()

    class Meta:
        db_table = "conversations_agentconnection"

    def __str__(self) -> str:
        return f"{self.agent} on {self.server_id}"


class ServerProcess(models.Model):
    """A running server process's heartbeat, refreshed by its routing sweep; its agent sockets
    count as live while it is seen."""

    server_id = models.CharField(max_length=64, primary_key=True)
    seen_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return self.server_id
