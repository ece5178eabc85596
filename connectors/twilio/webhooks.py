"""Twilio's webhooks: incoming SMS/MMS and status callbacks. Each request is verified with the
twilio library's RequestValidator against the URL Twilio signed (see signed_url); a request
that fails gets 403 and changes nothing, and the log says why (never the token)."""

import logging
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from connectors import inbound, media, outbound
from connectors.models import InboundReceipt
from connectors.twilio.transport import CHANNEL, ERROR_TEXT, OPTED_OUT, configured

logger = logging.getLogger(__name__)

# Twilio's MessageStatus values: those that are not ours (accepted, queued, sending, ...) are kept
# in the message's history only; canceled is failed, partially_delivered counts as delivered.
STATUS_OF = {
    "sent": "sent",
    "delivered": "delivered",
    "undelivered": "undelivered",
    "failed": "failed",
    "read": "read",
    "canceled": "failed",
    "partially_delivered": "delivered",
}


def signed_url(request: HttpRequest) -> str:
    """The URL Twilio requested, as it saw it: CHAT_PUBLIC_URL with this path and query when set
    (behind a TLS proxy), else from X-Forwarded-Proto/Host when TRUST_PROXY_HEADERS is on, else
    the request's own."""
    path = request.get_full_path()
    if settings.CHAT_PUBLIC_URL:
        public = urlsplit(settings.CHAT_PUBLIC_URL)
        return f"{public.scheme}://{public.netloc}{public.path.rstrip('/')}{path}"
    if settings.CHAT_TRUST_PROXY_HEADERS:
        scheme = request.headers.get("X-Forwarded-Proto", request.scheme).split(",")[0].strip()
        host = request.headers.get("X-Forwarded-Host", request.get_host()).split(",")[0].strip()
        return f"{scheme}://{host}{path}"
    return request.build_absolute_uri()


def verified(request: HttpRequest) -> bool:
    signature = request.headers.get("X-Twilio-Signature", "")
    url = signed_url(request)
    if not signature:
        logger.warning("twilio webhook %s refused: no X-Twilio-Signature header", url)
        return False
    if not RequestValidator(settings.TWILIO_AUTH_TOKEN).validate(url, request.POST, signature):
        logger.warning(
            "twilio webhook refused: the signature does not match %s and its parameters "
            "(check CHAT_PUBLIC_URL and the URL in the Twilio console)",
            url,
        )
        return False
    return True


def twiml(reply: str = "") -> HttpResponse:
    response = MessagingResponse()
    if reply:
        response.message(reply)
    return HttpResponse(str(response), content_type="text/xml")


def refused(status: int, why: str) -> HttpResponse:
    return HttpResponse(why, status=status, content_type="text/plain")


@csrf_exempt
@require_POST
def sms_inbound(request: HttpRequest) -> HttpResponse:
    """An SMS or MMS to our number (the Twilio console's "A message comes in" webhook)."""
    if not configured():
        return refused(404, "Twilio is not configured on this server.")
    if not verified(request):
        return refused(403, "Bad or missing Twilio signature.")
    sid = request.POST.get("MessageSid") or request.POST.get("SmsSid") or ""
    contact = request.POST.get("From", "")
    if not sid or not contact:
        return refused(400, "MessageSid and From are required.")
    if InboundReceipt.objects.filter(channel=CHANNEL, provider_message_id=sid).exists():
        return twiml()  # Twilio retried: stored already
    body = request.POST.get("Body", "")
    word = body.strip().upper()
    if word in inbound.STOP_WORDS | inbound.START_WORDS | inbound.HELP_WORDS:
        return keyword(sid, contact, word)
    attachments, refused_media = fetch_media(request)
    try:
        with transaction.atomic():
            receipt = InboundReceipt.objects.create(channel=CHANNEL, provider_message_id=sid)
            came = inbound.message_in(
                channel=CHANNEL,
                contact=contact,
                text=body or ("" if attachments else "(empty message)"),
                attachments=attachments,
                provider_message_id=sid,
                info={"mediaRefused": refused_media} if refused_media else None,
            )
            receipt.conversation = came.conversation
            receipt.save(update_fields=["conversation"])
    except IntegrityError:
        if InboundReceipt.objects.filter(channel=CHANNEL, provider_message_id=sid).exists():
            return twiml()  # the same MessageSid arrived twice at once; the other one stored it
        raise
    return twiml()


def keyword(sid: str, contact: str, word: str) -> HttpResponse:
    """STOP and its synonyms opt out, START/UNSTOP/YES opt in again, HELP is answered."""
    try:
        with transaction.atomic():
            InboundReceipt.objects.create(channel=CHANNEL, provider_message_id=sid)
            if word in inbound.STOP_WORDS:
                inbound.opt_out(channel=CHANNEL, contact=contact, reason=word)
            elif word in inbound.START_WORDS:
                inbound.opt_in(channel=CHANNEL, contact=contact)
    except IntegrityError:
        return twiml()
    return twiml(settings.TWILIO_HELP_TEXT if word in inbound.HELP_WORDS else "")


def fetch_media(request: HttpRequest) -> tuple[list[dict], list[dict]]:
    """Every media item of an MMS, fetched with the account's credentials (only from Twilio's
    API host: the credentials go nowhere else), each at most TWILIO_MAX_MEDIA_BYTES."""
    try:
        count = min(int(request.POST.get("NumMedia", "0") or 0), 10)
    except ValueError:
        count = 0
    base = settings.CHAT_PUBLIC_URL or request.build_absolute_uri("/")
    kept, refused_media = [], []
    for index in range(count):
        url = request.POST.get(f"MediaUrl{index}", "")
        content_type = request.POST.get(f"MediaContentType{index}", "application/octet-stream")[:100]
        try:
            data = download(url)
        except MediaRefused as why:
            logger.warning("MMS %s: media %d not kept: %s", request.POST.get("MessageSid"), index, why)
            refused_media.append({"index": index, "reason": str(why)})
            continue
        name = media.store(data, content_type=content_type, channel=CHANNEL)
        kept.append(
            {"type": content_type, "name": f"media-{index + 1}", "contentUrl": media.url_for(base, name, content_type)}
        )
    return kept, refused_media


class MediaRefused(Exception):
    pass


def download(url: str) -> bytes:
    api = urlsplit(settings.TWILIO_API_BASE_URL)
    parts = urlsplit(url)
    if (parts.scheme, parts.netloc) != (api.scheme, api.netloc):
        raise MediaRefused("not on Twilio's API host")
    limit = settings.TWILIO_MAX_MEDIA_BYTES
    try:
        with requests.get(
            url, auth=(settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN), stream=True, timeout=15
        ) as response:
            if response.status_code != 200:
                raise MediaRefused(f"HTTP {response.status_code}")
            data = bytearray()
            for chunk in response.iter_content(64 * 1024):
                data.extend(chunk)
                if len(data) > limit:
                    raise MediaRefused(f"larger than {limit} bytes")
    except requests.RequestException as error:
        raise MediaRefused(type(error).__name__) from None
    return bytes(data)


@csrf_exempt
@require_POST
def sms_status(request: HttpRequest) -> HttpResponse:
    """Twilio's status callback for a message we sent."""
    if not configured():
        return refused(404, "Twilio is not configured on this server.")
    if not verified(request):
        return refused(403, "Bad or missing Twilio signature.")
    sid = request.POST.get("MessageSid") or request.POST.get("SmsSid") or ""
    twilio_status = request.POST.get("MessageStatus") or request.POST.get("SmsStatus") or ""
    code = request.POST.get("ErrorCode", "")
    status = STATUS_OF.get(twilio_status, twilio_status)
    text = ERROR_TEXT.get(code, request.POST.get("ErrorMessage", "") or (f"Twilio error {code}" if code else ""))
    if twilio_status == "canceled" and not code:
        code, text = "canceled", "Canceled before it was sent."
    found = outbound.status_reported(
        channel=CHANNEL, provider_message_id=sid, status=status, error_code=code, error_text=text
    )
    if found is None:
        logger.info("twilio status %s for unknown MessageSid %s", twilio_status, sid)
    elif code == str(OPTED_OUT):
        inbound.opt_out(channel=CHANNEL, contact=found.to, reason="Twilio error 21610")
    return HttpResponse(status=204)
