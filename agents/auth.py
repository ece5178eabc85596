"""How agents prove who they are: a login that issues an expiring bearer token (stored as its
SHA-256 only), or the Django session of the agent desk. Failed logins are throttled per
username and address pair, more loosely per address (a contact centre's agents often share
one), and slowed past a high ceiling per username, through Django's cache (Redis when
REDIS_URL is set): nobody can lock an agent out (see login_attempt)."""

import contextlib
import secrets
import time
from datetime import timedelta
from importlib import import_module

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, authenticate, load_backend
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.db.models import Q
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from agents.models import AgentConnection, AgentProfile, AgentToken
from chatserver.errors import TooManyAttempts, Unauthorized
from chatserver.ids import digest


def _user(username: str) -> str:
    return digest(username.lower())


def _count(key: str, timeout: int) -> int:
    cache.add(key, 0, timeout=timeout)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=timeout)
        return 1


def _is_usual_address(username: str, client_ip: str) -> bool:
    return cache.get(f"login-usual:{_user(username)}:{digest(client_ip)}") is not None


def _slow_down(username: str) -> None:
    """Past the per-username ceiling, from an address the agent has not logged in from, one
    attempt per delay, the delay doubling with each failure up to CHAT_LOGIN_MAX_DELAY: the
    username is slowed for everyone else, never locked for the agent."""
    user = _user(username)
    failures = cache.get(f"login-failures:user:{user}", 0)
    over = failures - settings.CHAT_LOGIN_SLOW_AFTER
    if over < 0:
        return
    now = time.time()
    if now < cache.get(f"login-next:{user}", 0):
        raise TooManyAttempts("Too many failed logins for this username; try again in a few seconds.")
    delay = min(settings.CHAT_LOGIN_MAX_DELAY, 0.5 * 2 ** min(over, 16))
    cache.set(f"login-next:{user}", now + delay, timeout=settings.CHAT_LOGIN_WINDOW)


def login_attempt(*, username: str, client_ip: str) -> None:
    """Count a login attempt as failed *before* the password is checked, so that parallel
    guesses cannot all slip in while the slow hash runs; refuse once there were too many
    (the API login, the desk and the admin count together). login_succeeded takes it back.

    Failures lock only the username *from that address* (CHAT_LOGIN_MAX_FAILURES); the address
    as a whole has a looser limit (CHAT_LOGIN_MAX_FAILURES_PER_ADDRESS: agents often share
    one); the username from everywhere has a much higher ceiling past which attempts are
    slowed, not refused, and never from an address the agent logged in from before."""
    window, user = settings.CHAT_LOGIN_WINDOW, _user(username)
    usual = _is_usual_address(username, client_ip)
    if not usual:
        _slow_down(username)
    by_pair = _count(f"login-failures:pair:{user}:{digest(client_ip)}", window)
    by_address = _count(f"login-failures:ip:{digest(client_ip)}", window)
    _count(f"login-failures:user:{user}", window)
    if by_pair > settings.CHAT_LOGIN_MAX_FAILURES or (
        by_address > settings.CHAT_LOGIN_MAX_FAILURES_PER_ADDRESS and not usual
    ):
        raise TooManyAttempts()


def login_succeeded(*, username: str, client_ip: str) -> None:
    user = _user(username)
    cache.delete_many([f"login-failures:pair:{user}:{digest(client_ip)}"])
    for key in (f"login-failures:user:{user}", f"login-failures:ip:{digest(client_ip)}"):
        with contextlib.suppress(ValueError):
            cache.decr(key)
    cache.set(f"login-usual:{user}:{digest(client_ip)}", 1, timeout=settings.CHAT_LOGIN_USUAL_ADDRESS_DAYS * 86400)


def agent_login(*, username: str, password: str, client_ip: str) -> tuple[str, AgentToken]:
    """Check the password and issue a token; refuse after too many failures."""
    login_attempt(username=username, client_ip=client_ip)
    user = authenticate(username=username, password=password)
    agent = AgentProfile.objects.filter(user=user).select_related("user").first() if user else None
    if agent is None:
        raise Unauthorized("Wrong username or password, or not an agent.")
    login_succeeded(username=username, client_ip=client_ip)
    token = secrets.token_urlsafe(32)
    issued = AgentToken.objects.create(
        key_hash=digest(token),
        agent=agent,
        expires_at=timezone.now() + timedelta(seconds=settings.CHAT_AGENT_TOKEN_TTL),
    )
    return token, issued


def agent_for_token(token: str) -> AgentProfile:
    return token_in_force(token).agent


def token_in_force(token: str) -> AgentToken:
    """The token, if it is known, not expired, not revoked, and its agent's user is active."""
    issued = (
        AgentToken.objects.select_related("agent__user")
        .filter(key_hash=digest(token or ""), revoked_at__isnull=True, expires_at__gt=timezone.now())
        .first()
    )
    if issued is None or not issued.agent.user.is_active:
        raise Unauthorized("The token is unknown, expired or revoked.")
    return issued


def token_revoke(token: str) -> None:
    AgentToken.objects.filter(key_hash=digest(token or ""), revoked_at__isnull=True).update(revoked_at=timezone.now())


def tokens_revoke(*, token_ids: list[int]) -> int:
    """Revoke tokens by id (an operator's action); returns how many were not revoked yet.
    Sockets connected with them are closed by the next sweep (withdrawn_connections)."""
    return AgentToken.objects.filter(pk__in=token_ids, revoked_at__isnull=True).update(revoked_at=timezone.now())


def agent_for_session(session_key: str) -> AgentProfile:
    """The agent logged in to the desk with this Django session cookie."""
    session = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    user_id, backend_path = session.get(SESSION_KEY), session.get(BACKEND_SESSION_KEY)
    if not user_id or backend_path not in settings.AUTHENTICATION_BACKENDS:
        raise Unauthorized("Not logged in.")
    user = load_backend(backend_path).get_user(user_id)
    if user is None or not user.is_active:
        raise Unauthorized("Not logged in.")
    if not constant_time_compare(session.get(HASH_SESSION_KEY, ""), user.get_session_auth_hash()):
        raise Unauthorized("The session is no longer valid.")
    agent = AgentProfile.objects.filter(user=user).select_related("user").first()
    if agent is None:
        raise Unauthorized("This user is not an agent.")
    return agent


def withdrawn_connections(*, server_id: str) -> list[str]:
    """The sids of this process's agent sockets whose credential no longer holds: the token
    was revoked or expired, the desk session ended (logout), or the user was deactivated."""
    now = timezone.now()
    connections = AgentConnection.objects.filter(server_id=server_id)
    withdrawn = Q(token__revoked_at__isnull=False) | Q(token__expires_at__lte=now) | Q(agent__user__is_active=False)
    if settings.SESSION_ENGINE == "django.contrib.sessions.backends.db":
        live_sessions = Session.objects.filter(expire_date__gt=now).values("session_key")
        withdrawn |= ~Q(session_key="") & ~Q(session_key__in=live_sessions)
    return list(connections.filter(withdrawn).values_list("sid", flat=True))
