import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.conf import settings
from django.test import override_settings

from chatserver.errors import NoCustomerEmail
from conversations import transcripts
from tests.factories import add_agent, end, send, start_conversation
from tests.pdfs import pdf_links, pdf_text

pytestmark = pytest.mark.django_db

PUBLIC_URL = "https://files.example.com/invoice-42.pdf"
PRIVATE_URLS = {
    "passwd.txt": "file:///etc/passwd",
    "loopback.png": "http://127.0.0.1/admin/secret.png",
    "local.png": "http://localhost/internal/report.png",
    "intranet.png": "http://10.0.0.5/latest/meta-data/",
    "inline.html": "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
}


@pytest.fixture
def chat():
    """A customer, two agents and every kind of message, ended by the first agent."""
    customer = start_conversation()
    grace = add_agent(customer.conversation, "Grace")
    linus = add_agent(customer.conversation, "Linus")
    send(customer, "My invoice is wrong")
    send(grace, "Customer sounds upset", tag="whisper")
    send(grace, "Linus, is billing down?", to=[{"id": linus.id}])
    send(linus, "Billing is fine, go ahead", to=[{"id": grace.id}])
    send(grace, "Let me check that for you")
    send(customer, "Thank you, Grace")
    return end(customer.conversation, by=grace)


@pytest.fixture
def chat_pdf_text(chat) -> str:
    return pdf_text(transcripts.transcript_pdf(chat))


def test_transcript_shows_every_message_the_customer_saw(chat_pdf_text):
    for text in ("My invoice is wrong", "Let me check that for you", "Thank you, Grace"):
        assert text in chat_pdf_text


def test_transcript_names_the_customer_and_the_agent(chat_pdf_text):
    assert "Ada Lovelace" in chat_pdf_text
    assert "ada@example.com" in chat_pdf_text
    assert "Grace" in chat_pdf_text


def test_whisper_never_appears_in_the_transcript(chat_pdf_text):
    assert "Customer sounds upset" not in chat_pdf_text


def test_messages_addressed_only_to_agents_never_appear_in_the_transcript(chat_pdf_text):
    assert "is billing down" not in chat_pdf_text
    assert "Billing is fine" not in chat_pdf_text


def test_transcript_of_a_conversation_without_messages_says_so():
    customer = start_conversation()
    conversation = end(customer.conversation, by=customer)

    assert "No messages." in pdf_text(transcripts.transcript_pdf(conversation))


def test_only_public_https_attachments_become_links_and_private_urls_are_not_printed():
    customer = start_conversation()
    agent = add_agent(customer.conversation)
    attachments = [{"name": "invoice-42.pdf", "type": "application/pdf", "contentUrl": PUBLIC_URL}]
    attachments += [{"name": name, "contentUrl": url} for name, url in PRIVATE_URLS.items()]
    send(agent, "Here are your files", attachments=attachments)
    conversation = end(customer.conversation, by=agent)

    pdf = transcripts.transcript_pdf(conversation)

    assert pdf_links(pdf) == [PUBLIC_URL]
    text = pdf_text(pdf)
    assert PUBLIC_URL in text
    for name, url in PRIVATE_URLS.items():
        assert name in text  # the customer still sees that something was attached
        assert url not in text
    for fragment in ("file:", "/etc/passwd", "127.0.0.1", "localhost", "10.0.0.5", "data:", "base64"):
        assert fragment not in text


@pytest.mark.parametrize(
    ("url", "public"),
    [
        ("https://files.example.com/a.pdf", True),
        ("http://93.184.216.34/a.png", True),
        ("HTTPS://Files.Example.com/a.pdf", True),
        ("file:///etc/passwd", False),
        ("http://127.0.0.1:8080/x", False),
        ("http://localhost/x", False),
        ("http://printer.local/x", False),
        ("http://intranet/x", False),
        ("http://10.0.0.5/x", False),
        ("http://192.168.1.1/x", False),
        ("http://169.254.169.254/latest/meta-data/", False),
        ("http://[::1]/x", False),
        ("data:image/png;base64,AAAA", False),
        ("javascript:alert(1)", False),
        ("", False),
    ],
)
def test_is_public_link_accepts_only_public_http_addresses(url, public):
    assert transcripts.is_public_link(url) is public


class RecordingHandler(BaseHTTPRequestHandler):
    def do_GET(self):
        self.server.requests.append(self.path)
        self.send_response(404)
        self.end_headers()

    def log_message(self, format, *args):
        pass


@pytest.fixture
def local_server():
    """A web server on a free local port that records the requests it gets."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), RecordingHandler)
    server.requests = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


def test_html_in_messages_is_printed_literally_and_nothing_is_fetched(local_server):
    base = f"http://127.0.0.1:{local_server.server_port}"
    image_tag = f'<img src="{base}/x">'
    customer = start_conversation()
    agent = add_agent(customer.conversation)
    send(customer, f"{image_tag} and <b>bold</b>")
    send(agent, "Your photo", attachments=[{"contentUrl": f"{base}/photo.png", "thumbnailUrl": f"{base}/thumb.png"}])
    conversation = end(customer.conversation, by=agent)

    text = pdf_text(transcripts.transcript_pdf(conversation))

    assert image_tag in text
    assert "<b>bold</b>" in text
    assert local_server.requests == []


def test_the_renderer_fetches_nothing_even_when_the_template_asks_for_it(local_server, tmp_path, chat):
    base = f"http://127.0.0.1:{local_server.server_port}"
    template = tmp_path / "transcripts" / "transcript.html"
    template.parent.mkdir()
    template.write_text(
        f'<link rel="stylesheet" href="{base}/style.css">'
        f"<style>@import url({base}/import.css); body {{ background: url({base}/background.png) }}</style>"
        f'<p>Rendered anyway</p><img src="{base}/image.png"><object data="{base}/object.svg"></object>'
    )
    templates = [{**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}]

    with override_settings(TEMPLATES=templates):
        text = pdf_text(transcripts.transcript_pdf(chat))

    assert "Rendered anyway" in text
    assert local_server.requests == []


def test_transcript_email_goes_to_the_customer_with_the_messages_and_the_pdf(chat):
    email = transcripts.transcript_email(chat)

    assert email.to == ["ada@example.com"]
    assert "My invoice is wrong" in email.body
    assert "Let me check that for you" in email.body
    assert "Customer sounds upset" not in email.body
    assert "is billing down" not in email.body
    [(html_body, mimetype)] = email.alternatives
    assert mimetype == "text/html"
    assert "Let me check that for you" in html_body
    assert "Customer sounds upset" not in html_body
    [(filename, content, content_type)] = email.attachments
    assert filename == transcripts.transcript_filename(chat)
    assert content_type == "application/pdf"
    assert content.startswith(b"%PDF")


def test_transcript_email_escapes_html_from_messages_in_its_html_part():
    customer = start_conversation()
    send(customer, '<b>bold</b> <a href="https://evil.example">click</a>')
    conversation = end(customer.conversation, by=customer)

    email = transcripts.transcript_email(conversation)

    [(html_body, _)] = email.alternatives
    assert "&lt;b&gt;bold&lt;/b&gt;" in html_body
    assert "<b>bold</b>" not in html_body
    assert '<a href="https://evil.example">' not in html_body
    assert '<b>bold</b> <a href="https://evil.example">click</a>' in email.body


def test_transcript_email_needs_a_customer_email_address():
    customer = start_conversation(email="")
    conversation = end(customer.conversation, by=customer)

    with pytest.raises(NoCustomerEmail):
        transcripts.transcript_email(conversation)


def test_transcript_filename_has_the_date_and_the_start_of_the_id(chat):
    assert transcripts.transcript_filename(chat) == f"transcript-{chat.created_at:%Y%m%d}-{chat.id[:8]}.pdf"


@pytest.mark.parametrize(
    ("url", "public"),
    [
        ("https://files.example.com/a.png", True),
        ("http://8.8.8.8/x", True),
        ("http://127.1/x", False),
        ("http://0177.0.0.1/", False),
        ("http://10.1/", False),
        ("http://[::1]/", False),
        ("http://metadata.google.internal./", False),
        ("http://intranet.corp/", False),
        ("http://localhost:8080/", False),
        ("file:///etc/passwd", False),
        ("data:text/plain,hi", False),
        ("http://[not-an-address", False),
    ],
)
def test_only_public_addresses_become_links(url, public):
    assert transcripts.is_public_link(url) is public
