"""Twilio SMS and MMS: the built-in connector of channel `sms`, on the official twilio library.

On when TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM_NUMBER or
TWILIO_MESSAGING_SERVICE_SID are set. TWILIO_API_BASE_URL points the library elsewhere (tests,
Twilio-compatible gateways).
"""

import logging

from django.conf import settings
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from connectors import media
from connectors.base import Connector, Sent, TransportError
from connectors.models import OutboundMessage

logger = logging.getLogger(__name__)

CHANNEL = "sms"
MAX_BODY = 1600  # Twilio's limit for one message body
OPTED_OUT = 21610  # "Attempt to send to unsubscribed recipient"
ERROR_TEXT = {
    "21211": "The 'To' number is not a valid phone number.",
    "21408": "Sending to this region is not enabled.",
    "21610": "The recipient has opted out (STOP).",
    "21614": "The 'To' number is not a mobile number.",
    "30003": "Unreachable destination handset.",
    "30004": "Message blocked.",
    "30005": "Unknown destination handset.",
    "30006": "Landline or unreachable carrier.",
    "30007": "Filtered by the carrier.",
    "30008": "Unknown error.",
}
STATUS_CALLBACK_PATH = "/connectors/twilio/sms/status"


def configured() -> bool:
    return bool(
        settings.TWILIO_ACCOUNT_SID
        and settings.TWILIO_AUTH_TOKEN
        and (settings.TWILIO_FROM_NUMBER or settings.TWILIO_MESSAGING_SERVICE_SID)
    )


def twilio_connector() -> "TwilioSMS | None":
    return TwilioSMS() if configured() else None


def split_body(text: str, limit: int = MAX_BODY) -> list[str]:
    """Text over Twilio's limit as several bodies, in order, cut at a space where one is near."""
    parts = []
    while len(text) > limit:
        cut = text.rfind(" ", limit // 2, limit + 1)
        cut = cut if cut > 0 else limit
        parts.append(text[:cut])
        text = text[cut:].lstrip(" ") if cut < limit else text[cut:]
    return [*parts, text] if text or not parts else parts


def client() -> Client:
    twilio = Client(settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN, http_client=TwilioHttpClient(timeout=15))
    twilio.api.base_url = settings.TWILIO_API_BASE_URL
    return twilio


class TwilioSMS(Connector):
    channel = CHANNEL
    contacts_are_phone_numbers = True

    def send(self, message: OutboundMessage) -> Sent:
        bodies = split_body(message.text)
        media_urls = [
            media.expiring_url(a["contentUrl"])
            for a in message.attachments
            if str(a.get("contentUrl", "")).startswith(("https://", "http://"))
        ]
        sender = (
            {"messaging_service_sid": settings.TWILIO_MESSAGING_SERVICE_SID}
            if settings.TWILIO_MESSAGING_SERVICE_SID
            else {"from_": settings.TWILIO_FROM_NUMBER}
        )
        if settings.CHAT_PUBLIC_URL:
            sender["status_callback"] = settings.CHAT_PUBLIC_URL + STATUS_CALLBACK_PATH
        api = client()
        sids: list[str] = []
        for index, body in enumerate(bodies):
            extra = {"media_url": media_urls} if index == 0 and media_urls else {}
            try:
                sids.append(api.messages.create(to=message.to, body=body, **sender, **extra).sid)
            except TwilioRestException as error:
                raise self._refused(message, error, parts_sent=len(sids)) from None
            except (TwilioException, OSError) as error:  # connection refused, timeouts, TLS
                if sids:  # some parts went: sending again would repeat them
                    raise TransportError(f"Part {index + 1} of {len(bodies)} failed: {error}", permanent=True) from None
                raise TransportError(f"Twilio could not be reached: {type(error).__name__}") from None
        return Sent(provider_message_id=sids[0])

    def _refused(self, message: OutboundMessage, error: TwilioRestException, *, parts_sent: int) -> TransportError:
        from connectors import inbound

        code = str(error.code or error.status)
        if error.code == OPTED_OUT:
            inbound.opt_out(channel=CHANNEL, contact=message.to, reason="Twilio error 21610")
        text = ERROR_TEXT.get(code) or (error.msg or "Twilio refused the message.")
        permanent = parts_sent > 0 or (400 <= error.status < 500 and error.status != 429)
        return TransportError(text[:500], permanent=permanent, code=code)
