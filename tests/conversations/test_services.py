"""The services, called directly."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from agents.services import agent_create
from chatserver.dispatch import perform_sync
from chatserver.errors import ConversationEnded, ConversationNotFound, NotAParticipant
from conversations import selectors, services
from conversations.models import Conversation, Message
from conversations.schemas import InitRequest, SendMessage

# Real commits: what a service says happened is sent only once its transaction commits.
pytestmark = pytest.mark.django_db(transaction=True)


def start(**fields):
    return services.conversation_start(request=InitRequest(**{"firstName": "Kashif", "channel": "web", **fields}))


def chat(conversation_id: str, text: str, **fields) -> SendMessage:
    return SendMessage(conversationId=conversation_id, type="ChatMessage", text=text, **fields)


def send(sender, text: str, **fields):
    return perform_sync(
        services.message_send,
        conversation_id=sender.conversation_id,
        sender_id=sender.id,
        message=chat(sender.conversation_id, text, **fields),
    )


def test_starting_stores_the_conversation_and_its_customer():
    started = start(email="k@example.com", subject="ADSL")
    assert started.created
    assert started.customer.role == "customer"
    assert started.conversation.participants.get() == started.customer
    assert (started.conversation.subject, started.conversation.customer_email) == ("ADSL", "k@example.com")


def test_the_first_join_stores_a_greeting_for_the_joiner_and_a_joined_notice_for_the_others():
    started = start()
    joined = perform_sync(
        services.conversation_join, conversation_id=started.conversation.id, participant_id=started.customer.join_key
    )
    assert joined.value.greeting.activity_type == "greetings"
    assert joined.value.greeting.recipients == [{"id": started.customer.id, "name": "Kashif"}]
    said = [(d.payload["activityType"], d.audience.except_caller) for d in joined.deliveries]
    # The joiner hears of its own join through conversationInfo, the rest of it live.
    assert said == [("participantJoined", True), ("handOff", False), ("noAgentAvailable", False)]

    again = perform_sync(
        services.conversation_join, conversation_id=started.conversation.id, participant_id=started.customer.join_key
    )
    assert again.value.greeting.id == joined.value.greeting.id
    assert again.deliveries == []
    assert Message.objects.filter(activity_type="greetings").count() == 1


def test_sending_stores_with_the_next_sequence_and_delivers_to_the_conversation():
    started = start()
    first = send(started.customer, "one")
    second = send(started.customer, "two")
    assert (first.value.message.sequence, second.value.message.sequence) == (1, 2)
    delivery = second.deliveries[0]
    assert delivery.event == "messageArrived"
    assert delivery.audience.conversation_id == started.conversation.id
    assert delivery.audience.customers and delivery.audience.participant_ids == ()
    assert delivery.audience.except_caller  # the sender hears through its ack
    assert delivery.payload["text"] == "two" and delivery.payload["sequence"] == 2


def test_a_whisper_is_delivered_to_the_agents_only():
    started = start()
    alice = agent_create(username="alice", password="correct horse battery", queues=["default"])
    agent = services.participant_add(
        conversation_id=started.conversation.id, role="agent", name="Alice", agent_id=alice.pk
    )
    whisper = send(agent, "psst", tag="whisper")
    audience = whisper.deliveries[0].audience
    assert audience.customers is False and audience.participant_ids == ()
    assert audience.agent_ids == (alice.pk,)


def test_the_per_message_path_runs_the_same_few_queries_however_long_the_conversation():
    started = start()
    send(started.customer, "warm up")
    with CaptureQueriesContext(connection) as short:
        send(started.customer, "short conversation", requestId="a")
    for i in range(300):
        send(started.customer, f"filler {i}")
    with CaptureQueriesContext(connection) as long:
        send(started.customer, "long conversation", requestId="b")
    assert len(long) == len(short)
    # BEGIN, sender+conversation (locked), earlier requestId, INSERT, UPDATE sequence, present agents, COMMIT
    assert len(short) <= 7, [q["sql"] for q in short]


def test_sending_to_an_unknown_conversation_or_as_a_stranger_is_refused():
    started, other = start(), start(firstName="Eve")
    with pytest.raises(ConversationNotFound):
        services.message_send(conversation_id="0" * 32, sender_id=started.customer.id, message=chat("x", "hi"))
    with pytest.raises(NotAParticipant):
        services.message_send(
            conversation_id=started.conversation.id,
            sender_id=other.customer.id,
            message=chat(started.conversation.id, "hi"),
        )
    assert Message.objects.count() == 0


def test_ending_marks_the_conversation_and_refuses_later_messages():
    started = start()
    ended = perform_sync(
        services.conversation_end, conversation_id=started.conversation.id, participant_id=started.customer.id
    )
    conversation = Conversation.objects.get(id=started.conversation.id)
    assert conversation.state == "ended" and conversation.ended_at is not None
    assert ended.deliveries[0].payload["activityType"] == "endOfConversation"
    with pytest.raises(ConversationEnded):
        send(started.customer, "too late")
    assert not Message.objects.filter(text="too late").exists()


def test_catching_up_after_a_sequence_pages_from_the_oldest_missed_message(settings):
    settings.CHAT_HISTORY_LIMIT = 5
    started = start()
    sequences = [send(started.customer, f"m{i}").value.message.sequence for i in range(12)]
    conversation = Conversation.objects.get(pk=started.conversation.id)

    first_page = selectors.conversation_history(conversation=conversation, viewer=None, after_sequence=sequences[1])
    assert [m.sequence for m in first_page] == sequences[2:7]
    second_page = selectors.conversation_history(
        conversation=conversation, viewer=None, after_sequence=first_page[-1].sequence
    )
    assert [m.sequence for m in second_page] == sequences[7:12]
    newest = selectors.conversation_history(conversation=conversation, viewer=None)
    assert [m.sequence for m in newest] == sequences[-5:]


def test_a_page_cut_short_by_messages_for_others_still_says_more_may_follow(settings):
    settings.CHAT_HISTORY_LIMIT = 5
    started = start()
    alice = agent_create(username="alice", password="correct horse battery", queues=["default"])
    agent = services.participant_add(conversation_id=started.conversation.id, role="agent", name="A", agent_id=alice.pk)
    send(agent, "note to self", to=[{"id": agent.id}])  # addressed: not the customer's
    for i in range(8):
        send(agent, f"m{i}")
    conversation = Conversation.objects.get(pk=started.conversation.id)
    page = selectors.conversation_history(conversation=conversation, viewer=started.customer, after_sequence=0)
    assert [m.text for m in page] == ["m0", "m1", "m2", "m3"]
    assert page.has_more


def test_a_blank_request_id_is_no_request_id():
    started = start()
    first, second = send(started.customer, "one", requestId=""), send(started.customer, "two", requestId="")
    assert not first.value.duplicate and not second.value.duplicate
    assert Message.objects.filter(type="ChatMessage").count() == 2
