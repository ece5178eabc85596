"""The first run: until an operator (an active superuser) exists, /setup/ creates one in the
browser. It is open only to the machine itself (a loopback client address, not through a
proxy) or to whoever has a set-up token that `manage.py serve` printed at start-up.

Tokens are random, printed once, and kept only as their SHA-256 in var/setup-tokens (one per
serve process that started without an operator, so any process accepts any of them). The file
is deleted when the operator is created: the page and its tokens are gone for good."""

import hashlib
import hmac
import ipaddress
import secrets
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection, transaction
from django.http import HttpRequest

from agents.services import agent_create

# Headers a reverse proxy adds: a request carrying one came from elsewhere, whatever the address.
PROXY_HEADERS = ("HTTP_X_FORWARDED_FOR", "HTTP_X_REAL_IP", "HTTP_FORWARDED")
# Failed attempts (a wrong token, a form with errors) allowed per client address and window.
MAX_FAILURES = 20
FAILURE_WINDOW = 600
# Serialises two set-ups racing on PostgreSQL (SQLite's IMMEDIATE transactions already do).
_ADVISORY_LOCK = 7_413_001


def operator_exists() -> bool:
    return get_user_model().objects.filter(is_superuser=True, is_active=True).exists()


def _token_file() -> Path:
    return Path(settings.VAR_DIR) / "setup-tokens"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def setup_token_issue() -> str:
    """A new set-up token (to print once); its hash is added to the token file."""
    token = secrets.token_urlsafe(24)
    path = _token_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as file:
        file.write(_digest(token) + "\n")
    path.chmod(0o600)
    return token


def setup_token_valid(token: str) -> bool:
    if not token or len(token) > 100:
        return False
    try:
        known = _token_file().read_text().split()
    except OSError:
        return False
    digest = _digest(token)
    return any(hmac.compare_digest(digest, line) for line in known)


def from_this_machine(request: HttpRequest) -> bool:
    """A loopback client address, and no sign of a proxy in between (a proxy on this machine
    would make every visitor look local)."""
    if any(request.META.get(header) for header in PROXY_HEADERS):
        return False
    try:
        return ipaddress.ip_address(request.META.get("REMOTE_ADDR", "")).is_loopback
    except ValueError:
        return False


def _failure_key(request: HttpRequest) -> str:
    return f"first-run-failures:{request.META.get('REMOTE_ADDR', '')}"


def too_many_failures(request: HttpRequest) -> bool:
    return (cache.get(_failure_key(request)) or 0) >= MAX_FAILURES


def failure_count(request: HttpRequest) -> None:
    key = _failure_key(request)
    if not cache.add(key, 1, FAILURE_WINDOW):
        try:
            cache.incr(key)
        except ValueError:  # expired in between
            cache.add(key, 1, FAILURE_WINDOW)


class OperatorExists(Exception):
    pass


@transaction.atomic
def first_operator_create(*, username: str, email: str, password: str, agent_queue: str = "", agent_name: str = ""):
    """The first operator (a superuser); with `agent_queue`, also an agent of that queue (the
    queue is created when missing). Refused once an operator exists."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_ADVISORY_LOCK])
    if operator_exists():
        raise OperatorExists()
    user = get_user_model().objects.create_superuser(username=username, email=email, password=password)
    if agent_queue:
        agent_create(username=username, password=password, queues=[agent_queue], name=agent_name)
        user.refresh_from_db()
    transaction.on_commit(lambda: _token_file().unlink(missing_ok=True))
    return user
