"""The server under test: its own database (a temporary SQLite file or a throw-away PostgreSQL
database), `manage.py migrate`, then `manage.py serve` on a free port, stopped at the end."""

import contextlib
import json
import os
import re
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
START_TIMEOUT = 90.0  # a busy shared machine: a pinned core can be taken by others
STOP_TIMEOUT = 10.0
LOG_RECORD = re.compile(r"^\d{4}-\d\d-\d\d \d\d:")  # LOGGING's "plain" format


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def require_loopback(url: str, what: str) -> None:
    host = urlsplit(url).hostname
    if host not in LOOPBACK:
        raise SystemExit(f"{what} must point at this machine (127.0.0.1), not {host!r}")


@contextlib.contextmanager
def postgres_database(admin_url: str) -> Iterator[str]:
    """A fresh database `bench_<random>` next to the one `admin_url` names; dropped at the end."""
    import psycopg

    name = f"bench_{secrets.token_hex(4)}"
    parts = urlsplit(admin_url)
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass
class Environment:
    """What every server process of one bench run shares: a database and a scratch directory."""

    env: dict
    workdir: Path
    database: str  # "sqlite" or "postgresql"
    redis: bool

    def manage(self, *args: str, stdin: str | None = None, timeout: float = 300) -> str:
        result = subprocess.run(
            [PYTHON, *args],
            cwd=ROOT,
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result.stdout

    def service(self, command: str, payload: object) -> object:
        """Service-layer work in a separate Django process (bench/django_helper.py)."""
        out = self.manage(str(ROOT / "bench" / "django_helper.py"), command, stdin=json.dumps(payload))
        return json.loads(out)


@contextlib.contextmanager
def environment(*, database_url: str | None, redis_url: str | None) -> Iterator[Environment]:
    with tempfile.TemporaryDirectory(prefix="chat-bench-") as tmp, contextlib.ExitStack() as stack:
        workdir = Path(tmp)
        if database_url:
            require_loopback(database_url, "--database-url")
            url = stack.enter_context(postgres_database(database_url))
            database = "postgresql"
        else:
            url = f"sqlite:///{workdir / 'bench.sqlite3'}"
            database = "sqlite"
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
        env.update(
            DATABASE_URL=url,
            SECRET_KEY="bench-" + secrets.token_hex(16),
            LOG_LEVEL="WARNING",
            CHAT_VAR_DIR=str(workdir / "var"),
            DJANGO_SETTINGS_MODULE="chatserver.settings",
            PYTHONUNBUFFERED="1",
            # The bench's agents log in over HTTP; their passwords need no strong hash here.
            CHAT_INSECURE_FAST_PASSWORD_HASHER="1",
            # A long run puts thousands of messages into each conversation, past the caps that
            # bound a transcript (docs/security.md): a refused message would skew the figures.
            CHAT_MAX_MESSAGES_PER_CONVERSATION=env.get("CHAT_MAX_MESSAGES_PER_CONVERSATION", "100000000"),
            CHAT_MAX_CONVERSATION_TEXT=env.get("CHAT_MAX_CONVERSATION_TEXT", "100000000000"),
        )
        if redis_url:
            require_loopback(redis_url, "--redis-url")
            env["REDIS_URL"] = redis_url
        bench_env = Environment(env=env, workdir=workdir, database=database, redis=bool(redis_url))
        bench_env.manage("manage.py", "migrate", "--no-input")
        yield bench_env


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all its threads) so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy_seconds() -> float:
    """CPU time spent by everything on the machine so far (all cores, not idle or iowait)."""
    user, nice, system, idle, iowait, irq, softirq, steal = map(int, Path("/proc/stat").read_text().split()[1:9])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


BACKING_SERVICES = ("postgres", "redis-server")


def backing_services_cpu_seconds() -> float:
    """CPU time of the PostgreSQL and Redis processes on this machine (whoever they serve)."""
    total = 0.0
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if (proc / "comm").read_text().strip().startswith(BACKING_SERVICES):
                total += process_cpu_seconds(int(proc.name))
        except (OSError, ValueError):
            continue  # the process ended meanwhile
    return total


@dataclass
class Server:
    url: str
    process: subprocess.Popen
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise RuntimeError("no VmRSS")

    def cpu_seconds(self) -> float:
        return process_cpu_seconds(self.pid)

    def problems(self) -> list[str]:
        """Lines of the server log that show an error (the log level is WARNING)."""
        text = self.log_path.read_text(errors="replace")
        return [line for line in text.splitlines() if "Traceback" in line or " ERROR " in line]

    def first_traceback(self, limit: int = 60) -> list[str]:
        """The first logged error with its traceback (up to the next log record)."""
        lines = self.log_path.read_text(errors="replace").splitlines()
        start = next((i for i, line in enumerate(lines) if line.startswith("Traceback")), None)
        if start is None:
            return []
        after = (i for i in range(start + 1, len(lines)) if LOG_RECORD.match(lines[i]))
        return lines[max(0, start - 1) : min(next(after, len(lines)), start + limit)]


@contextlib.contextmanager
def running_server(
    bench_env: Environment,
    name: str,
    *,
    cpu: int | None = None,
    command: list[str] | None = None,
    probe: str = "/api/openapi.json",
    extra_env: dict | None = None,
    port: int | None = None,
) -> Iterator[Server]:
    """`manage.py serve` (or `command`, given the port) on `port` or a free one, on CPU `cpu` if
    given; always stopped (SIGTERM, then SIGKILL) on the way out."""
    port = port or free_port()
    log_path = bench_env.workdir / f"server-{name}.log"
    argv = [*(command or [PYTHON, "manage.py", "serve", "--port"]), str(port)]
    if cpu is not None:
        argv = ["taskset", "-c", str(cpu), *argv]
    with log_path.open("w") as log:
        process = subprocess.Popen(
            argv,
            cwd=ROOT,
            env={**bench_env.env, **(extra_env or {})},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = Server(url=f"http://127.0.0.1:{port}", process=process, log_path=log_path)
    try:
        _wait_until_answering(server, probe)
        yield server
    except BaseException:
        print(f"--- last lines of the server log ({name}):", *_tail(log_path), sep="\n", file=sys.stderr)
        raise
    finally:
        _stop(process)


def _tail(path: Path, lines: int = 60) -> list[str]:
    return path.read_text(errors="replace").splitlines()[-lines:]


def _wait_until_answering(server: Server, probe: str = "/api/openapi.json") -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"server exited:\n{server.log_path.read_text()}")
        try:
            if httpx.get(f"{server.url}{probe}", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"server did not answer in {START_TIMEOUT:.0f} s:\n{server.log_path.read_text()}")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=STOP_TIMEOUT)
