"""Which origins may use the customer API from a browser: the server's own pages, the origins of
CORS_ALLOWED_ORIGINS, and the active widget Sites from admin. One check serves python-socketio's
origin check, django-cors-headers and the refusal of foreign /api/customer/* calls.

The Site origins are kept for FRESH_FOR seconds, and read again from the database when an origin
is not among them: a Site just added works at once, one deactivated stops within FRESH_FOR
seconds. The Socket.IO check runs on the event loop, where the ORM may not be called: there the
read runs on a thread of its own, and at most once per LOOP_RECHECK_AFTER seconds, so that
handshakes from refused origins cannot keep the loop waiting on the database. (A widget always
calls /api/customer/* over HTTP, which rereads from a worker thread, before it opens its socket.)
"""

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.db import connections

FRESH_FOR = 10.0
LOOP_RECHECK_AFTER = 0.5

_lock = threading.Lock()
_known: dict = {"origins": frozenset(), "read_at": float("-inf"), "loop_read_at": float("-inf")}


def _read_site_origins() -> frozenset[str]:
    from widget.models import Site

    return frozenset(Site.objects.filter(is_active=True).values_list("origin", flat=True))


def _read_on_a_thread_of_its_own() -> frozenset[str]:
    try:
        return _read_site_origins()
    finally:
        connections.close_all()


def _on_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def site_origins(wanted: str) -> frozenset[str]:
    now = time.monotonic()
    with _lock:
        known, read_at, loop_read_at = _known["origins"], _known["read_at"], _known["loop_read_at"]
    stale = now - read_at > FRESH_FOR
    if wanted in known and not stale:
        return known
    if _on_event_loop():
        if not stale and now - loop_read_at < LOOP_RECHECK_AFTER:
            return known
        with _lock:
            _known["loop_read_at"] = now
        with ThreadPoolExecutor(max_workers=1) as pool:
            origins = pool.submit(_read_on_a_thread_of_its_own).result(timeout=10)
    else:
        origins = _read_site_origins()
    with _lock:
        _known["origins"], _known["read_at"] = origins, time.monotonic()
    return origins


def forget_site_origins() -> None:
    """After a Site changed in this process: read them again on the next check."""
    with _lock:
        _known["read_at"] = _known["loop_read_at"] = float("-inf")


def normalise(origin: str) -> str:
    return origin.strip().rstrip("/").lower()


def is_allowed(origin: str | None, *, own_origin: str) -> bool:
    """Whether a browser page at `origin` may call the customer API of the server at `own_origin`.
    No Origin header (not a browser, or a same-origin GET) is not refused here."""
    if not origin:
        return True
    origin = normalise(origin)
    configured = [normalise(o) for o in settings.CHAT_CORS_ALLOWED_ORIGINS]
    if origin == normalise(own_origin) or "*" in configured or origin in configured:
        return True
    return origin in site_origins(origin)


def socketio_origin_check(origin: str | None, environ: dict) -> bool:
    """python-socketio's cors_allowed_origins callable."""
    scheme = environ.get("wsgi.url_scheme", "http")
    if settings.SECURE_PROXY_SSL_HEADER and environ.get("HTTP_X_FORWARDED_PROTO"):
        scheme = environ["HTTP_X_FORWARDED_PROTO"].split(",")[0].strip()
    return is_allowed(origin, own_origin=f"{scheme}://{environ.get('HTTP_HOST', '')}")


def request_origin_allowed(request) -> bool:
    return is_allowed(request.headers.get("Origin"), own_origin=f"{request.scheme}://{request.get_host()}")
