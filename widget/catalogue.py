"""One message catalogue (widget/catalogue.json) for the widget's texts and the server's
customer-facing ones: the widget gets it inside panel.js, the server reads the greeting, the
transcript's texts and the transcript email's here, in the conversation's language."""

import json
import re
import unicodedata
import zoneinfo
from datetime import datetime
from functools import cache
from pathlib import Path

from django.conf import settings
from django.utils import dateformat, timezone, translation
from django.utils.safestring import SafeString, mark_safe

CATALOGUE_FILE = Path(__file__).resolve().parent / "catalogue.json"
FALLBACK = "en"


@cache
def catalogue() -> dict[str, dict[str, str]]:
    return json.loads(CATALOGUE_FILE.read_text(encoding="utf-8"))


def language_of(code: str | None) -> str:
    """The catalogue language for a code such as 'de-AT' or 'AR'; English when there is none."""
    base = (code or "").split("-")[0].split("_")[0].lower()
    return base if base in catalogue() else FALLBACK


def text(key: str, language: str | None) -> str:
    return catalogue()[language_of(language)].get(key) or catalogue()[FALLBACK][key]


def greeting(language: str | None) -> str:
    """CHAT_GREETING when the operator set one, else the catalogue's in the visitor's language."""
    return settings.CHAT_GREETING or text("greeting", language)


# The server's customer-facing texts (transcripts, their email) in the conversation's language.


def texts(language: str | None) -> dict[str, str]:
    """Every text in a language, English where one is missing."""
    return {**catalogue()[FALLBACK], **catalogue()[language_of(language)]}


def direction(language: str | None) -> str:
    return texts(language)["dir"]


def fill(template: str, **values: object) -> str:
    """A text with its {placeholders} filled in: plain text, escaped where it is shown. The
    widget fills the same {name} placeholders; str.format is not used, so that a brace a
    translator writes is printed as it is."""
    return PLACEHOLDER.sub(lambda match: str(values.get(match[1], match[0])), template)


PLACEHOLDER = re.compile(r"\{(\w+)\}")


def formatted(moment: datetime | None, key: str, language: str | None) -> str:
    """A moment in the site's time zone (TIME_ZONE), in the language's format from the catalogue
    (dateFormat, dateTimeFormat, ...) and with its month names (Django's translations)."""
    if moment is None:
        return ""
    with translation.override(language_of(language)):
        local = timezone.localtime(moment, zoneinfo.ZoneInfo(settings.TIME_ZONE))
        return dateformat.format(local, texts(language)[key])


def css_string(text: str) -> SafeString:
    """A text as a CSS string literal, for a template's <style>: anything but letters, digits
    and spaces as a CSS escape, so that no quote, backslash or `</style>` can end it. Safe to
    print unescaped, and it must be: HTML escapes mean nothing inside <style>."""
    escaped = "".join(c if c.isalnum() or c == " " else f"\\{ord(c):06x}" for c in text)
    return mark_safe(f'"{escaped}"')  # noqa: S308 (every character that could end it is escaped)


def css_counter_content(template: str) -> SafeString:
    """A text with {page} and {pages} as the value of a CSS `content:` (the PDF's page counter)."""
    parts = []
    for piece in re.split(r"(\{pages?\})", template):
        if piece in ("{page}", "{pages}"):
            parts.append(f"counter({piece[1:-1]})")
        elif piece:
            parts.append(css_string(piece))
    return mark_safe(" ".join(parts))  # noqa: S308 (strings from css_string, and counter() names)


def text_direction(text: str, default: str) -> str:
    """ "rtl" or "ltr" after the first letter with a direction (WeasyPrint has no dir="auto");
    the document's direction for a text with none (digits, emoji)."""
    for character in text:
        kind = unicodedata.bidirectional(character)
        if kind in ("R", "AL"):
            return "rtl"
        if kind == "L":
            return "ltr"
    return default
