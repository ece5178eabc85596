"""The pieces of the connectors that need no server: splitting long texts, the URL a webhook
was signed for, the ack of an external connector."""

from django.test import RequestFactory, override_settings

from connectors.base import Sent, TransportError
from connectors.socketio.transport import outcome_of
from connectors.twilio.transport import split_body
from connectors.twilio.webhooks import signed_url


def test_a_long_text_is_split_at_spaces_in_order_and_each_part_fits():
    text = " ".join(f"w{n:03d}" for n in range(700))  # 3,499 characters
    parts = split_body(text)
    assert len(parts) == 3 and all(len(part) <= 1600 for part in parts)
    assert " ".join(parts) == text
    assert split_body("short") == ["short"]
    unbroken = "x" * 3300
    assert split_body(unbroken) == ["x" * 1600, "x" * 1600, "x" * 100]


def test_the_signed_url_is_the_public_one_with_the_query_string():
    request = RequestFactory().post("/connectors/twilio/sms/inbound?a=1&b=2", HTTP_HOST="127.0.0.1:8080")
    with override_settings(CHAT_PUBLIC_URL="https://chat.example.com"):
        assert signed_url(request) == "https://chat.example.com/connectors/twilio/sms/inbound?a=1&b=2"
    with override_settings(CHAT_PUBLIC_URL="", CHAT_TRUST_PROXY_HEADERS=True, ALLOWED_HOSTS=["*"]):
        behind = RequestFactory().post(
            "/connectors/twilio/sms/status",
            HTTP_HOST="10.0.0.5:8080",
            HTTP_X_FORWARDED_PROTO="https",
            HTTP_X_FORWARDED_HOST="chat.example.com",
        )
        assert signed_url(behind) == "https://chat.example.com/connectors/twilio/sms/status"
    with override_settings(CHAT_PUBLIC_URL="", CHAT_TRUST_PROXY_HEADERS=False, ALLOWED_HOSTS=["*"]):
        assert signed_url(request) == "http://127.0.0.1:8080/connectors/twilio/sms/inbound?a=1&b=2"


def test_an_ack_says_sent_or_whether_a_retry_can_help():
    assert outcome_of({"ok": True, "providerMessageId": "wamid.1"}) == Sent("wamid.1")
    permanent = outcome_of({"ok": False, "error": {"code": "BLOCKED", "retryable": False}})
    assert isinstance(permanent, TransportError) and permanent.permanent and permanent.code == "BLOCKED"
    retryable = outcome_of({"ok": False, "error": {"code": "RATE"}})
    assert not retryable.permanent
    garbage = outcome_of("yes")
    assert isinstance(garbage, TransportError) and not garbage.permanent and garbage.code == "BAD_ACK"


def test_twilio_sends_from_a_messaging_service_with_media_urls_and_the_status_callback(fake_twilio):
    from connectors.models import OutboundMessage
    from connectors.twilio.transport import TwilioSMS
    from tests.connectors.conftest import ACCOUNT_SID, AUTH_TOKEN

    attachments = [
        {"contentUrl": "https://cdn.example.test/map.png", "type": "image/png"},
        {"contentUrl": "data:text/plain,hi", "type": "text/plain"},  # not fetchable by Twilio: left out
    ]
    with override_settings(
        TWILIO_ACCOUNT_SID=ACCOUNT_SID,
        TWILIO_AUTH_TOKEN=AUTH_TOKEN,
        TWILIO_FROM_NUMBER="+15005550006",
        TWILIO_MESSAGING_SERVICE_SID="MG" + "1" * 32,
        TWILIO_API_BASE_URL=fake_twilio.url,
        CHAT_PUBLIC_URL="https://chat.example.com",
    ):
        sent = TwilioSMS().send(OutboundMessage(to="+15017122661", text="See the map", attachments=attachments))
    [request] = fake_twilio.sent
    assert sent.provider_message_id == request["sid"]
    assert request["MessagingServiceSid"] == "MG" + "1" * 32 and "From" not in request
    assert request["MediaUrl"] == "https://cdn.example.test/map.png"
    assert request["StatusCallback"] == "https://chat.example.com/connectors/twilio/sms/status"


def test_twilio_refusals_say_whether_a_retry_can_help(fake_twilio):
    from connectors.models import OutboundMessage
    from connectors.twilio.transport import TwilioSMS
    from tests.connectors.conftest import ACCOUNT_SID, AUTH_TOKEN

    fake_twilio.refuse["+15550000001"] = (400, 21211, "Invalid 'To' Phone Number")
    fake_twilio.refuse["+15550000002"] = (429, 20429, "Too Many Requests")
    with override_settings(
        TWILIO_ACCOUNT_SID=ACCOUNT_SID,
        TWILIO_AUTH_TOKEN=AUTH_TOKEN,
        TWILIO_FROM_NUMBER="+15005550006",
        TWILIO_MESSAGING_SERVICE_SID="",
        TWILIO_API_BASE_URL=fake_twilio.url,
    ):
        outcomes = []
        for number in ("+15550000001", "+15550000002"):
            try:
                TwilioSMS().send(OutboundMessage(to=number, text="hi"))
            except TransportError as error:
                outcomes.append((error.code, error.permanent))
        with override_settings(TWILIO_API_BASE_URL="http://127.0.0.1:1"):  # nothing listens there
            try:
                TwilioSMS().send(OutboundMessage(to="+15017122661", text="hi"))
            except TransportError as error:
                outcomes.append(("unreachable", error.permanent))
    assert outcomes == [("21211", True), ("20429", False), ("unreachable", False)]
