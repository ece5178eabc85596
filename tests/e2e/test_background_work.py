"""Work that must not hold anyone up runs in the background worker: here, a mail server that
takes its time while customers and agents go on chatting."""

import asyncio
import threading

import httpx
import pytest
from aiosmtpd.controller import Controller

from tests.conftest import free_port, start_server, stop_server

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


class SlowMailServer:
    """An SMTP server that holds every message until the test lets it go."""

    def __init__(self):
        self.receiving = threading.Event()
        self.let_go = threading.Event()
        self.done = threading.Event()
        self.accepted: list[str] = []
        self.port = free_port()

    async def handle_DATA(self, server, session, envelope):
        self.receiving.set()
        await asyncio.get_running_loop().run_in_executor(None, self.let_go.wait, 60)
        self.accepted.extend(envelope.rcpt_tos)
        self.done.set()
        return "250 OK"


@pytest.fixture(scope="module")
def slow_mail():
    handler = SlowMailServer()
    controller = Controller(handler, hostname="127.0.0.1", port=handler.port)
    controller.start()
    yield handler
    handler.let_go.set()
    controller.stop()


@pytest.fixture(scope="module")
def server(server, server_env, slow_mail, tmp_path_factory):
    """This module's own server, whose mail goes to the slow mail server. The session's server
    is stopped meanwhile: its worker shares the database and would send the email itself."""
    stop_server(server)
    env = {**server_env, "EMAIL_PORT": str(slow_mail.port)}
    running = start_server(env=env, log_path=tmp_path_factory.mktemp("slow-mail") / "server.log")
    yield running
    stop_server(running)
    server.restart()
    assert "Traceback" not in running.log(), running.log()


async def test_a_slow_mail_server_holds_up_nobodys_messages(server, slow_mail, start_chat, add_agent):
    leaving = await start_chat(email="ada@example.com")
    await leaving.end()
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
        asked = await http.get(f"/api/customer/transcript/{leaving.conversation_id}/email")
    assert asked.status_code == 202  # answered while the mail is not even started
    assert await asyncio.to_thread(slow_mail.receiving.wait, 20), "the worker never reached the mail server"

    customer = await start_chat()
    agent = await add_agent(customer, "Alice")
    for i in range(20):
        ack = await customer.say(f"question {i}")
        assert ack["ok"], ack
        await agent.say(f"answer {i}")
    await agent.wait_for_text("question 19")
    await customer.wait_for_text("answer 19")
    # All of it went through while the mail server still held the transcript.
    assert not slow_mail.let_go.is_set() and slow_mail.accepted == []

    slow_mail.let_go.set()
    assert await asyncio.to_thread(slow_mail.done.wait, 20)
    assert slow_mail.accepted == ["ada@example.com"]
