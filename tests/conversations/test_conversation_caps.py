"""The largest conversation the server accepts (CHAT_MAX_MESSAGES_PER_CONVERSATION,
CHAT_MAX_CONVERSATION_TEXT): the message that fits is stored, the next is refused with
CONVERSATION_FULL and stores nothing, and the full conversation still ends and has its PDF."""

import pytest

from chatserver.errors import ConversationEnded, ConversationFull
from conversations import transcripts
from conversations.models import Conversation, Message
from tests.factories import add_agent, end, send, start_conversation
from tests.pdfs import pdf_text

pytestmark = pytest.mark.django_db


def stored(conversation: Conversation) -> tuple[int, int, list[str]]:
    conversation.refresh_from_db()
    texts = list(conversation.messages.filter(type=Message.Type.CHAT).values_list("text", flat=True))
    return conversation.last_sequence, conversation.transcript_characters, texts


def test_the_message_that_reaches_the_cap_is_stored_and_the_next_is_refused_storing_nothing(settings):
    settings.CHAT_MAX_MESSAGES_PER_CONVERSATION = 3
    customer = start_conversation()
    agent = add_agent(customer.conversation)
    send(customer, "hello")
    send(agent, "one")
    last = send(customer, "two")
    before = stored(customer.conversation)
    assert before[0] == last.sequence and before[2] == ["hello", "one", "two"]
    for sender in (customer, agent):
        with pytest.raises(ConversationFull) as refused:
            send(sender, "three")
        assert (refused.value.code, refused.value.http_status) == ("CONVERSATION_FULL", 409)
    assert stored(customer.conversation) == before  # no sequence number taken, no text counted


def test_typing_indicators_and_system_messages_do_not_count(settings):
    """A desk sends a typing indicator every 2 s while its agent types: counted, they would
    fill a conversation long before its transcript grew."""
    settings.CHAT_MAX_MESSAGES_PER_CONVERSATION = 2
    customer = start_conversation()
    for _ in range(5):
        send(customer, type="ActivityMessage", activityType="typing")
    add_agent(customer.conversation)
    send(customer, "one")
    send(customer, "two")
    with pytest.raises(ConversationFull):
        send(customer, "three")
    send(customer, type="ActivityMessage", activityType="typing")  # still shown live, never printed
    assert stored(customer.conversation)[2] == ["one", "two"]


def test_text_is_counted_up_to_its_cap_and_a_text_past_it_is_refused(settings):
    settings.CHAT_MAX_CONVERSATION_TEXT = 100
    customer = start_conversation()
    send(customer, "a" * 60)
    with pytest.raises(ConversationFull):
        send(customer, "b" * 41)
    assert stored(customer.conversation)[1:] == (60, ["a" * 60])
    send(customer, "c" * 40)  # exactly the cap
    assert stored(customer.conversation)[1:] == (100, ["a" * 60, "c" * 40])
    with pytest.raises(ConversationFull):
        send(customer, "d")


def test_each_attachment_counts_as_a_line_and_its_printed_characters_as_text(settings):
    """In the PDF each attachment is a line of its own: name, web address and type."""
    settings.CHAT_MAX_MESSAGES_PER_CONVERSATION = 4
    customer = start_conversation()
    photo = {"type": "image/png", "name": "photo.png", "contentUrl": "https://cdn.example.com/p.png"}
    local = {"type": "image/png", "name": "scan.png", "contentUrl": "file:///tmp/scan.png"}  # not printed
    send(customer, "see these", attachments=[photo, local])
    assert stored(customer.conversation)[1] == len("see these") + 9 + 9 + 29 + 8 + 9
    with pytest.raises(ConversationFull):
        send(customer, "and this", attachments=[photo])
    send(customer, "and this")
    assert stored(customer.conversation)[2] == ["see these", "and this"]


def test_a_full_conversation_that_has_ended_says_it_has_ended(settings):
    customer = start_conversation()
    send(customer, "hello")
    settings.CHAT_MAX_MESSAGES_PER_CONVERSATION = 1
    end(customer.conversation, by=customer)
    with pytest.raises(ConversationEnded):
        send(customer, "anyone?")


def test_a_full_conversation_still_ends_and_its_pdf_has_every_message(settings):
    settings.CHAT_MAX_MESSAGES_PER_CONVERSATION = 30
    settings.CHAT_MAX_CONVERSATION_TEXT = 2_000
    customer = start_conversation()
    agent = add_agent(customer.conversation)
    sent = []
    with pytest.raises(ConversationFull):
        for n in range(100):
            send(customer if n % 2 == 0 else agent, f"message number {n:02d}")
            sent.append(f"message number {n:02d}")
    assert len(sent) == 30
    conversation = end(customer.conversation, by=agent)  # the end is stored past the cap
    assert conversation.messages.filter(activity_type="endOfConversation").exists()
    text = pdf_text(transcripts.transcript_pdf(conversation))
    assert all(line in text for line in sent) and text.count("message number") == len(sent)
