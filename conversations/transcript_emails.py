"""Mailing transcripts: asked for over REST, sent in the background.

The request stores a TranscriptEmail and wakes the worker; the worker renders and sends it, so
a slow or broken mail server holds up no request and nobody's messages. A conversation's
transcript is mailed at most CHAT_TRANSCRIPT_EMAILS_PER_HOUR times an hour, and one address
gets at most CHAT_TRANSCRIPT_EMAILS_PER_ADDRESS_PER_HOUR transcripts an hour: the endpoint
needs no login, so it must not be a way to send mail to anyone, often.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from chatserver import dispatch
from chatserver.errors import NoCustomerEmail, TooManyEmails
from conversations import selectors, transcripts
from conversations.models import Conversation, TranscriptEmail

logger = logging.getLogger(__name__)

JOB = "transcript-email"
ATTEMPTS = 4
FIRST_RETRY_AFTER = timedelta(seconds=30)
# A worker that died while sending gives its email back after this long.
HELD_FOR = timedelta(minutes=5)
BATCH = 20


@transaction.atomic
def transcript_email_request(*, conversation_id: str) -> TranscriptEmail:
    """Queue the transcript of an ended conversation for its customer's address."""
    conversation = selectors.ended_conversation(conversation_id)
    # Serialise requests for one conversation, so that parallel ones cannot pass the limit together.
    conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
    if not conversation.customer_email:
        raise NoCustomerEmail()
    hour_ago = timezone.now() - timedelta(hours=1)
    lately = TranscriptEmail.objects.filter(created_at__gte=hour_ago)
    if lately.filter(conversation=conversation).count() >= settings.CHAT_TRANSCRIPT_EMAILS_PER_HOUR:
        raise TooManyEmails()
    to = conversation.customer_email
    if lately.filter(to__iexact=to).count() >= settings.CHAT_TRANSCRIPT_EMAILS_PER_ADDRESS_PER_HOUR:
        raise TooManyEmails("This address was sent transcripts often enough lately; try again later.")
    email = TranscriptEmail.objects.create(conversation=conversation, to=to, due_at=timezone.now())
    dispatch.wake(JOB)
    return email


def send_due() -> int:
    """The worker's job: send the queued emails that are due; how many were sent."""
    now = timezone.now()
    TranscriptEmail.objects.filter(state=TranscriptEmail.State.SENDING, due_at__lte=now).update(
        state=TranscriptEmail.State.QUEUED
    )
    due = TranscriptEmail.objects.filter(state=TranscriptEmail.State.QUEUED, due_at__lte=now)
    sent = 0
    for email_id in list(due.order_by("due_at").values_list("pk", flat=True)[:BATCH]):
        sent += _send_one(email_id)
    return sent


def _take(email_id: int) -> bool:
    """Hold the email for this worker; False when another worker took it first."""
    held_until = timezone.now() + HELD_FOR
    return bool(
        TranscriptEmail.objects.filter(pk=email_id, state=TranscriptEmail.State.QUEUED).update(
            state=TranscriptEmail.State.SENDING, due_at=held_until
        )
    )


def _send_one(email_id: int) -> int:
    if not _take(email_id):
        return 0
    email = TranscriptEmail.objects.select_related("conversation").filter(pk=email_id).first()
    if email is None:  # deleted with its conversation meanwhile
        return 0
    try:
        message = transcripts.transcript_email(email.conversation)
        message.to = [email.to]
        message.send()
    except (OSError, NoCustomerEmail) as error:  # smtplib's errors and refused connections alike
        _failed(email, error)
        return 0
    _record(email, state=TranscriptEmail.State.SENT, sent_at=timezone.now(), attempts=email.attempts + 1)
    return 1


def _record(email: TranscriptEmail, **outcome) -> None:
    # An update, not a save: the conversation (and its emails) may have been deleted meanwhile.
    TranscriptEmail.objects.filter(pk=email.pk).update(**outcome)


def _failed(email: TranscriptEmail, error: Exception) -> None:
    attempts, last_error = email.attempts + 1, f"{type(error).__name__}: {error}"[:500]
    if attempts >= ATTEMPTS:
        logger.warning("transcript email %s failed %d times; giving up: %s", email.pk, attempts, last_error)
        _record(email, state=TranscriptEmail.State.FAILED, attempts=attempts, last_error=last_error)
        return
    due_at = timezone.now() + FIRST_RETRY_AFTER * 2 ** (attempts - 1)
    logger.info("transcript email %s not sent (%s); trying again at %s", email.pk, last_error, due_at)
    _record(email, state=TranscriptEmail.State.QUEUED, attempts=attempts, last_error=last_error, due_at=due_at)
