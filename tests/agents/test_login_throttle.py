"""Nobody can lock an agent out: failures count per username and address, and past a high
per-username ceiling attempts are slowed, never refused from the agent's usual address."""

import pytest
from django.core.cache import cache

from agents import auth
from agents.services import agent_create
from chatserver.errors import TooManyAttempts, Unauthorized

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"
OFFICE, ATTACKER, HOTEL = "203.0.113.7", "198.51.100.66", "192.0.2.44"


@pytest.fixture(autouse=True)
def alice():
    cache.clear()
    agent = agent_create(username="alice", password=PASSWORD, queues=["default"])
    yield agent
    cache.clear()


def login(address: str, password: str = PASSWORD) -> str:
    token, _ = auth.agent_login(username="alice", password=password, client_ip=address)
    return token


def fail(address: str, times: int) -> list[type[Exception]]:
    outcomes = []
    for _ in range(times):
        try:
            login(address, "wrong")
        except (Unauthorized, TooManyAttempts) as error:
            outcomes.append(type(error))
    return outcomes


def test_wrong_passwords_from_one_address_lock_only_that_address(settings):
    settings.CHAT_LOGIN_MAX_FAILURES = 5
    login(OFFICE)  # the agent's usual address
    assert fail(ATTACKER, 8) == [Unauthorized] * 5 + [TooManyAttempts] * 3
    with pytest.raises(TooManyAttempts):
        login(ATTACKER)  # even the right password, from there
    assert login(OFFICE)
    assert login(HOTEL)  # an address never seen, below the per-username ceiling


def test_past_the_per_username_ceiling_new_addresses_are_slowed_not_locked(settings, monkeypatch):
    settings.CHAT_LOGIN_MAX_FAILURES = 5
    settings.CHAT_LOGIN_MAX_FAILURES_PER_ADDRESS = 1000
    settings.CHAT_LOGIN_SLOW_AFTER = 10
    settings.CHAT_LOGIN_MAX_DELAY = 30
    login(OFFICE)
    clock = [1_000_000.0]
    monkeypatch.setattr(auth.time, "time", lambda: clock[0])
    outcomes = [outcome for n in range(4) for outcome in fail(f"10.0.{n}.1", 3)]  # a botnet
    assert outcomes[:11] == [Unauthorized] * 11  # up to the ceiling, then one attempt per delay
    assert outcomes[11] is TooManyAttempts
    clock[0] += 60

    # From a new address: one attempt, then a wait before the next one (doubling each time).
    with pytest.raises(Unauthorized):
        login("10.9.9.9", "wrong")
    with pytest.raises(TooManyAttempts):
        login(HOTEL)
    clock[0] += 0.9
    with pytest.raises(TooManyAttempts):
        login(HOTEL)
    clock[0] += 0.2
    assert login(HOTEL)  # the right password gets in once its turn comes
    # The usual addresses never wait, while others still do.
    with pytest.raises(TooManyAttempts):
        login("10.9.9.8")
    assert login(OFFICE)


def test_the_delay_is_capped(settings, monkeypatch):
    settings.CHAT_LOGIN_MAX_FAILURES_PER_ADDRESS = 10_000
    settings.CHAT_LOGIN_SLOW_AFTER = 0
    settings.CHAT_LOGIN_MAX_DELAY = 30
    clock = [1_000_000.0]
    monkeypatch.setattr(auth.time, "time", lambda: clock[0])
    for n in range(40):
        fail(f"10.1.{n}.1", 1)
        clock[0] += 31
    with pytest.raises(Unauthorized):
        login("10.2.0.1", "wrong")
    clock[0] += 30.01
    assert login(HOTEL)
