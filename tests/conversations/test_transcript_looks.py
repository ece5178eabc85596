"""What a transcript PDF says and how: display names, each person once, the site's time zone,
one typeface, the site's name and logo from settings, and nothing fetched for the logo."""

import struct
import zlib
from datetime import UTC, datetime
from io import BytesIO

import pytest
from django.contrib.auth import get_user_model
from django.test import override_settings
from pypdf import PdfReader

from agents.services import agent_create
from conversations import transcripts
from conversations.models import Conversation, Message, Participant
from tests.factories import end, send, start_conversation
from tests.pdfs import pdf_text

pytestmark = pytest.mark.django_db


def tiny_png() -> bytes:
    """A 2×2 red PNG, made here so that the test ships no binary."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\xff\x00\x00" * 2 for _ in range(2))
    header = struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def images_in(pdf: bytes) -> int:
    return sum(len(page.images) for page in PdfReader(BytesIO(pdf)).pages)


def fonts_in(pdf: bytes) -> set[str]:
    names = set()
    for page in PdfReader(BytesIO(pdf)).pages:
        for font in (page["/Resources"].get("/Font") or {}).values():
            names.add(str(font.get_object()["/BaseFont"]).split("+")[-1])
    return names


def with_agent_twice() -> Conversation:
    """alice (username; display name Alice Smith) joins, leaves, and comes back: two participant rows."""
    agent = agent_create(username="alice", password="a long enough passphrase", queues=["default"], name="Alice Smith")
    customer = start_conversation()
    conversation = customer.conversation
    first = Participant.objects.create(conversation=conversation, role="agent", name="alice", agent=agent)
    send(customer, "Hello")
    send(first, "Hi, Alice here")
    Participant.objects.filter(pk=first.pk).update(left_at=datetime.now(UTC))
    again = Participant.objects.create(conversation=conversation, role="agent", name="alice", agent=agent)
    send(again, "Back again")
    return end(conversation, by=customer)


def test_agents_appear_by_display_name_and_each_person_once():
    text = pdf_text(transcripts.transcript_pdf(with_agent_twice()))

    participants = next(line for line in text.splitlines() if line.startswith("Participants"))
    assert participants == "Participants Ada Lovelace (Customer), Alice Smith (Agent)"
    assert text.count("Alice Smith") == 3  # the list and her two messages
    assert "alice" not in text.replace("Alice", "")


def test_no_32_character_id_is_printed_only_a_short_reference():
    conversation = with_agent_twice()
    text = pdf_text(transcripts.transcript_pdf(conversation))

    assert conversation.id not in text
    assert f"Reference {conversation.id[:8]}" in text


@override_settings(TIME_ZONE="Asia/Karachi")
def test_times_are_in_the_site_time_zone():
    customer = start_conversation()
    send(customer, "What time is it?")
    conversation = end(customer.conversation, by=customer)
    noon_utc = datetime(2026, 3, 4, 12, 0, 5, tzinfo=UTC)
    Conversation.objects.filter(pk=conversation.pk).update(created_at=noon_utc, ended_at=noon_utc)
    Message.objects.filter(conversation=conversation).update(created_at=noon_utc)
    conversation.refresh_from_db()

    text = pdf_text(transcripts.transcript_pdf(conversation))

    assert "4 March 2026, 17:00 (Asia/Karachi)" in text  # UTC+5
    assert "17:00:05" in text and "12:00" not in text


def test_one_typeface_throughout_the_page_counter_included():
    pdf = transcripts.transcript_pdf(with_agent_twice())

    assert "Page 1 of 1" in pdf_text(pdf)
    assert {name.removesuffix("-Bold") for name in fonts_in(pdf)} == {"DejaVu-Sans"}


def test_the_site_name_and_a_local_logo_file_come_from_settings(tmp_path):
    logo = tmp_path / "logo.png"
    logo.write_bytes(tiny_png())
    conversation = with_agent_twice()

    with override_settings(CHAT_SITE_NAME="Acme Support", CHAT_SITE_LOGO=str(logo)):
        with_logo = transcripts.transcript_pdf(conversation)
    with override_settings(CHAT_SITE_LOGO=f"file://{logo}"):
        by_file_url = transcripts.transcript_pdf(conversation)

    assert pdf_text(with_logo).startswith("Acme Support")
    assert images_in(with_logo) == 1 and images_in(by_file_url) == 1
    assert images_in(transcripts.transcript_pdf(conversation)) == 0  # no logo set


@pytest.mark.parametrize(
    "setting", ["http://127.0.0.1:9/logo.png", "https://example.com/logo.png", "/no/such/logo.png"]
)
def test_a_logo_that_is_not_a_readable_local_image_is_left_out_and_nothing_is_fetched(setting, tmp_path, caplog):
    conversation = with_agent_twice()
    with override_settings(CHAT_SITE_LOGO=setting):
        pdf = transcripts.transcript_pdf(conversation)

    assert images_in(pdf) == 0
    assert "CHAT_SITE_LOGO" in caplog.text


def test_a_logo_that_is_not_an_image_is_left_out(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("do not print me")
    with override_settings(CHAT_SITE_LOGO=str(secret)):
        pdf = transcripts.transcript_pdf(with_agent_twice())

    assert images_in(pdf) == 0 and "do not print me" not in pdf_text(pdf)


def test_a_user_deleted_since_keeps_the_name_stored_with_the_participant():
    conversation = with_agent_twice()
    get_user_model().objects.filter(username="alice").delete()  # the agent profile goes with it

    text = pdf_text(transcripts.transcript_pdf(conversation))

    assert "Participants Ada Lovelace (Customer), alice (Agent)" in text  # the name it had there, once
