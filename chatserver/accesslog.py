"""Secrets stay out of logs: the access log and the application log never carry an Engine.IO
sid (a long-polling session's bearer credential), a query-string value other than the
harmless Engine.IO ones, or the conversation id of a transcript URL (which is all it takes to
fetch that transcript).

Tokens and join keys travel in bodies and Socket.IO packets, never in URLs, and nothing logs
those; a client that puts one in a query string anyway has it redacted here with the rest.
"""

import logging
import re
from urllib.parse import parse_qsl

from daphne.access import AccessLogGenerator

KEPT_QUERY_VALUES = {"EIO", "transport", "t", "j"}
REDACTED = "[redacted]"
# /api/customer/transcript/<conversation id>/<kind>, and the admin's transcript links.
_CONVERSATION_IN_PATH = re.compile(r"(/transcript/|/conversation/)([^/?\s\"]+)")
_SID_IN_TEXT = re.compile(r"(\bsid[=:]\s*)[A-Za-z0-9_\-]{8,}")


def redact_path(path: str) -> str:
    """A request path as it may be logged."""
    path, _, query = path.partition("?")
    path = _CONVERSATION_IN_PATH.sub(lambda m: m.group(1) + REDACTED, path)
    if not query:
        return path
    pairs = parse_qsl(query, keep_blank_values=True)
    kept = "&".join(f"{key}={value if key in KEPT_QUERY_VALUES else REDACTED}" for key, value in pairs)
    return f"{path}?{kept}"


def redact_text(text: str) -> str:
    """Any other log line: paths as above, and anything that looks like a named session id."""
    text = re.sub(r"/[^\s\"']*", lambda m: redact_path(m.group(0)), text)
    return _SID_IN_TEXT.sub(lambda m: m.group(1) + REDACTED, text)


class RedactingAccessLog(AccessLogGenerator):
    """daphne's access log (NCSA style), with request paths redacted."""

    def write_entry(self, host, date, request, status=None, length=None, ident=None, user=None):
        method, _, path = request.partition(" ")
        super().write_entry(host, date, f"{method} {redact_path(path)}", status, length, ident, user)


class RedactSecrets(logging.Filter):
    """A logging filter (settings.LOGGING): the record's message, redacted, with no arguments left."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a record that cannot be formatted is logged as it is
            return True
        redacted = redact_text(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True
