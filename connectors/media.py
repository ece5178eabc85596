"""Files that connectors bring in (MMS media) or send out, kept in Django's storage and served
at /connectors/media/<token>: the token is signed (so unguessable), stored attachments keep a
token that does not expire, and what goes out to a provider (Twilio's MediaUrl) gets one that
expires after CHAT_MEDIA_URL_TTL seconds. Served as downloads, never as active content."""

import mimetypes
from urllib.parse import urlsplit

from django.conf import settings
from django.core import signing
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest

from chatserver.ids import new_secret_id

SALT = "connectors.media"
MEDIA_PATH = "/connectors/media/"
SHOWN_INLINE = ("image/", "audio/", "video/")


def store(data: bytes, *, content_type: str, channel: str) -> str:
    """Keep a file; returns its storage name (under a random directory)."""
    extension = mimetypes.guess_extension(content_type.split(";")[0].strip()) or ""
    return default_storage.save(f"connectors/{channel}/{new_secret_id()}/media{extension}", ContentFile(data))


def token_for(name: str, content_type: str, *, expiring: bool = False) -> str:
    value = {"n": name, "t": content_type}
    if expiring:
        value["e"] = 1
    return signing.dumps(value, salt=SALT)


def url_for(base_url: str, name: str, content_type: str, *, expiring: bool = False) -> str:
    return f"{base_url.rstrip('/')}{MEDIA_PATH}{token_for(name, content_type, expiring=expiring)}"


def expiring_url(content_url: str) -> str:
    """Our own stored file's URL as one that expires (for a provider to fetch); others as given."""
    parts = urlsplit(content_url)
    if not parts.path.startswith(MEDIA_PATH):
        return content_url
    value = _load(parts.path.removeprefix(MEDIA_PATH))
    if value is None:
        return content_url
    base = settings.CHAT_PUBLIC_URL or f"{parts.scheme}://{parts.netloc}"
    return url_for(base, value["n"], value["t"], expiring=True)


def _load(token: str) -> dict | None:
    try:
        value = signing.loads(token, salt=SALT)
        if value.get("e"):
            value = signing.loads(token, salt=SALT, max_age=settings.CHAT_MEDIA_URL_TTL)
    except signing.BadSignature:  # SignatureExpired is one
        return None
    return value if isinstance(value, dict) and "n" in value else None


def serve(request: HttpRequest, token: str) -> FileResponse:
    value = _load(token)
    if value is None or not default_storage.exists(value["n"]):
        raise Http404("No such file.")
    content_type = str(value.get("t") or "application/octet-stream")
    inline = content_type.startswith(SHOWN_INLINE) and "svg" not in content_type
    response = FileResponse(
        default_storage.open(value["n"]),
        content_type=content_type if inline else "application/octet-stream",
        as_attachment=not inline,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, max-age=3600"
    return response
