"""create_agent run by a script, a CI job or a container without a terminal."""

import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT


@pytest.fixture
def env(tmp_path):
    return {**os.environ, "CHAT_VAR_DIR": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}


def manage(*args: str, env: dict, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        input=stdin,
        stdin=subprocess.DEVNULL if stdin is None else None,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_without_a_terminal_create_agent_says_what_to_do_in_one_line_and_creates_nothing(env):
    assert manage("migrate", "-v0", env=env).returncode == 0

    result = manage("create_agent", "alice", "--queue", "default", env=env)

    assert result.returncode == 1
    assert result.stderr.strip() == (
        "CommandError: No terminal to ask for the password: pipe it in with --password-stdin."
    )
    assert "Traceback" not in result.stderr
    count = "from django.contrib.auth.models import User; print(User.objects.count())"
    users = manage("shell", "--no-imports", "-c", count, env=env)
    assert users.stdout.strip() == "0"


def test_with_password_stdin_a_piped_password_is_taken(env):
    assert manage("migrate", "-v0", env=env).returncode == 0

    result = manage("create_agent", "alice", "--password-stdin", env=env, stdin="a long enough passphrase\n")

    assert result.returncode == 0, result.stderr
    assert "Agent 'alice' ready" in result.stdout
