"""The admin's conversation page reads like the conversation; its list shows the figures that matter."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from conversations import schemas, services
from tests.factories import add_agent, end, send, start_conversation

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def typing(participant):
    message = schemas.parse(
        schemas.SendMessage,
        {"conversationId": participant.conversation_id, "type": "ActivityMessage", "activityType": "typing"},
    )
    services.message_send(conversation_id=participant.conversation_id, sender_id=participant.id, message=message)


def a_conversation():
    customer = start_conversation()
    services.conversation_join(
        conversation_id=customer.conversation_id, participant_id=customer.join_key, name="", after_sequence=None
    )
    grace = add_agent(customer.conversation, "Grace Hopper")
    send(customer, "My invoice is wrong")
    typing(grace)
    send(grace, "Customer sounds upset", tag="whisper")
    send(
        grace,
        "Here it is",
        attachments=[{"name": "invoice.pdf", "type": "application/pdf", "contentUrl": "https://x.example/i.pdf"}],
    )
    return end(customer.conversation, by=grace)


def text_of(fragment: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", fragment)).strip()


def test_the_change_page_shows_the_chat_with_whispers_marked_typing_left_out_and_joins_saying_who(admin_client):
    conversation = a_conversation()

    page = admin_client.get(reverse("admin:conversations_conversation_change", args=[conversation.id])).text

    chat = page.split('data-testid="chat"', 1)[1].split("</fieldset>", 1)[0]
    lines = [
        (piece.split('"', 1)[0], text_of(piece.split(">", 1)[1])) for piece in chat.split('data-testid="chat-')[1:]
    ]
    messages = [text for kind, text in lines if kind == "message"]
    events = [text for kind, text in lines if kind == "event"]
    assert [m.split(" ", 1)[0] for m in messages] == ["Ada", "Grace", "Grace"]
    assert "My invoice is wrong" in messages[0]
    assert "whisper" in messages[1] and "Customer sounds upset" in messages[1]
    assert "invoice.pdf" in messages[2]
    assert chat.count('data-whisper="true"') == 1
    assert any("Ada Lovelace (customer) joined" in event for event in events)
    assert any("Ended by Grace Hopper" in event for event in events)
    assert not any("typing" in event for event in events)
    # The stored rows, typing included, are one click away.
    assert "Messages as stored (technical)" in page
    assert re.search(r"<details[^>]*>\s*<summary[^>]*>.*?Messages as stored", page, re.S)


def test_the_list_shows_agent_waiting_time_duration_and_message_count_in_a_constant_number_of_queries(
    admin_client,
):
    conversation = a_conversation()
    url = reverse("admin:conversations_conversation_changelist")
    admin_client.get(url)  # warm up (session, content types)

    with CaptureQueriesContext(connection) as one:
        first = admin_client.get(url).text
    for _ in range(5):
        a_conversation()
    with CaptureQueriesContext(connection) as six:
        admin_client.get(url)

    assert len(six.captured_queries) == len(one.captured_queries)
    row = next(row for row in first.split("<tr")[1:] if conversation.id[:8] in row)
    cells = dict(re.findall(r'<t[dh] class="field-(\w+)[^"]*">(.*?)</t[dh]>', row, re.S))
    assert text_of(cells["agent"]) == "Grace Hopper"
    assert text_of(cells["message_count"]) == "3"  # chat messages: typing and activities are not counted
    assert re.fullmatch(r"\d+ s", text_of(cells["waited"]))
    assert re.fullmatch(r"\d+ s", text_of(cells["duration"]))
    assert re.fullmatch(r"\d\d:\d\d", text_of(cells["started"]))  # today: the time only


def test_a_conversation_nobody_answered_says_so(admin_client):
    customer = start_conversation()
    end(customer.conversation, by=customer)

    page = admin_client.get(reverse("admin:conversations_conversation_changelist")).text

    row = next(row for row in page.split("<tr")[1:] if customer.conversation_id[:8] in row)
    assert "no agent" in row


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [(0, "0 s"), (59, "59 s"), (60, "1 min"), (3599, "59 min"), (3900, "1 h 05"), (86400 * 2 + 3 * 3600, "2 d 3 h")],
)
def test_durations_are_short(seconds, shown):
    from datetime import timedelta

    from conversations.admin_chat import short_duration

    assert short_duration(timedelta(seconds=seconds)) == shown


def test_without_weasyprint_the_admin_download_says_so_instead_of_failing(admin_client, monkeypatch):
    from chatserver.errors import PdfUnavailable
    from conversations import transcripts

    def unavailable():
        raise PdfUnavailable()

    conversation = a_conversation()
    monkeypatch.setattr(transcripts, "_weasyprint", unavailable)  # what a missing Pango makes of it

    download = admin_client.get(reverse("admin:conversations_conversation_transcript", args=[conversation.id]))
    action = admin_client.post(
        reverse("admin:conversations_conversation_changelist"),
        {"action": "download_transcripts", "_selected_action": [conversation.id]},
        follow=True,
    )

    assert download.status_code == 503 and "Pango" in download.text
    assert action.status_code == 200 and "Pango" in action.text
