"""Mail without an SMTP server: each message is written to a file of its own, `<outbox>/<time>-<id>.eml`,
which any mail program opens. The log says one line per message, never its content."""

import logging
import secrets
from pathlib import Path

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend
from django.utils import timezone

logger = logging.getLogger(__name__)


class OutboxBackend(BaseEmailBackend):
    """The default when EMAIL_HOST is unset (settings.CHAT_OUTBOX_DIR, var/outbox/)."""

    def __init__(self, *, outbox_dir: str | Path | None = None, fail_silently: bool = False, **kwargs):
        super().__init__(fail_silently=fail_silently, **kwargs)
        self.outbox = Path(outbox_dir or settings.CHAT_OUTBOX_DIR)

    def send_messages(self, email_messages) -> int:
        sent = 0
        for message in email_messages:
            if not message.recipients():
                continue
            try:
                path = self._write(message)
            except OSError:
                if not self.fail_silently:
                    raise
                continue
            logger.info("Mail to %s (%r) written to %s", ", ".join(message.recipients()), message.subject, path)
            sent += 1
        return sent

    def _write(self, message) -> Path:
        self.outbox.mkdir(parents=True, exist_ok=True)
        name = f"{timezone.now():%Y%m%d-%H%M%S}-{secrets.token_hex(4)}.eml"
        path = self.outbox / name
        # "x": never overwrite a message already there.
        with path.open("xb") as file:
            file.write(message.message().as_bytes(linesep="\r\n"))
        return path
