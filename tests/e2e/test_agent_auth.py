"""Agents prove who they are before they hear anything."""

import asyncio

import httpx
import pytest
import socketio
from asgiref.sync import sync_to_async

from agents.models import AgentToken
from agents.services import agent_create
from tests.e2e.conftest import PASSWORD
from tests.e2e.people import Person

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
async def http(server):
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
        yield client


@pytest.fixture
async def alice_account():
    return await sync_to_async(agent_create)(username="alice", password=PASSWORD, queues=["default"])


async def refusal(server_url: str, auth) -> dict | None:
    """The connect_error data of an /agent connection with `auth`, or None if it connected."""
    client = socketio.AsyncClient(reconnection=False)
    refused = []
    client.on("connect_error", refused.append, namespace="/agent")
    try:
        await client.connect(server_url, namespaces=["/agent"], auth=auth, transports=["websocket"], wait_timeout=5)
    except socketio.exceptions.ConnectionError:
        assert refused, "refused without saying why"
        return refused[0]
    await client.disconnect()
    return None


async def test_a_login_issues_a_token_that_opens_the_agent_namespace(server, http, alice_account):
    response = await http.post("/api/agent/login", json={"username": "alice", "password": PASSWORD})
    assert response.status_code == 200
    body = response.json()
    assert body["agent"]["username"] == "alice" and body["expiresAt"]
    assert await refusal(server.url, {"token": body["token"]}) is None
    stored = await sync_to_async(lambda: list(AgentToken.objects.values_list("key_hash", flat=True)))()
    assert body["token"] not in stored  # only its hash is kept


async def test_a_wrong_password_is_refused(http, alice_account):
    response = await http.post("/api/agent/login", json={"username": "alice", "password": "nope"})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "UNAUTHORIZED"


async def test_failed_logins_are_throttled_per_username(http):
    await sync_to_async(agent_create)(username="mallet", password=PASSWORD, queues=["default"])
    for _ in range(5):
        assert (await http.post("/api/agent/login", json={"username": "mallet", "password": "x"})).status_code == 401
    response = await http.post("/api/agent/login", json={"username": "mallet", "password": PASSWORD})
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "TOO_MANY_ATTEMPTS"


async def test_a_user_who_is_not_an_agent_gets_no_token(http, django_user_model):
    await sync_to_async(django_user_model.objects.create_user)(username="operator", password=PASSWORD)
    response = await http.post("/api/agent/login", json={"username": "operator", "password": PASSWORD})
    assert response.status_code == 401


@pytest.mark.parametrize("auth", [None, {}, {"token": "made-up"}, {"token": 12345}, "just a string"])
async def test_the_agent_namespace_refuses_missing_or_bad_credentials(server, auth):
    refused = await refusal(server.url, auth)
    assert refused is not None and refused["data"]["code"] == "UNAUTHORIZED"
    assert refused["message"]


async def test_a_revoked_token_no_longer_connects(server, http, alice_account):
    token = (await http.post("/api/agent/login", json={"username": "alice", "password": PASSWORD})).json()["token"]
    response = await http.post("/api/agent/logout", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 204
    assert (await refusal(server.url, {"token": token}))["data"]["code"] == "UNAUTHORIZED"


async def test_an_expired_token_no_longer_connects(server, http, alice_account):
    token = (await http.post("/api/agent/login", json={"username": "alice", "password": PASSWORD})).json()["token"]
    await sync_to_async(lambda: AgentToken.objects.update(expires_at="2000-01-01T00:00:00Z"))()
    assert (await refusal(server.url, {"token": token}))["data"]["code"] == "UNAUTHORIZED"


async def test_a_customer_cannot_use_agent_events(customer):
    ack = await customer.emit("acceptConversation", {"conversationId": customer.conversation_id})
    assert ack["ok"] is False and ack["error"]["code"] == "UNKNOWN_EVENT"
    assert (await customer.say("still fine"))["ok"]


async def test_an_agent_cannot_join_as_the_customer(customer, sign_in):
    alice = await sign_in("alice")
    alice.conversation_id, alice.participant_id = customer.conversation_id, customer.participant_id
    ack = await alice.join()
    assert ack["ok"] is False and ack["error"]["code"] == "NOT_A_PARTICIPANT"
    assert (await alice.say("pretending"))["error"]["code"] == "NOT_JOINED"


async def test_the_customer_id_others_see_does_not_let_anyone_join_as_the_customer(customer, agent, connect):
    info = await agent.wait_for("conversationInfo")
    shown = next(p["id"] for p in info["participants"] if p["role"] == "customer")
    assert shown == customer.public_id != customer.participant_id
    impostor = await connect(customer.conversation_id, shown, "Kashif")
    ack = await impostor.join()
    assert ack["ok"] is False and ack["error"]["code"] == "NOT_A_PARTICIPANT"
    assert (await impostor.say("I am the customer"))["error"]["code"] == "NOT_JOINED"


@pytest.mark.parametrize("event", ["disconnect", "connect"])
async def test_a_client_cannot_fire_the_servers_own_connect_and_disconnect(sign_in, start_chat, event):
    alice = await sign_in("alice")
    ack = await alice.sio.call(event, {"token": "x"}, namespace="/agent", timeout=5)
    assert ack["ok"] is False and ack["error"]["code"] == "UNKNOWN_EVENT"
    assert (await alice.emit("agentState", {"state": "ready"}))["ok"]
    customer = await start_chat()
    await alice.wait_for("conversationOffered", lambda o: o["conversation"]["id"] == customer.conversation_id)
    directory = await alice.emit("directory", {})
    assert [a["connected"] for a in directory["agents"] if a["username"] == "alice"] == [True]


async def test_parallel_guesses_cannot_outrun_the_throttle(http):
    await sync_to_async(agent_create)(username="target", password=PASSWORD, queues=["default"])
    guesses = [http.post("/api/agent/login", json={"username": "target", "password": f"guess{i}"}) for i in range(12)]
    statuses = sorted(response.status_code for response in await asyncio.gather(*guesses))
    assert statuses.count(401) <= 5
    assert statuses.count(429) >= 7


async def closed_within_seconds(person, seconds: float = 5) -> bool:
    for _ in range(int(seconds * 10)):
        if not person.sio.connected:
            return True
        await asyncio.sleep(0.1)
    return False


async def test_revoking_a_token_closes_the_connections_made_with_it(server, http, alice_account, people):
    token = (await http.post("/api/agent/login", json={"username": "alice", "password": PASSWORD})).json()["token"]
    alice = Person(server.url, "", "", "Alice", namespace="/agent", auth={"token": token})
    people.append(await alice.connect())
    await alice.wait_for("agentInfo")
    assert (await http.post("/api/agent/logout", headers={"Authorization": f"Bearer {token}"})).status_code == 204
    assert await closed_within_seconds(alice)


async def test_deactivating_an_agent_closes_its_connections(sign_in):
    alice = await sign_in("alice")
    await alice.wait_for("agentInfo")
    await sync_to_async(lambda: AgentToken.objects.get().agent.user.__class__.objects.update(is_active=False))()
    assert await closed_within_seconds(alice)
