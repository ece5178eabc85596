"""A conversation that init started and nobody joined is closed as abandoned, later."""

from datetime import timedelta

import pytest
from django.utils import timezone

from conversations import abandoned, services
from conversations.models import Conversation
from tests.factories import start_conversation

pytestmark = pytest.mark.django_db


def started_ago(seconds: int, **fields) -> Conversation:
    customer = start_conversation(**fields)
    Conversation.objects.filter(pk=customer.conversation_id).update(
        created_at=timezone.now() - timedelta(seconds=seconds)
    )
    return customer


def state_of(customer) -> str:
    return Conversation.objects.get(pk=customer.conversation_id).state


def test_an_unjoined_conversation_is_abandoned_after_the_setting_and_not_before(settings):
    settings.CHAT_ABANDONED_AFTER = 600
    old, recent = started_ago(601), started_ago(599)
    assert abandoned.close_abandoned() == 1
    assert (state_of(old), state_of(recent)) == ("abandoned", "open")
    assert Conversation.objects.get(pk=old.conversation_id).ended_at is not None
    assert abandoned.close_abandoned() == 0


def test_a_joined_conversation_is_never_abandoned_however_old(settings):
    settings.CHAT_ABANDONED_AFTER = 600
    customer = started_ago(3600)
    services.conversation_join(conversation_id=customer.conversation_id, participant_id=customer.join_key)
    assert abandoned.close_abandoned() == 0
    assert state_of(customer) == "open"


def test_an_abandoned_conversation_cannot_be_joined_later(settings):
    settings.CHAT_ABANDONED_AFTER = 600
    customer = started_ago(601)
    abandoned.close_abandoned()
    from chatserver.errors import ConversationEnded

    with pytest.raises(ConversationEnded):
        services.conversation_join(conversation_id=customer.conversation_id, participant_id=customer.join_key)


def test_zero_turns_abandoning_off(settings):
    settings.CHAT_ABANDONED_AFTER = 0
    customer = started_ago(10**6)
    assert abandoned.close_abandoned() == 0
    assert state_of(customer) == "open"
