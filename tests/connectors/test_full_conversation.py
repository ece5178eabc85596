"""An SMS customer never ends a conversation: when its conversation is full
(CHAT_MAX_MESSAGES_PER_CONVERSATION), the server ends it and the message opens the next."""

import pytest

from connectors import inbound
from conversations.models import Conversation, Message

pytestmark = pytest.mark.django_db

CONTACT = "+15005550006"


@pytest.fixture(autouse=True)
def twilio(settings):
    settings.TWILIO_ACCOUNT_SID = "AC" + "0" * 32
    settings.TWILIO_AUTH_TOKEN = "token"
    settings.TWILIO_FROM_NUMBER = "+15005550001"


def test_a_full_sms_conversation_ends_and_the_next_message_opens_a_new_one(settings):
    settings.CHAT_MAX_MESSAGES_PER_CONVERSATION = 2
    first = inbound.message_in(channel="sms", contact=CONTACT, text="one", attachments=[])
    inbound.message_in(channel="sms", contact=CONTACT, text="two", attachments=[])
    third = inbound.message_in(channel="sms", contact=CONTACT, text="three", attachments=[])
    assert third.created and third.conversation.id != first.conversation.id
    full = Conversation.objects.get(id=first.conversation.id)
    assert full.state == Conversation.State.ENDED
    end = full.messages.get(activity_type="endOfConversation")
    assert end.info["reason"] == "full" and end.info["endedBy"]["id"] == "system"

    def texts(conversation_id: str) -> list[str]:
        return list(
            Message.objects.filter(conversation_id=conversation_id, type="ChatMessage").values_list("text", flat=True)
        )

    assert texts(first.conversation.id) == ["one", "two"]
    assert texts(third.conversation.id) == ["three"]
