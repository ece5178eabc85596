"""A chat server with Twilio configured, pointed at a local fake Twilio (nothing leaves the
machine), and the people of the connector stories."""

import base64
import itertools
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import httpx
import pytest
from asgiref.sync import sync_to_async
from django.db import connections
from twilio.request_validator import RequestValidator

from agents.services import agent_create
from conversations import services
from tests.conftest import start_server, stop_server
from tests.e2e.people import Person, login_agent

ACCOUNT_SID = "AC" + "0" * 32
AUTH_TOKEN = "test-auth-token-never-logged"
OUR_NUMBER = "+15005550006"
PUBLIC_URL = "https://chat.example.test"
PASSWORD = "correct horse battery staple"


@dataclass
class FakeTwilio:
    """Twilio's Messages API and media host, as far as the server uses them."""

    url: str = ""
    sent: list[dict] = field(default_factory=list)  # each Messages.create, its form fields
    media: dict[str, tuple[bytes, str]] = field(default_factory=dict)  # path -> (body, type)
    media_auth: list[str] = field(default_factory=list)
    refuse: dict[str, tuple[int, int, str]] = field(default_factory=dict)  # To -> (status, code, text)
    lock: threading.Lock = field(default_factory=threading.Lock)
    sids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def reset(self) -> None:
        with self.lock:
            self.sent.clear()
            self.media.clear()
            self.media_auth.clear()
            self.refuse.clear()

    def sent_to(self, number: str) -> list[dict]:
        with self.lock:
            return [m for m in self.sent if m["To"] == number]


def fake_twilio_handler(fake: FakeTwilio):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def _answer(self, status: int, body: bytes, content_type: str = "application/json"):
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self):
            if self.path != f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json":
                return self._answer(404, b"{}")
            expected = "Basic " + base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
            if self.headers.get("Authorization") != expected:
                return self._answer(401, json.dumps({"code": 20003, "message": "Authenticate", "status": 401}).encode())
            length = int(self.headers.get("Content-Length", 0))
            form = {k: v if len(v) > 1 else v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            with fake.lock:
                refusal = fake.refuse.get(form.get("To"))
                if refusal:
                    status, code, text = refusal
                    return self._answer(status, json.dumps({"code": code, "message": text, "status": status}).encode())
                sid = f"SM{next(fake.sids):032x}"
                fake.sent.append({**form, "sid": sid})
            body = {
                "sid": sid,
                "status": "queued",
                "to": form.get("To"),
                "body": form.get("Body"),
                "account_sid": ACCOUNT_SID,
            }
            return self._answer(201, json.dumps(body).encode())

        def do_GET(self):
            with fake.lock:
                fake.media_auth.append(self.headers.get("Authorization", ""))
                found = fake.media.get(self.path)
            if found is None:
                return self._answer(404, b"")
            return self._answer(200, found[0], found[1])

    return Handler


@pytest.fixture(scope="session")
def fake_twilio() -> Iterator[FakeTwilio]:
    fake = FakeTwilio()
    http = ThreadingHTTPServer(("127.0.0.1", 0), fake_twilio_handler(fake))
    fake.url = f"http://127.0.0.1:{http.server_address[1]}"
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    yield fake
    http.shutdown()


@pytest.fixture(scope="module")
def connectors_server(server_env, fake_twilio, tmp_path_factory):
    """The chat server with Twilio SMS on (against the fake), a quick worker and retries, a low
    campaign rate limit, and a public URL as behind a TLS proxy. One per test module, stopped
    with it: its routing sweep, running beside the other tests' server, would act on their
    conversations and emit to nobody."""
    env = {
        **server_env,
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_FROM_NUMBER": OUR_NUMBER,
        "TWILIO_API_BASE_URL": fake_twilio.url,
        "TWILIO_HELP_TEXT": "Acme support: reply to chat. STOP to opt out.",
        "TWILIO_MAX_MEDIA_BYTES": "100000",
        "CHAT_PUBLIC_URL": PUBLIC_URL,
        "CHAT_WORKER_POLL": "0.3",
        "CHAT_CONNECTOR_RETRY_BASE": "0.3",
        "CHAT_CONNECTOR_MAX_ATTEMPTS": "3",
        "CHAT_CONNECTOR_ACK_TIMEOUT": "3",
        "CHAT_CAMPAIGN_RATE_LIMIT": "10",
        "CHAT_CAMPAIGN_RATE_WINDOW": "60",
        "CHAT_IDLE_END_AFTER": "3600",
        # Agents leave at each test's end; releasing them later would race the tables being emptied.
        "CHAT_AGENT_GRACE": "3600",
    }
    running = start_server(env=env, log_path=tmp_path_factory.mktemp("connectors-server") / "server.log")
    yield running
    stop_server(running)
    log = running.log()
    assert "Traceback" not in log, log
    assert AUTH_TOKEN not in log


@pytest.fixture(autouse=True)
def fresh_fake(fake_twilio):
    fake_twilio.reset()
    yield


@pytest.fixture(autouse=True)
async def close_test_connections():
    yield
    await sync_to_async(connections.close_all)()


def signature(url: str, params: dict, token: str = AUTH_TOKEN) -> str:
    return RequestValidator(token).compute_signature(url, params)


async def post_twilio(server, path: str, params: dict, *, sign: bool = True, signed_url: str | None = None, **headers):
    """POST a webhook as Twilio does: form-encoded, signed over the public URL it called."""
    if sign:
        headers["X-Twilio-Signature"] = signature(signed_url or PUBLIC_URL + path, params)
    async with httpx.AsyncClient(base_url=server.url) as http:
        return await http.post(path, data=params, headers=headers)


@pytest.fixture
async def agents_here(connectors_server):
    connected: list[Person] = []
    yield connected
    for person in connected:
        await person.disconnect()


@pytest.fixture
async def desk_agent(connectors_server, agents_here):
    """An agent of the connectors server, put straight into a conversation and joined."""

    async def put_in(conversation_id: str, username: str = "alice") -> Person:
        await sync_to_async(agent_create)(
            username=username, password=PASSWORD, queues=["default"], max_chats=3, name=username.title()
        )
        login = await login_agent(connectors_server.url, username, PASSWORD)
        agent = Person(
            connectors_server.url, "", "", login["agent"]["name"], namespace="/agent", auth={"token": login["token"]}
        )
        agent.agent_id = login["agent"]["id"]
        agent.sio.on("messageStatus", agent._recorder("messageStatus"), namespace="/agent")
        agents_here.append(await agent.connect())
        participant = await sync_to_async(services.participant_add)(
            conversation_id=conversation_id, role="agent", name=agent.name, agent_id=agent.agent_id
        )
        agent.conversation_id, agent.participant_id = conversation_id, participant.id
        ack = await agent.join()
        assert ack["ok"], ack
        return agent

    return put_in
