"""An external connector written with python-socketio's client: it registers, receives
outboundMessage, acks, reports deliveryStatus; what is queued while it is away arrives once;
two connections share the work."""

import asyncio

import httpx
import pytest
import socketio
from asgiref.sync import sync_to_async

from connectors.campaigns import api_key_create
from connectors.services import connector_create
from tests.connectors.helpers import eventually, outbound

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

CHANNEL = "whatsapp"


class ExternalConnector:
    """A connector process: one Socket.IO connection that sends what it is given."""

    def __init__(self, server_url: str, key: str, *, answer=None, report: str | None = "delivered"):
        self.server_url, self.key = server_url, key
        self.received: list[dict] = []
        self.answer = answer or (lambda message: {"ok": True, "providerMessageId": f"wa-{message['id'][:8]}"})
        self.report = report
        self.client = socketio.AsyncClient(reconnection=False)
        self.client.on("outboundMessage", self._outbound)

    async def _outbound(self, message: dict) -> dict:
        self.received.append(message)
        answer = self.answer(message)
        if answer.get("ok") and self.report:
            # The provider reports later; the ack goes first.
            asyncio.get_running_loop().call_later(0.05, lambda: asyncio.ensure_future(self._report(message["id"])))
        return answer

    async def _report(self, outbound_id: str) -> None:
        if self.client.connected:
            await self.client.call("deliveryStatus", {"id": outbound_id, "status": self.report}, timeout=5)

    async def start(self) -> "ExternalConnector":
        await self.client.connect(self.server_url, transports=["websocket"])
        ack = await self.client.call("registerConnector", {"id": CHANNEL, "name": "WhatsApp bridge", "key": self.key})
        assert ack["ok"], ack
        return self

    async def stop(self) -> None:
        if self.client.connected:
            await self.client.disconnect()


@pytest.fixture
async def connector_key() -> str:
    return (await sync_to_async(connector_create)(connector_id=CHANNEL, name="WhatsApp"))[1]


@pytest.fixture
async def connectors(connectors_server, connector_key):
    started: list[ExternalConnector] = []

    async def start(**options) -> ExternalConnector:
        connector = await ExternalConnector(connectors_server.url, connector_key, **options).start()
        started.append(connector)
        return connector

    yield start
    for connector in started:
        await connector.stop()


@pytest.fixture
async def api_key() -> str:
    return (await sync_to_async(api_key_create)(name="crm"))[1]


async def send_campaign(server, key: str, to: str, text: str, **body) -> dict:
    async with httpx.AsyncClient(base_url=server.url) as http:
        response = await http.post(
            "/api/campaign/messages",
            json={"channel": CHANNEL, "to": to, "text": text, **body},
            headers={"Authorization": f"Bearer {key}"},
        )
    assert response.status_code == 202, response.text
    return response.json()


async def message_status(server, key: str, outbound_id: str) -> dict:
    async with httpx.AsyncClient(base_url=server.url) as http:
        response = await http.get(f"/api/campaign/messages/{outbound_id}", headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200, response.text
    return response.json()


async def test_a_connector_receives_a_campaign_message_with_the_contact_acks_and_it_shows_delivered(
    connectors_server, connectors, api_key
):
    connector = await connectors()
    text = "Your parcel is on its way"
    queued = await send_campaign(connectors_server, api_key, "+4915112345678", text, campaignId="parcel")
    assert queued["status"] == "queued"

    await eventually(lambda: connector.received)
    [message] = connector.received
    assert message == {
        "id": queued["id"],
        "conversationId": None,
        "channel": CHANNEL,
        "to": "+4915112345678",
        "text": "Your parcel is on its way",
        "attachments": [],
        "campaignId": "parcel",
    }
    await eventually(lambda: outbound(queued["id"]).status, lambda status: status == "delivered")
    status = await message_status(connectors_server, api_key, queued["id"])
    assert status["status"] == "delivered"
    assert status["providerMessageId"] == f"wa-{queued['id'][:8]}"
    assert [entry["status"] for entry in status["history"]] == ["queued", "sent", "delivered"]


async def test_what_is_queued_while_the_connector_is_away_arrives_once_when_it_registers_again(
    connectors_server, connectors, api_key
):
    first = await connectors()
    await first.stop()
    ids = [(await send_campaign(connectors_server, api_key, f"user-{n}", f"hello {n}"))["id"] for n in range(3)]
    await asyncio.sleep(1)  # several worker polls: nobody to send to, so nothing is tried
    assert {(await sync_to_async(outbound)(i)).status for i in ids} == {"queued"}
    assert {(await sync_to_async(outbound)(i)).attempts for i in ids} == {0}

    back = await connectors()
    await eventually(lambda: len(back.received), lambda n: n >= 3)
    await asyncio.sleep(1)
    assert sorted(m["id"] for m in back.received) == sorted(ids)  # each once
    assert first.received == []


async def test_two_connections_of_one_connector_never_receive_the_same_message(connectors_server, connectors, api_key):
    one, two = await connectors(), await connectors()
    ids = [(await send_campaign(connectors_server, api_key, f"user-{n}", f"batch {n}"))["id"] for n in range(8)]
    await eventually(lambda: len(one.received) + len(two.received), lambda n: n >= 8)
    await asyncio.sleep(1)
    got_one, got_two = [m["id"] for m in one.received], [m["id"] for m in two.received]
    assert sorted(got_one + got_two) == sorted(ids)
    assert not set(got_one) & set(got_two)


async def test_a_permanent_error_in_the_ack_is_final_and_a_retryable_one_is_tried_again(
    connectors_server, connectors, api_key
):
    tries: dict[str, int] = {}

    def answer(message):
        tries[message["to"]] = tries.get(message["to"], 0) + 1
        if message["to"] == "blocked":
            return {"ok": False, "error": {"code": "BLOCKED", "message": "The user blocked us", "retryable": False}}
        if tries[message["to"]] == 1:
            return {"ok": False, "error": {"code": "RATE", "retryable": True}}
        return {"ok": True, "providerMessageId": "wa-late"}

    await connectors(answer=answer, report=None)
    blocked = await send_campaign(connectors_server, api_key, "blocked", "hi")
    flaky = await send_campaign(connectors_server, api_key, "flaky", "hi")
    failed = await eventually(lambda: outbound(blocked["id"]), lambda o: o.status != "queued")
    assert (failed.status, failed.error_code, failed.error_text) == ("failed", "BLOCKED", "The user blocked us")
    sent = await eventually(lambda: outbound(flaky["id"]), lambda o: o.status != "queued")
    assert (sent.status, sent.provider_message_id, sent.attempts) == ("sent", "wa-late", 1)
    await asyncio.sleep(0.8)
    assert tries == {"blocked": 1, "flaky": 2}


async def test_an_agent_reply_reaches_the_connector_and_its_customer_continues_the_same_conversation(
    connectors_server, connectors, desk_agent
):
    connector = await connectors()
    init = {"channel": CHANNEL, "phone": "+4915199999999", "firstName": "Lena"}
    async with httpx.AsyncClient(base_url=connectors_server.url) as http:
        first = (await http.post("/api/customer/init", json=init)).json()
        again = (await http.post("/api/customer/init", json=init)).json()
    assert first["conversationId"] == again["conversationId"]  # an open conversation continues
    assert first["participant"]["id"] == again["participant"]["id"]

    customer = socketio.AsyncClient(reconnection=False)
    await customer.connect(connectors_server.url, transports=["websocket"])
    try:
        conversation_id = first["conversationId"]
        join = {"conversationId": conversation_id, "participant": {"id": first["participant"]["id"]}}
        assert (await customer.call("joinConversation", join))["ok"]
        hallo = {"conversationId": conversation_id, "type": "ChatMessage", "text": "Hallo"}
        assert (await customer.call("sendMessage", hallo))["ok"]
        agent = await desk_agent(first["conversationId"])
        assert (await agent.say("Hi Lena"))["ok"]
        await eventually(lambda: connector.received)
        [message] = connector.received
        assert (message["conversationId"], message["to"], message["text"]) == (
            first["conversationId"],
            "+4915199999999",
            "Hi Lena",
        )
        assert "campaignId" not in message
        await agent.wait_for("messageStatus", lambda s: s["status"] == "delivered")
        # A whisper never goes out.
        assert (await agent.say("note to self", tag="whisper"))["ok"]
        await asyncio.sleep(0.8)
        assert len(connector.received) == 1
    finally:
        await customer.disconnect()


async def test_a_status_for_a_message_of_another_channel_is_refused(connectors_server, connectors):
    connector = await connectors()
    ack = await connector.client.call("deliveryStatus", {"id": "0" * 32, "status": "delivered"})
    assert ack["ok"] is False and ack["error"]["code"] == "NOT_ALLOWED"
    bad = await connector.client.call("deliveryStatus", {"id": "x", "status": "exploded"})
    assert bad["ok"] is False and bad["error"]["code"] == "INVALID_PAYLOAD"


async def test_simultaneous_inits_for_one_contact_on_a_connector_channel_make_one_conversation(
    connectors_server, connector_key
):
    init = {"channel": CHANNEL, "refId": "wa-user-77"}
    async with httpx.AsyncClient(base_url=connectors_server.url) as http:
        answers = await asyncio.gather(*(http.post("/api/customer/init", json=init) for _ in range(5)))
        web = [
            (await http.post("/api/customer/init", json={"channel": "web", "refId": "wa-user-77"})) for _ in range(2)
        ]
    assert [a.status_code for a in answers] == [200] * 5
    assert len({a.json()["conversationId"] for a in answers}) == 1
    assert len({w.json()["conversationId"] for w in web}) == 2  # a channel without a connector: as always
