"""Mail without SMTP: one .eml file per message in var/outbox/, and one log line each."""

import email
import logging
import os
import subprocess
import sys

from django.core import mail
from django.core.mail import EmailMultiAlternatives, get_connection

from chatserver.mail import OutboxBackend
from tests.conftest import ROOT


def test_each_message_is_one_eml_file_that_a_mail_program_reads_back(tmp_path, caplog):
    backend = OutboxBackend(outbox_dir=tmp_path / "outbox")
    first = EmailMultiAlternatives("Your transcript", "Hello Ada", "chat@localhost", ["ada@example.com"])
    first.attach_alternative("<p>Hello Ada</p>", "text/html")
    first.attach("transcript.pdf", b"%PDF-1.7 not really", "application/pdf")
    second = mail.EmailMessage("Another", "Hi", "chat@localhost", ["grace@example.com"])

    with caplog.at_level(logging.INFO, logger="chatserver.mail"):
        assert backend.send_messages([first, second]) == 2

    files = sorted((tmp_path / "outbox").glob("*.eml"))
    assert len(files) == 2
    parsed = [email.message_from_bytes(path.read_bytes()) for path in files]
    by_subject = {message["Subject"]: message for message in parsed}
    assert by_subject["Your transcript"]["To"] == "ada@example.com"
    attachment = next(part for part in by_subject["Your transcript"].walk() if part.get_filename())
    assert attachment.get_filename() == "transcript.pdf"
    assert attachment.get_payload(decode=True) == b"%PDF-1.7 not really"
    lines = [record.getMessage() for record in caplog.records]
    assert len(lines) == 2
    assert any("ada@example.com" in line and str(tmp_path / "outbox") in line for line in lines)
    assert not any("Hello Ada" in line or "JVBER" in line for line in lines)  # no content, no base64


def test_a_message_without_recipients_writes_nothing(tmp_path):
    backend = OutboxBackend(outbox_dir=tmp_path)
    assert backend.send_messages([mail.EmailMessage("x", "y", "chat@localhost", [])]) == 0
    assert list(tmp_path.iterdir()) == []


def test_it_is_the_default_when_email_host_is_unset_and_smtp_when_it_is_set(tmp_path):
    code = "from django.conf import settings; print(settings.EMAIL_BACKEND, settings.CHAT_OUTBOX_DIR)"
    env = {k: v for k, v in os.environ.items() if k not in ("EMAIL_HOST", "EMAIL_BACKEND")}
    env.update(CHAT_VAR_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="chatserver.settings")
    run = [sys.executable, "-c", f"import django; django.setup(); {code}"]

    unset = subprocess.run(run, cwd=ROOT, env=env, capture_output=True, text=True, check=True).stdout.split()
    with_smtp = subprocess.run(
        run, cwd=ROOT, env={**env, "EMAIL_HOST": "smtp.example.com"}, capture_output=True, text=True, check=True
    ).stdout.split()

    assert unset == ["chatserver.mail.OutboxBackend", str(tmp_path / "outbox")]
    assert with_smtp[0] == "django.core.mail.backends.smtp.EmailBackend"
    assert get_connection("chatserver.mail.OutboxBackend").outbox  # Django can build it by name
