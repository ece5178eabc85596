"""Phone numbers, parsed and normalised to E.164 by Google's libphonenumber (the phonenumbers package)."""

import phonenumbers
from django.conf import settings


def to_e164(raw: str, *, region: str | None = None) -> str:
    """The number in E.164 (+4930123456), read as a number of `region` (CHAT_PHONE_REGION)
    when it has no country code; ValueError when it is not a possible, valid number."""
    try:
        number = phonenumbers.parse(raw, region or settings.CHAT_PHONE_REGION)
    except phonenumbers.NumberParseException:
        raise ValueError("is not a phone number") from None
    if not phonenumbers.is_valid_number(number):
        raise ValueError("is not a valid phone number (add the country code, e.g. +49 30 123456)")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def readable(e164: str) -> str:
    """The number as people read it: +49 30 901820."""
    try:
        return phonenumbers.format_number(phonenumbers.parse(e164), phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    except phonenumbers.NumberParseException:
        return e164
