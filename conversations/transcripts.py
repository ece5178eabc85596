"""Transcripts of ended conversations: a PDF (WeasyPrint) and an email carrying it.

The PDF renderer fetches nothing: every URL WeasyPrint asks for is refused, and attachment
URLs are printed as links only when they are public http(s) addresses.
"""

import ipaddress
import threading
from urllib.parse import urlsplit

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import timezone
from weasyprint import HTML
from weasyprint.urls import URLFetcher

from chatserver.errors import NoCustomerEmail, TranscriptBusy
from chatserver.ids import digest
from conversations import selectors
from conversations.models import Conversation


class RefusedFetch(ValueError):
    pass


class _RefuseEveryFetch(URLFetcher):
    """WeasyPrint's fetcher with every fetch refused; WeasyPrint logs the refusal and goes on.

    A subclass rather than a plain function: WeasyPrint 70 reads attributes of the fetcher
    when a fetch fails, and a function made the whole render crash instead.
    """

    def fetch(self, url: str, headers: dict | None = None):
        raise RefusedFetch(f"transcripts fetch nothing ({url[:60]})")


PRIVATE_TOP_LEVELS = {"localhost", "local", "internal", "intranet", "corp", "home", "lan", "private", "localdomain"}


def is_public_link(url: str) -> bool:
    """Whether an attachment URL may be printed as a clickable link in a transcript."""
    try:
        parts = urlsplit(url)
        hostname = parts.hostname
    except ValueError:
        return False
    if parts.scheme.lower() not in ("http", "https") or not hostname:
        return False
    host = hostname.lower().rstrip(".")
    try:
        return ipaddress.ip_address(host).is_global
    except ValueError:
        pass
    labels = host.split(".")
    top = labels[-1]
    # A public name ends in an alphabetic top-level domain; "127.1", "0177.0.0.1" or "10.1"
    # (addresses in shorthand) and single-label or private-use names do not.
    return len(labels) > 1 and (top.isalpha() or top.startswith("xn--")) and top not in PRIVATE_TOP_LEVELS


def _context(conversation: Conversation) -> dict:
    messages = selectors.customer_visible_transcript(conversation)
    return {
        "conversation": conversation,
        "participants": selectors.participants_of(conversation, present_only=False),
        "messages": [
            {
                "message": message,
                "attachments": [
                    {
                        "name": attachment.get("name") or attachment.get("type") or "attachment",
                        "type": attachment.get("type", ""),
                        "url": attachment.get("contentUrl", ""),
                        "linkable": is_public_link(attachment.get("contentUrl", "")),
                    }
                    for attachment in message.attachments
                ],
            }
            for message in messages
        ],
        "generated_at": timezone.now(),
        "site_name": settings.CHAT_SITE_NAME,
    }


def transcript_pdf(conversation: Conversation, context: dict | None = None) -> bytes:
    html = render_to_string("transcripts/transcript.html", context or _context(conversation))
    return HTML(string=html, url_fetcher=_RefuseEveryFetch(), base_url="about:blank").write_pdf()


# One render at a time per process (WeasyPrint holds the GIL: measured, 500 messages of 2,000
# characters took 10 s of CPU); each ended conversation is rendered once, then served from storage.
_rendering = threading.BoundedSemaphore(settings.CHAT_TRANSCRIPT_RENDERS)


def stored_transcript_pdf(conversation: Conversation) -> bytes:
    """The PDF of an ended conversation (it cannot change), rendered once and kept in Django's
    storage under a name derived from the conversation id; refused while the process is busy
    rendering others for longer than CHAT_TRANSCRIPT_RENDER_WAIT seconds."""
    name = f"transcripts/{digest(conversation.id)}.pdf"
    if default_storage.exists(name):
        with default_storage.open(name, "rb") as stored:
            return stored.read()
    if not _rendering.acquire(timeout=settings.CHAT_TRANSCRIPT_RENDER_WAIT):
        raise TranscriptBusy()
    try:
        if default_storage.exists(name):  # rendered by another request meanwhile
            with default_storage.open(name, "rb") as stored:
                return stored.read()
        pdf = transcript_pdf(conversation)
        default_storage.save(name, ContentFile(pdf))
        return pdf
    finally:
        _rendering.release()


def transcript_filename(conversation: Conversation) -> str:
    return f"transcript-{conversation.created_at:%Y%m%d}-{conversation.id[:8]}.pdf"


def transcript_email(conversation: Conversation) -> EmailMultiAlternatives:
    if not conversation.customer_email:
        raise NoCustomerEmail()
    context = _context(conversation)
    email = EmailMultiAlternatives(
        subject=render_to_string("transcripts/email_subject.txt", context).strip(),
        body=render_to_string("transcripts/email.txt", context),
        to=[conversation.customer_email],
    )
    email.attach_alternative(render_to_string("transcripts/email.html", context), "text/html")
    email.attach(transcript_filename(conversation), transcript_pdf(conversation, context), "application/pdf")
    return email
