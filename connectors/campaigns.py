"""Campaign messages: a third party, with an API key, asks the server to send a message to a
customer's contact through the channel's connector. Keys are 256 random bits, shown once,
stored as their SHA-256 (chatserver.ids.digest), and never logged."""

import secrets

import phonenumbers
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from chatserver.errors import InvalidPayload, RateLimited, Unauthorized
from chatserver.ids import digest
from connectors import outbound, registry
from connectors.models import ApiKey, OutboundMessage
from connectors.schemas import CampaignMessageIn

KEY_PREFIX = "cmp_"


def api_key_create(*, name: str) -> tuple[ApiKey, str]:
    """A new key; the clear key is returned once and never stored."""
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    return ApiKey.objects.create(name=name[:200], key_hash=digest(key)), key


def api_key_authenticate(key: str) -> ApiKey:
    api_key = ApiKey.objects.filter(key_hash=digest(key or "")).first() if key else None
    if api_key is None:
        raise Unauthorized("Missing or unknown API key.")
    if not api_key.is_active:
        raise Unauthorized("This API key was revoked.")
    return api_key


def api_key_revoke(api_key: ApiKey) -> None:
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at"])


def count_request(api_key: ApiKey) -> None:
    """At most CHAT_CAMPAIGN_RATE_LIMIT messages per key per CHAT_CAMPAIGN_RATE_WINDOW seconds
    (a fixed window in the cache: shared by all processes on Redis)."""
    window = settings.CHAT_CAMPAIGN_RATE_WINDOW
    slot = int(timezone.now().timestamp() // window)
    key = f"campaign-rate:{api_key.key_hash[:16]}:{slot}"
    cache.add(key, 0, timeout=window + 1)
    if cache.incr(key) > settings.CHAT_CAMPAIGN_RATE_LIMIT:
        raise RateLimited(f"At most {settings.CHAT_CAMPAIGN_RATE_LIMIT} messages per {window} s for one key.")


def normalized_contact(channel: str, to: str) -> str:
    """An SMS-like channel's `to` as E.164 (+15551234567); others as given."""
    if not registry.contacts_are_phone_numbers(channel):
        return to
    try:
        number = phonenumbers.parse(to, settings.CHAT_PHONE_DEFAULT_REGION or None)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise InvalidPayload("Some fields are missing or not valid.", fields={"to": "not a valid phone number"})
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def campaign_message_send(*, api_key: ApiKey, request: CampaignMessageIn) -> OutboundMessage:
    to = normalized_contact(request.channel, request.to)
    count_request(api_key)
    return outbound.outbound_create(
        channel=request.channel,
        to=to,
        text=request.text,
        attachments=[a.model_dump(by_alias=True, exclude_none=True) for a in request.attachments],
        campaign_id=request.campaign_id,
        api_key=api_key,
    )


def campaign_message_of(*, api_key: ApiKey, message_id: str) -> OutboundMessage | None:
    """Each key sees the messages sent with it."""
    return OutboundMessage.objects.filter(id=message_id, api_key=api_key).first()
