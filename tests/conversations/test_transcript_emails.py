"""Mailing transcripts: queued by the request, sent by the worker's job, limited, retried."""

from datetime import timedelta

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.utils import timezone

from chatserver.errors import NoCustomerEmail, TooManyEmails, TranscriptNotAvailable
from conversations import transcript_emails
from conversations.models import TranscriptEmail
from tests.factories import end, send, start_conversation

pytestmark = pytest.mark.django_db


class RefusingMailServer(BaseEmailBackend):
    """A mail server that cannot be reached."""

    def send_messages(self, messages):
        raise ConnectionRefusedError("connection refused")


@pytest.fixture
def ended():
    customer = start_conversation(email="ada@example.com")
    send(customer, "Where is my parcel?")
    return end(customer.conversation, by=customer)


def test_asking_queues_the_email_and_sends_nothing_yet(ended):
    queued = transcript_emails.transcript_email_request(conversation_id=ended.id)
    assert (queued.state, queued.to) == ("queued", "ada@example.com")
    assert mail.outbox == []


def test_the_job_sends_what_is_due_once(ended):
    transcript_emails.transcript_email_request(conversation_id=ended.id)
    assert transcript_emails.send_due() == 1
    assert transcript_emails.send_due() == 0
    [sent] = mail.outbox
    assert sent.to == ["ada@example.com"]
    assert "Where is my parcel?" in sent.body
    assert [name for name, _, _ in sent.attachments][0].endswith(".pdf")
    assert TranscriptEmail.objects.get().state == "sent"


def test_a_conversation_is_mailed_a_few_times_an_hour_at_most(ended, settings):
    settings.CHAT_TRANSCRIPT_EMAILS_PER_HOUR = 3
    for _ in range(3):
        transcript_emails.transcript_email_request(conversation_id=ended.id)
    with pytest.raises(TooManyEmails):
        transcript_emails.transcript_email_request(conversation_id=ended.id)
    assert TranscriptEmail.objects.count() == 3
    # An hour later it may be mailed again.
    TranscriptEmail.objects.update(created_at=timezone.now() - timedelta(hours=1, seconds=1))
    transcript_emails.transcript_email_request(conversation_id=ended.id)
    assert TranscriptEmail.objects.count() == 4


def test_one_address_gets_a_few_transcripts_an_hour_however_many_conversations_name_it(settings):
    settings.CHAT_TRANSCRIPT_EMAILS_PER_ADDRESS_PER_HOUR = 2
    conversations = []
    for _ in range(3):
        customer = start_conversation(email="Victim@example.com")
        conversations.append(end(customer.conversation, by=customer))
    transcript_emails.transcript_email_request(conversation_id=conversations[0].id)
    transcript_emails.transcript_email_request(conversation_id=conversations[1].id)
    with pytest.raises(TooManyEmails):
        transcript_emails.transcript_email_request(conversation_id=conversations[2].id)
    assert TranscriptEmail.objects.count() == 2


def test_only_ended_conversations_with_an_address_are_mailed():
    open_one = start_conversation(email="ada@example.com")
    with pytest.raises(TranscriptNotAvailable):
        transcript_emails.transcript_email_request(conversation_id=open_one.conversation_id)
    no_address = start_conversation(email="")
    end(no_address.conversation, by=no_address)
    with pytest.raises(NoCustomerEmail):
        transcript_emails.transcript_email_request(conversation_id=no_address.conversation_id)
    assert TranscriptEmail.objects.count() == 0


def test_a_mail_server_that_fails_is_tried_again_later_then_given_up_on(ended, settings):
    settings.EMAIL_BACKEND = "tests.conversations.test_transcript_emails.RefusingMailServer"
    queued = transcript_emails.transcript_email_request(conversation_id=ended.id)
    delays = []
    for _ in range(transcript_emails.ATTEMPTS):
        asked_at = timezone.now()
        assert transcript_emails.send_due() == 0
        queued.refresh_from_db()
        if queued.state == "queued":
            delays.append(round((queued.due_at - asked_at).total_seconds()))
            assert transcript_emails.send_due() == 0  # not due yet: nothing is tried
            TranscriptEmail.objects.filter(pk=queued.pk).update(due_at=timezone.now())  # time passes
    assert delays == [30, 60, 120]
    assert (queued.state, queued.attempts) == ("failed", transcript_emails.ATTEMPTS)
    assert "connection refused" in queued.last_error


def test_an_email_held_by_a_worker_that_died_is_sent_by_the_next(ended):
    queued = transcript_emails.transcript_email_request(conversation_id=ended.id)
    TranscriptEmail.objects.filter(pk=queued.pk).update(state="sending", due_at=timezone.now() - timedelta(seconds=1))
    assert transcript_emails.send_due() == 1
    assert len(mail.outbox) == 1
