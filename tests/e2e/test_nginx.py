"""The deployment recipe (deploy/nginx.conf.template, docs/scaling.md): Debian's nginx in front
of two `serve` processes sharing PostgreSQL and Redis, driven through nginx by real clients
over websocket and over long-polling (which needs the sticky sessions of ip_hash)."""

import asyncio
import os
import shutil
import subprocess
import time

import aiohttp
import httpx
import pytest
import socketio
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


def wait_for_nginx(nginx: subprocess.Popen, url: str, prefix) -> None:
    deadline = time.monotonic() + 15
    while True:
        try:
            if httpx.get(f"{url}/api/openapi.json", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if nginx.poll() is not None or time.monotonic() > deadline:
            logs = [path.read_text() for path in (prefix / "stderr.log", prefix / "error.log") if path.exists()]
            raise RuntimeError("nginx did not answer:\n" + "\n".join(logs))
        time.sleep(0.1)


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
    try:
        wait_for_nginx(nginx, url, prefix)
    except BaseException:
        nginx.kill()
        for server in servers:
            stop_server(server)
        raise
    yield url, servers
    nginx.terminate()
    nginx.wait(timeout=10)
    for server in servers:
        stop_server(server)
        assert "Traceback" not in server.log(), server.log()


def connections_to(port: int) -> int:
    """Established TCP connections to a server process's port (from nginx)."""
    out = subprocess.run(["ss", "-Htn", "state", "established", f"( sport = :{port} )"], capture_output=True, text=True)
    return len(out.stdout.splitlines())


def person_from(address: str, url: str, *args, **kwargs) -> Person:
    """A Person whose connections come from `address` (a loopback address of its own), as
    clients on different machines would: nginx hashes the client address."""
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(local_addr=(address, 0)))
    client = socketio.AsyncClient(reconnection=False, http_session=session)
    person = Person(url, *args, sio=client, **kwargs)
    person.http_session = session
    return person


async def test_customers_on_websocket_and_on_long_polling_chat_with_an_agent_through_nginx(behind_nginx, people):
    url, servers = behind_nginx
    await sync_to_async(agent_create)(
        username="alice", password=PASSWORD, queues=["default"], name="Alice", max_chats=CUSTOMERS
    )
    login = await login_agent(url, "alice", PASSWORD)
    agent = person_from("127.0.0.2", url, "", "", "Alice", namespace="/agent", auth={"token": login["token"]})
    people.append(await agent.connect())
    assert (await agent.emit("agentState", {"state": "ready"}))["ok"]

    customers = []
    for number in range(CUSTOMERS):
        transports = ("websocket",) if number % 2 else ("polling",)
        started = await init_conversation(url)
        customer = person_from(
            f"127.0.0.{10 + number}", url, started["conversationId"], started["participant"]["id"], "Kashif"
        )
        people.append(await customer.connect(transports=transports))
        assert customer.sio.transport() == transports[0]
        assert (await customer.join())["ok"]
        offer = await agent.wait_for(
            "conversationOffered", lambda o, c=customer: o["conversation"]["id"] == c.conversation_id
        )
        accepted = await agent.emit("acceptConversation", {"conversationId": offer["conversation"]["id"]})
        assert accepted["ok"], accepted
        customers.append((customer, accepted["participant"]["id"]))
    # nginx spread the clients over both processes (the first answers the customers of some
    # addresses, the second those of others), so the chats below cross processes through Redis.
    assert all(connections_to(server.port) > 0 for server in servers)

    for number, (customer, _) in enumerate(customers):
        assert (await customer.say(f"hello from customer {number}"))["ok"]
        await agent.wait_for_text(f"hello from customer {number}")
    for number, (customer, agent_participant) in enumerate(customers):
        reply = {"conversationId": customer.conversation_id, "type": "ChatMessage", "text": f"hi {number}"}
        ack = await agent.emit("sendMessage", reply | {"from": {"id": agent_participant}})
        assert ack["ok"], ack
        await customer.wait_for_text(f"hi {number}")
    await asyncio.sleep(0.3)  # anything sent twice or to the wrong customer would be here now
    assert [c.texts() for c, _ in customers] == [[f"hi {n}"] for n in range(CUSTOMERS)]
    assert sorted(agent.texts()) == sorted(f"hello from customer {n}" for n in range(CUSTOMERS))
    for person in [agent] + [c for c, _ in customers]:
        await person.disconnect()
        await person.http_session.close()


CUSTOMERS = 6
