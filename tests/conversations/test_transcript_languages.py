"""Transcripts (the PDF and the email) in the conversation's language, from the widget's
catalogue: German, Arabic laid out right to left, and English for any other language."""

import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.template.loader import render_to_string

from conversations import transcripts
from conversations.models import Conversation, Message
from tests.factories import add_agent, end, send, start_conversation
from tests.pdfs import pdf_text
from widget import catalogue

pytestmark = pytest.mark.django_db

SCREENSHOTS = Path(__file__).resolve().parent.parent.parent / "var" / "screenshots"
FIRST_OF_MARCH = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


@pytest.fixture(autouse=True)
def shop(settings):
    settings.CHAT_SITE_NAME = "Shop"
    settings.TIME_ZONE = "UTC"


def chat_in(language: str, customer_says: str, agent_says: str, **customer) -> Conversation:
    """An ended chat in `language`, started on 1 March 2026 at 09:30 UTC."""
    customer = start_conversation(language=language, **customer)
    agent = add_agent(customer.conversation, name="Grace")
    send(customer, customer_says)
    send(agent, agent_says)
    send(customer, "", attachments=[{"type": "image/png", "contentUrl": "https://cdn.example.com/r.png"}])
    conversation = end(customer.conversation, by=agent)
    Conversation.objects.filter(pk=conversation.pk).update(
        created_at=FIRST_OF_MARCH, ended_at=FIRST_OF_MARCH + timedelta(minutes=12)
    )
    Message.objects.filter(conversation=conversation).update(created_at=FIRST_OF_MARCH)
    conversation.refresh_from_db()
    return conversation


def pdf_html(conversation: Conversation) -> str:
    """The HTML the PDF is rendered from."""
    return render_to_string("transcripts/transcript.html", transcripts._context(conversation))


def save_pages(pdf: bytes, name: str) -> None:
    """The PDF and its first page as PNG under var/screenshots/, for a person to look at."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    (SCREENSHOTS / f"{name}.pdf").write_bytes(pdf)
    if shutil.which("pdftoppm"):
        subprocess.run(
            ["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile", SCREENSHOTS / f"{name}.pdf"]
            + [SCREENSHOTS / name],
            check=True,
        )


def test_a_german_transcript_pdf_has_german_headings_dates_and_page_counter():
    conversation = chat_in("de-AT", "Meine Rechnung stimmt nicht", "Ich sehe nach")
    pdf = transcripts.transcript_pdf(conversation)
    save_pages(pdf, "transcript-de")
    text = pdf_text(pdf)
    for heading in ("Gesprächsverlauf", "Kunde", "Kanal", "Beginn", "Ende", "Teilnehmer", "Referenz"):
        assert heading in text
    assert "1. März 2026, 09:30" in text and "1. März 2026, 09:42" in text
    assert "Grace (Mitarbeiter)" in text and "Ada Lovelace (Kunde)" in text
    assert "Seite 1 von 1" in text and f"Verlauf {conversation.id[:8]}" in text
    assert "Erstellt am" in text
    for english in ("Conversation transcript", "Customer", "Started", "Participants", "Page 1 of 1", "March"):
        assert english not in text
    html = pdf_html(conversation)
    assert '<html lang="de" dir="ltr">' in html


def test_an_arabic_transcript_pdf_is_right_to_left_with_arabic_headings():
    conversation = chat_in("ar", "فاتورتي غير صحيحة", "سأتحقق من ذلك")
    pdf = transcripts.transcript_pdf(conversation)
    save_pages(pdf, "transcript-ar")
    html = pdf_html(conversation)
    assert '<html lang="ar" dir="rtl">' in html
    # The stylesheet is written for the page's direction (WeasyPrint has no logical properties):
    # lines start on the right, and a message running the page's way needs no class of its own.
    assert "text-align: right;" in html and "margin-right: 3mm;" in html and "margin-left" not in html
    assert '<p class="t">فاتورتي غير صحيحة</p>' in html
    # The page counter and the footer are CSS strings: every character but letters, digits and
    # spaces is escaped, and the reference's corner swaps with the counter's.
    assert '@bottom-left { content: "صفحة " counter(page) " من " counter(pages)' in html
    assert "@bottom-right { content: " in html
    # pypdf gives Arabic in visual order, one word at a time; poppler (pdftotext) in logical order.
    text = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    for heading in ("نص المحادثة", "العميل", "القناة", "البداية", "النهاية", "المشاركون", "المرجع", "مارس"):
        assert heading in text, heading
    assert "فاتورتي غير صحيحة" in text and "سأتحقق من ذلك" in text
    # The email and phone number are isolated left to right (else "+44 20 7946 0958" shows as "0958 7946 20 44+").
    assert '<bdi dir="ltr">+44 20 7946 0958</bdi>' in html and '<bdi dir="ltr">&lt;ada@example.com&gt;</bdi>' in html
    for english in ("Conversation transcript", "Customer", "Started", "Page 1", "March"):
        assert english not in text


def test_a_message_running_the_other_way_than_the_page_is_laid_out_its_own_way():
    english_page = pdf_html(chat_in("en", "فاتورتي غير صحيحة", "Let me check"))
    assert '<p class="t rtl">فاتورتي غير صحيحة</p>' in english_page and '<p class="t">Let me check</p>' in english_page
    arabic_page = pdf_html(chat_in("ar", "My invoice is wrong", "سأتحقق من ذلك"))
    assert '<p class="t ltr">My invoice is wrong</p>' in arabic_page and '<p class="t">سأتحقق من ذلك</p>' in arabic_page


@pytest.mark.parametrize("language", ["fr", "", "xx-YY"])
def test_a_language_the_catalogue_does_not_have_gets_english(language):
    conversation = chat_in(language, "My invoice is wrong", "Let me check")
    text = pdf_text(transcripts.transcript_pdf(conversation))
    assert "Conversation transcript" in text and "Participants" in text and "Page 1 of 1" in text
    assert "1 March 2026, 09:30" in text and "Grace (Agent)" in text
    assert '<html lang="en" dir="ltr">' in pdf_html(conversation)
    email = transcripts.transcript_email(conversation)
    assert email.subject == "Your conversation transcript from Shop"
    assert email.body.startswith("Hello Ada,\n\nHere is the transcript of your conversation with Shop on 1 March 2026")


def test_a_german_transcript_email_is_german_in_its_subject_text_and_html(settings):
    settings.CHAT_SITE_NAME = "Beispiel & Söhne"
    conversation = chat_in("de", "Meine Rechnung stimmt nicht", "Ich sehe nach")
    email = transcripts.transcript_email(conversation)
    assert email.subject == "Ihr Gesprächsverlauf mit Beispiel & Söhne"
    assert email.body.startswith(
        "Guten Tag Ada,\n\nhier ist der Verlauf Ihres Gesprächs mit Beispiel & Söhne vom 1. März 2026, 09:30 (UTC)."
        " Sie finden ihn auch als PDF im Anhang."
    )
    assert f"Gespräch {conversation.id}" in email.body and "Anhang: image/png" in email.body
    html = email.alternatives[0][0]
    assert '<html lang="de" dir="ltr">' in html
    assert "Beispiel &amp; Söhne vom 1. März 2026" in html
    assert "Here is" not in html and "Hello" not in email.body


def test_an_arabic_transcript_email_is_arabic_and_its_html_right_to_left():
    conversation = chat_in("ar", "فاتورتي غير صحيحة", "سأتحقق من ذلك", firstName="ليلى")
    email = transcripts.transcript_email(conversation)
    assert email.subject == "نص محادثتك مع Shop"
    assert email.body.startswith("مرحباً ليلى،\n\nإليك نص محادثتك مع Shop بتاريخ 1 مارس 2026، 09:30 (UTC).")
    html = email.alternatives[0][0]
    assert '<html lang="ar" dir="rtl"><body dir="rtl"' in html and "text-align: right" in html
    assert '<span dir="rtl" style="white-space: pre-wrap">فاتورتي غير صحيحة</span>' in html
    assert "المحادثة " + conversation.id in html
    assert "Hello" not in email.body and "Here is" not in html


def test_the_texts_customers_write_stay_escaped_in_every_language():
    conversation = chat_in("ar", "<b>مرحبا</b>", "<script>x()</script>", firstName="<i>ليلى</i>")
    html = pdf_html(conversation)
    assert "<b>مرحبا</b>" not in html and "&lt;b&gt;مرحبا&lt;/b&gt;" in html
    assert "<script>" not in html
    email_html = transcripts.transcript_email(conversation).alternatives[0][0]
    assert "<i>ليلى</i>" not in email_html and "&lt;i&gt;ليلى&lt;/i&gt;" in email_html


def test_a_css_string_cannot_be_ended_by_what_it_holds():
    assert catalogue.css_string('a"b\\</style>') == '"a\\000022b\\00005c\\00003c\\00002fstyle\\00003e"'
    assert catalogue.css_counter_content("Seite {page} von {pages}") == '"Seite " counter(page) " von " counter(pages)'


def test_the_server_texts_are_in_every_language_and_fill_the_same_placeholders():
    languages = catalogue.catalogue()
    for key, english in languages["en"].items():
        placeholders = set(catalogue.PLACEHOLDER.findall(english))
        for code in ("de", "ar"):
            assert languages[code].get(key), (code, key)
            assert set(catalogue.PLACEHOLDER.findall(languages[code][key])) == placeholders, (code, key)
