"""Conversations that init started and no customer ever joined: after CHAT_ABANDONED_AFTER
seconds they are closed as abandoned, instead of sitting open for ever. A background job of the
worker (it polls every CHAT_WORKER_POLL seconds)."""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from conversations.models import Conversation, Participant

JOB = "abandoned-conversations"
BATCH = 100


def close_abandoned() -> int:
    """Close the conversations abandoned by now; how many."""
    if not settings.CHAT_ABANDONED_AFTER:
        return 0
    cutoff = timezone.now() - timedelta(seconds=settings.CHAT_ABANDONED_AFTER)
    joined = Participant.objects.filter(joined_at__isnull=False).values("conversation")
    candidates = (
        Conversation.objects.open()
        .filter(queued_at__isnull=True, created_at__lte=cutoff)
        .exclude(pk__in=joined)
        .values_list("pk", flat=True)[:BATCH]
    )
    return sum(_close_if_still_abandoned(conversation_id) for conversation_id in list(candidates))


@transaction.atomic
def _close_if_still_abandoned(conversation_id: str) -> int:
    # Locked, then looked at again: a join that committed meanwhile keeps it open.
    conversation = Conversation.objects.select_for_update().get(pk=conversation_id)
    if not conversation.is_open or conversation.participants.filter(joined_at__isnull=False).exists():
        return 0
    conversation.state, conversation.ended_at = Conversation.State.ABANDONED, timezone.now()
    conversation.save(update_fields=["state", "ended_at"])
    return 1
