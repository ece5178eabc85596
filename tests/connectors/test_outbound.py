"""Outbound messages, called directly: which replies go out, retries and backoff, statuses that
never go back, and expiring media URLs."""

import time
from datetime import timedelta
from unittest import mock

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from connectors import media, outbound, registry
from connectors.base import Connector, Sent, TransportError
from connectors.models import OutboundMessage
from connectors.services import connector_create
from tests.factories import add_agent, send, start_conversation

pytestmark = pytest.mark.django_db(transaction=True)


class Recording(Connector):
    """A built-in connector for these tests: it records, and fails as told."""

    channel = "testchan"
    sent: list[str] = []
    failures: list[TransportError] = []

    def send(self, message):
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append(message.text)
        return Sent(f"p-{len(self.sent)}")


@pytest.fixture
def recording():
    Recording.sent, Recording.failures = [], []
    registry.register_built_in("testchan", Recording)
    yield Recording
    registry._built_in.pop("testchan", None)


def test_only_replies_that_reach_a_connector_customer_go_out(recording):
    connector_create(connector_id="whatsapp", name="WhatsApp")
    customer = start_conversation(channel="whatsapp", phone="+4915112345678")
    agent = add_agent(customer.conversation)
    reply = send(agent, "Hello from us")
    send(agent, "just us", tag="whisper")
    send(agent, "to myself", to=[{"id": agent.id}])
    send(customer, "a customer's own message")
    [queued] = OutboundMessage.objects.all()
    assert (queued.channel, queued.to, queued.text, queued.message_id) == (
        "whatsapp",
        "+4915112345678",
        "Hello from us",
        reply.id,
    )
    assert queued.status == "queued"

    web = start_conversation(channel="web")
    with CaptureQueriesContext(connection) as queries:
        send(add_agent(web.conversation), "web reply")
    assert OutboundMessage.objects.count() == 1
    assert sum("connectors_connector" in q["sql"] for q in queries) == 1  # one query says "no connector"


def test_a_retryable_failure_backs_off_and_a_permanent_one_is_final(recording):
    customer = start_conversation(channel="testchan", phone="+15017122661")
    agent = add_agent(customer.conversation)
    recording.failures = [TransportError("busy"), TransportError("bad number", permanent=True, code="21211")]
    send(agent, "first")
    with override_settings(CHAT_CONNECTOR_RETRY_BASE=30):
        outbound.run_pending()
    message = OutboundMessage.objects.get()
    assert (message.status, message.attempts) == ("queued", 1)
    assert message.next_attempt_at > timezone.now() + timedelta(seconds=25)
    assert outbound.run_pending() == 0  # not due yet
    OutboundMessage.objects.update(next_attempt_at=timezone.now())
    outbound.run_pending()
    message.refresh_from_db()
    assert (message.status, message.error_code, message.error_text, message.attempts) == (
        "failed",
        "21211",
        "bad number",
        2,
    )
    assert [entry["status"] for entry in message.history] == ["queued", "retrying", "failed"]
    assert recording.sent == []


def test_out_of_attempts_is_failed(recording):
    customer = start_conversation(channel="testchan", phone="+15017122661")
    recording.failures = [TransportError("busy")] * 3
    send(add_agent(customer.conversation), "hello")
    with override_settings(CHAT_CONNECTOR_MAX_ATTEMPTS=3):
        for _ in range(3):
            OutboundMessage.objects.update(next_attempt_at=timezone.now())
            outbound.run_pending()
    message = OutboundMessage.objects.get()
    assert (message.status, message.attempts) == ("failed", 3)


def test_statuses_never_go_back_and_a_failure_is_noted_for_agents(recording):
    customer = start_conversation(channel="testchan", phone="+15017122661")
    send(add_agent(customer.conversation), "hello")
    outbound.run_pending()
    message = OutboundMessage.objects.get()
    assert (message.status, message.provider_message_id) == ("sent", "p-1")
    outbound.status_reported(channel="testchan", provider_message_id="p-1", status="delivered")
    outbound.status_reported(channel="testchan", provider_message_id="p-1", status="sent")
    message.refresh_from_db()
    assert message.status == "delivered"
    outbound.status_reported(channel="testchan", provider_message_id="p-1", status="read")
    outbound.status_reported(channel="other", provider_message_id="p-1", status="failed")  # not its channel
    message.refresh_from_db()
    assert message.status == "read"
    assert not customer.conversation.messages.filter(activity_type="deliveryFailed").exists()


def test_a_media_url_handed_to_a_provider_expires():
    name = media.store(b"\x89PNG", content_type="image/png", channel="sms")
    stored_url = media.url_for("https://chat.example.test", name, "image/png")
    handed_out = media.expiring_url(stored_url)
    assert handed_out != stored_url and handed_out.startswith("https://chat.example.test/connectors/media/")
    token = handed_out.rsplit("/", 1)[1]
    assert media._load(token)["n"] == name
    later = time.time() + 24 * 3600 + 60
    with mock.patch("time.time", return_value=later):
        assert media._load(token) is None  # expired
        assert media._load(stored_url.rsplit("/", 1)[1])["n"] == name  # a stored attachment's does not
    assert media.expiring_url("https://elsewhere.example/a.png") == "https://elsewhere.example/a.png"
