"""create_agent, as an operator runs it from the shell."""

import io

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command

from agents.models import AgentProfile

pytestmark = pytest.mark.django_db


def test_create_agent_makes_a_user_who_can_log_in_with_its_queues_and_capacity(monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("a long enough passphrase\n"))
    out = io.StringIO()
    call_command(
        "create_agent",
        "alice",
        "--queue",
        "billing",
        "--queue",
        "sales",
        "--max-chats",
        "5",
        "--password-stdin",
        stdout=out,
    )
    agent = AgentProfile.objects.get(user__username="alice")
    assert sorted(q.name for q in agent.queues.all()) == ["billing", "sales"]
    assert agent.max_chats == 5
    assert authenticate(username="alice", password="a long enough passphrase") == agent.user
    assert "alice" in out.getvalue() and "a long enough passphrase" not in out.getvalue()


def test_create_agent_refuses_a_weak_password_and_creates_nothing(monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("password\n"))
    with pytest.raises(CommandError, match="too common"):
        call_command("create_agent", "bob", "--queue", "billing", "--password-stdin", stdout=io.StringIO())
    assert not AgentProfile.objects.exists()


def test_create_agent_refuses_zero_chats(monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("a long enough passphrase\n"))
    with pytest.raises(CommandError):
        call_command("create_agent", "carol", "--max-chats", "0", "--password-stdin", stdout=io.StringIO())
