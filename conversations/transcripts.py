"""Transcripts of ended conversations: a PDF (WeasyPrint) and an email carrying it.

The PDF renderer fetches nothing: every URL WeasyPrint asks for is refused but `data:` ones
(the site logo is embedded as one), and attachment URLs are printed as links only when they
are public http(s) addresses.

WeasyPrint is imported on the first PDF, not when this module loads: without it (or without
the system's Pango it loads) the server runs, and only the PDF is refused (PdfUnavailable).
"""

import base64
import functools
import ipaddress
import logging
import mimetypes
import threading
import zoneinfo
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import timezone

from chatserver.errors import NoCustomerEmail, PdfUnavailable, TranscriptBusy
from chatserver.ids import digest
from conversations import selectors
from conversations.models import Conversation, Participant
from widget import catalogue

logger = logging.getLogger(__name__)

LOGO_TYPES = {"image/png", "image/jpeg", "image/gif", "image/svg+xml", "image/webp"}
MAX_LOGO_BYTES = 1_000_000


class RefusedFetch(ValueError):
    pass


@functools.cache
def _weasyprint():
    """(HTML, fetcher class), or PdfUnavailable. A missing Pango shows as an OSError."""
    try:
        from weasyprint import HTML
        from weasyprint.urls import URLFetcher
    except (ImportError, OSError) as exc:
        logger.error("Transcript PDFs are unavailable: WeasyPrint cannot be loaded (%s)", exc)
        raise PdfUnavailable() from None

    class RefuseEveryFetch(URLFetcher):
        """WeasyPrint's fetcher with every fetch refused but data: URLs, which are in the
        document already; WeasyPrint logs the refusal and goes on.

        A subclass rather than a plain function: WeasyPrint 70 reads attributes of the fetcher
        when a fetch fails, and a function made the whole render crash instead.
        """

        def fetch(self, url: str, headers: dict | None = None):
            if url.lower().startswith("data:"):
                return super().fetch(url, headers)
            raise RefusedFetch(f"transcripts fetch nothing ({url[:60]})")

    return HTML, RefuseEveryFetch


def pdf_available() -> bool:
    try:
        _weasyprint()
    except PdfUnavailable:
        return False
    return True


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


def logo_data_url() -> str:
    """CHAT_SITE_LOGO (a local file: a path, or a file: URL) as a data: URL, or "" for none.
    Anything else is never fetched: the logo is left out and the log says why."""
    setting = settings.CHAT_SITE_LOGO
    if not setting:
        return ""
    parts = urlsplit(setting)
    if parts.scheme.lower() == "file":
        path = Path(unquote(parts.path))
    elif parts.scheme and len(parts.scheme) > 1:  # "C:" is a drive, not a scheme
        logger.warning("CHAT_SITE_LOGO must be a local file; %r is not fetched", setting[:100])
        return ""
    else:
        path = Path(setting) if Path(setting).is_absolute() else settings.BASE_DIR / setting
    kind = mimetypes.guess_type(path.name)[0]
    if kind not in LOGO_TYPES:
        logger.warning("CHAT_SITE_LOGO %s is not a PNG, JPEG, GIF, WebP or SVG image; left out", path)
        return ""
    try:
        data = path.read_bytes()
    except OSError as exc:
        logger.warning("CHAT_SITE_LOGO %s cannot be read (%s); left out", path, exc.strerror)
        return ""
    if len(data) > MAX_LOGO_BYTES:
        logger.warning("CHAT_SITE_LOGO %s is larger than %d bytes; left out", path, MAX_LOGO_BYTES)
        return ""
    return f"data:{kind};base64,{base64.b64encode(data).decode()}"


def display_name(participant: Participant, conversation: Conversation) -> str:
    """How a person is named to the customer: an agent by its display name (the full name,
    else the username), a customer by the name it gave, else an identifier it gave."""
    if participant.agent_id is not None:
        return participant.agent.display_name
    if participant.is_customer:
        return (
            participant.name
            or conversation.customer_name
            or conversation.customer_ref_id
            or conversation.customer_phone
            or conversation.customer_email
            or participant.get_role_display()
        )
    return participant.name or participant.get_role_display()


def people_of(conversation: Conversation) -> tuple[list[dict], dict[str, str]]:
    """Each person once (an agent who left and came back has several participant rows), in
    the order they came; and the display name of every participant id."""
    participants = conversation.participants.select_related("agent__user").order_by("added_at")
    people: dict[tuple, dict] = {}
    names: dict[str, str] = {}
    for participant in participants:
        name = display_name(participant, conversation)
        names[participant.id] = name
        # An agent by its profile; anyone else (or an agent whose account is gone) by role and name.
        person = ("agent", participant.agent_id) if participant.agent_id else (participant.role, name)
        people.setdefault(person, {"name": name, "role": participant.get_role_display(), "role_code": participant.role})
    return list(people.values()), names


def _moments(messages: list, language: str, direction: str) -> list[str]:
    """When each message was sent as its header shows it: the time, and the day before it on
    the first message of each day (formatted once a day, not once a message)."""
    zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    separator = "، " if direction == "rtl" else ", "
    shown, day = [], None
    for message in messages:
        time = catalogue.formatted(message.created_at, "timeFormat", language)
        if (today := timezone.localtime(message.created_at, zone).date()) != day:
            day = today
            time = catalogue.formatted(message.created_at, "shortDateFormat", language) + separator + time
        shown.append(time)
    return shown


def _context(conversation: Conversation) -> dict:
    messages = selectors.customer_visible_transcript(conversation)
    people, names = people_of(conversation)
    # The conversation's language (English when it has none the catalogue knows), from the
    # catalogue the widget uses too; Arabic lays the whole document out right to left.
    language = catalogue.language_of(conversation.language)
    texts = catalogue.texts(language)
    reference = conversation.id[:8]
    now = timezone.now()
    return {
        "conversation": conversation,
        "reference": reference,
        "language": language,
        "dir": texts["dir"],
        # The sides a line starts and ends on: the stylesheet is written for one direction
        # rather than overridden for the other (WeasyPrint has no logical properties).
        "start": "right" if texts["dir"] == "rtl" else "left",
        "end": "left" if texts["dir"] == "rtl" else "right",
        "t": texts,
        "footer_css": catalogue.css_string(catalogue.fill(texts["transcriptFooter"], reference=reference)),
        "page_counter_css": catalogue.css_counter_content(texts["transcriptPage"]),
        "started": catalogue.formatted(conversation.created_at, "dateTimeFormat", language),
        "ended": catalogue.formatted(conversation.ended_at, "dateTimeFormat", language),
        "participants": [
            {"name": person["name"], "role": texts.get(f"role{person['role_code'].title()}", person["role"])}
            for person in people
        ],
        "messages": [
            {
                "message": message,
                "sender": names.get(message.sender_id or "", message.sender_name or message.sender_role),
                "dir": catalogue.text_direction(message.text, texts["dir"]),
                "time": catalogue.formatted(message.created_at, "timeFormat", language),
                "when": when,
                "attachments": [
                    {
                        "name": attachment.get("name") or attachment.get("type") or texts["transcriptAttachment"],
                        "type": attachment.get("type", ""),
                        "url": attachment.get("contentUrl", ""),
                        "linkable": is_public_link(attachment.get("contentUrl", "")),
                    }
                    for attachment in message.attachments
                ],
            }
            for message, when in zip(messages, _moments(messages, language, texts["dir"]), strict=True)
        ],
        "generated_at": now,
        "generated": catalogue.fill(
            texts["transcriptGenerated"],
            date=f"{catalogue.formatted(now, 'dateTimeFormat', language)} ({settings.TIME_ZONE})",
        ),
        "site_name": settings.CHAT_SITE_NAME,
        "time_zone": settings.TIME_ZONE,
        "hello": (
            catalogue.fill(texts["emailHello"], name=conversation.customer_first_name)
            if conversation.customer_first_name
            else texts["emailHelloNoName"]
        ),
        "intro": catalogue.fill(
            texts["emailIntro"],
            site=settings.CHAT_SITE_NAME,
            date=f"{catalogue.formatted(conversation.created_at, 'dateTimeFormat', language)} ({settings.TIME_ZONE})",
        ),
        "subject": catalogue.fill(texts["emailSubject"], site=settings.CHAT_SITE_NAME),
        "conversation_line": catalogue.fill(texts["emailConversation"], id=conversation.id),
    }


def _render(template: str, context: dict) -> str:
    # Times in the site's time zone (TIME_ZONE), whatever zone the request runs in.
    with timezone.override(settings.TIME_ZONE):
        return render_to_string(template, context)


def transcript_pdf(conversation: Conversation, context: dict | None = None) -> bytes:
    html_class, fetcher = _weasyprint()
    html = _render("transcripts/transcript.html", {**(context or _context(conversation)), "logo": logo_data_url()})
    return html_class(string=html, url_fetcher=fetcher(), base_url="about:blank").write_pdf()


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
    """The transcript in the mail's text and HTML, and as a PDF attached when this server can
    make PDFs (without WeasyPrint the mail goes without it, and says so)."""
    if not conversation.customer_email:
        raise NoCustomerEmail()
    context = _context(conversation)
    try:
        pdf = transcript_pdf(conversation, context)
    except PdfUnavailable:
        pdf = None
    context["pdf_attached"] = pdf is not None
    email = EmailMultiAlternatives(
        subject=_render("transcripts/email_subject.txt", context).strip(),
        body=_render("transcripts/email.txt", context),
        to=[conversation.customer_email],
    )
    email.attach_alternative(_render("transcripts/email.html", context), "text/html")
    if pdf is not None:
        email.attach(transcript_filename(conversation), pdf, "application/pdf")
    return email
