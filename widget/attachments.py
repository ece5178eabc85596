"""Files visitors and agents attach: checked (size, type sniffed from the content, images
decoded and re-encoded with Pillow), stored through Django's storage API, served by key.

Nothing is stored for a file that is refused: every check runs before the first write."""

import io
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.urls import reverse
from django.utils.text import get_valid_filename
from PIL import Image, UnidentifiedImageError

from conversations import timeline
from conversations.models import Participant
from widget.errors import AttachmentNotValid, AttachmentTooLarge, AttachmentTypeNotAllowed
from widget.models import Attachment

# What Pillow calls each image type we take, and how it is written again.
IMAGE_FORMATS = {"image/png": "PNG", "image/jpeg": "JPEG", "image/gif": "GIF", "image/webp": "WEBP"}
THUMBNAIL_SIZE = (320, 320)
MAX_IMAGE_PIXELS = 40_000_000  # larger images are refused rather than decoded (decompression bombs)


@dataclass(frozen=True)
class Limits:
    max_bytes: int
    types: tuple[str, ...]

    def as_json(self) -> dict:
        return {"maxBytes": self.max_bytes, "types": list(self.types)}


def limits() -> Limits:
    return Limits(max_bytes=settings.CHAT_ATTACHMENT_MAX_BYTES, types=tuple(settings.CHAT_ATTACHMENT_TYPES))


def human_size(size: int) -> str:
    return f"{size / 1_000_000:g} MB" if size >= 1_000_000 else f"{size / 1000:g} KB"


def _sniffed_type(data: bytes, claimed: str) -> str:
    """The type the content shows, for the types that are checked by content; else the claim."""
    if claimed in IMAGE_FORMATS:
        return claimed
    if claimed == "application/pdf" and not data.startswith(b"%PDF-"):
        raise AttachmentNotValid("The file claims to be a PDF and is not one.")
    if claimed == "text/plain":
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            raise AttachmentNotValid("The file claims to be text and is not UTF-8 text.") from None
        if b"\x00" in data:
            raise AttachmentNotValid("The file claims to be text and is not.")
    return claimed


def _reencoded(data: bytes, claimed: str) -> tuple[bytes, bytes, str]:
    """The image decoded and written again (metadata and anything hidden in it dropped), its
    thumbnail (PNG or JPEG) and the thumbnail's extension. Refuses what is not the image it claims."""
    try:
        with Image.open(io.BytesIO(data)) as probe:
            probe.verify()
        image = Image.open(io.BytesIO(data))
        if image.format != IMAGE_FORMATS[claimed]:
            raise AttachmentNotValid(f"The file claims to be {claimed} and is {image.format or 'something else'}.")
        if image.width * image.height > MAX_IMAGE_PIXELS:
            raise AttachmentTooLarge("The image has more pixels than the server accepts.")
        image.load()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise AttachmentNotValid("The file claims to be an image and is not one that can be read.") from exc
    fmt = IMAGE_FORMATS[claimed]
    if fmt == "JPEG" and image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    out = io.BytesIO()
    image.save(out, format=fmt)
    thumb = image.copy()
    thumb.thumbnail(THUMBNAIL_SIZE)
    thumb_out = io.BytesIO()
    if thumb.mode in ("RGBA", "LA", "P"):
        thumb.save(thumb_out, format="PNG")
        return out.getvalue(), thumb_out.getvalue(), "png"
    thumb.convert("RGB").save(thumb_out, format="JPEG", quality=85)
    return out.getvalue(), thumb_out.getvalue(), "jpg"


def _safe_name(name: str) -> str:
    cleaned = get_valid_filename(name.replace("\\", "/").rsplit("/", 1)[-1]) if name else ""
    return (cleaned or "file")[-120:]


def attachment_store(*, uploader: Participant, upload: UploadedFile) -> Attachment:
    """Check and store one uploaded file of `uploader`'s open conversation."""
    timeline.require_open(uploader.conversation)
    allowed = limits()
    claimed = (upload.content_type or "").split(";")[0].strip().lower()
    name = _safe_name(upload.name or "")
    if upload.size is not None and upload.size > allowed.max_bytes:
        raise AttachmentTooLarge(f"The file is larger than {human_size(allowed.max_bytes)}.")
    if claimed not in allowed.types:
        raise AttachmentTypeNotAllowed(
            f"Files of type '{claimed[:60]}' cannot be sent; allowed: {', '.join(allowed.types)}."
        )
    data = upload.read(allowed.max_bytes + 1)
    if len(data) > allowed.max_bytes:
        raise AttachmentTooLarge(f"The file is larger than {human_size(allowed.max_bytes)}.")
    if not data:
        raise AttachmentNotValid("The file is empty.")
    content_type = _sniffed_type(data, claimed)
    thumbnail = None
    if content_type in IMAGE_FORMATS:
        data, thumb_data, thumb_ext = _reencoded(data, content_type)
        thumbnail = ContentFile(thumb_data, name=f"thumbnail.{thumb_ext}")
    attachment = Attachment(
        conversation=uploader.conversation,
        uploaded_by=uploader,
        name=name,
        content_type=content_type,
        size=len(data),
    )
    attachment.file.save(name, ContentFile(data), save=False)
    try:
        if thumbnail is not None:
            attachment.thumbnail.save(thumbnail.name, thumbnail, save=False)
        with transaction.atomic():
            attachment.save()
    except Exception:
        attachment.file.delete(save=False)
        if attachment.thumbnail:
            attachment.thumbnail.delete(save=False)
        raise
    return attachment


def attachment_json(attachment: Attachment, *, absolute) -> dict:
    """The Attachment of the Customer Channel API; `absolute` makes a URL absolute (the widget
    runs on other sites)."""
    content = absolute(reverse("widget-file", args=[attachment.key, "file"]))
    thumbnail = absolute(reverse("widget-file", args=[attachment.key, "thumbnail"])) if attachment.thumbnail else None
    return {"type": attachment.content_type, "name": attachment.name, "contentUrl": content, "thumbnailUrl": thumbnail}
