"""One message catalogue (widget/catalogue.json) for the widget's texts and the server's
customer-facing ones: the widget gets it inside panel.js, the server reads the greeting here."""

import json
from functools import cache
from pathlib import Path

from django.conf import settings

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
