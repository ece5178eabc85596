"""Shared fixtures: a real server process against the test database, and the people in the story."""

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message as MessageHandler
from django.conf import settings
from django.core.management.base import CommandError
from django.core.management.commands import flush
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url_of(db: dict) -> str:
    """The URL a server process needs to open the database the tests use."""
    if db["ENGINE"] in ("chatserver.sqlite", "django.db.backends.sqlite3"):
        return f"sqlite:///{db['NAME']}"
    user = db.get("USER") or "postgres"
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{user}@{host}:{port}/{db['NAME']}"


class Outbox:
    """Mails the server handed to SMTP: a real local SMTP server (aiosmtpd)."""

    def __init__(self):
        self.messages = []
        self.arrived = threading.Condition()

    def handle_message(self, message):
        with self.arrived:
            self.messages.append(message)
            self.arrived.notify_all()

    def mail_to(self, address: str, *, after: int, timeout: float = 20):
        """The first mail to `address` among those after the first `after` (the server sends
        them in the background); waits for it. Blocking: from async tests, asyncio.to_thread."""
        with self.arrived:
            self.arrived.wait_for(lambda: self._to(address, after), timeout)
            found = self._to(address, after)
        assert found, f"no mail to {address} arrived"
        return found[0]

    def _to(self, address: str, after: int) -> list:
        return [m for m in self.messages[after:] if m["To"] == address]


@pytest.fixture(scope="session")
def outbox() -> Iterator[Outbox]:
    box = Outbox()

    class Handler(MessageHandler):
        def handle_message(self, message):
            box.handle_message(message)

    controller = Controller(Handler(), hostname="127.0.0.1", port=free_port())
    controller.start()
    box.port = controller.port
    yield box
    controller.stop()


def pytest_collection_modifyitems(config, items):
    """End-to-end tests last: the server they start keeps running (and sweeping) against the
    test database, which would race the unit tests that drive routing on a controlled clock."""
    items.sort(key=lambda item: item.get_closest_marker("e2e") is not None)


@pytest.fixture(autouse=True, scope="session")
def fast_password_hashing():
    """Agents are created in the test process too; hash their passwords cheaply there as well."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True, scope="session")
def flush_gives_way_to_running_servers():
    """Between end-to-end tests pytest-django empties the tables (TRUNCATE on PostgreSQL) while
    the server processes still write (a disconnect being handled, a routing sweep). A TRUNCATE
    that waits for them can deadlock with them; here it waits briefly, steps back, and tries
    again, so the server is never the one that is aborted."""
    if connection.vendor != "postgresql":
        yield
        return
    original = flush.Command.handle

    def patient_handle(self, **options):
        for _ in range(100):
            with connection.cursor() as cursor:
                cursor.execute("SET lock_timeout = '200ms'")
            try:
                return original(self, **options)
            except CommandError as error:
                if "lock timeout" not in str(error.__cause__ or error):
                    raise
                time.sleep(0.05)
            finally:
                with connection.cursor() as cursor:
                    cursor.execute("SET lock_timeout = 0")
        return original(self, **options)

    flush.Command.handle = patient_handle
    yield
    flush.Command.handle = original


@dataclass
class Server:
    url: str
    process: subprocess.Popen
    log_path: Path
    env: dict
    port: int

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def restart(self) -> None:
        """Stop the process and start a new one on the same port and database."""
        stop_server(self)
        fresh = start_server(env=self.env, log_path=self.log_path, port=self.port)
        self.process = fresh.process


def start_server(*, env: dict, log_path: Path, port: int | None = None) -> Server:
    port = port or free_port()
    log = log_path.open("a")
    process = subprocess.Popen(
        [sys.executable, "manage.py", "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited:\n{log_path.read_text()}")
        try:
            httpx.get(f"{url}/api/openapi.json", timeout=1)
            return Server(url=url, process=process, log_path=log_path, env=env, port=port)
        except httpx.TransportError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"server did not start:\n{log_path.read_text()}")


def stop_server(server: Server) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.process.kill()


@pytest.fixture(scope="session")
def server_env(django_db_setup, outbox, tmp_path_factory) -> dict:
    """Environment of a server process that shares the test database and the SMTP outbox."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL",)}
    env.update(
        DATABASE_URL=database_url_of(settings.DATABASES["default"]),
        SECRET_KEY="e2e-tests-only",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(outbox.port),
        DEFAULT_FROM_EMAIL="chat@example.test",
        LOG_LEVEL="INFO",
        CHAT_VAR_DIR=str(tmp_path_factory.mktemp("server-var")),
        CHAT_INSECURE_FAST_PASSWORD_HASHER="1",
        CHAT_INSTANCE=f"chat-tests-{os.getpid()}",  # another test run on this Redis hears nothing of ours
        CHAT_SWEEP_INTERVAL="0.2",
        CHAT_AGENT_GRACE="2",
    )
    return env


@pytest.fixture(scope="session")
def server(server_env, tmp_path_factory) -> Iterator[Server]:
    """The chat server, started once for the session as `manage.py serve` on a free port."""
    running = start_server(env=server_env, log_path=tmp_path_factory.mktemp("server") / "server.log")
    yield running
    stop_server(running)
    assert "Traceback" not in running.log(), running.log()
