"""registerConnector against a running server."""

import asyncio

import pytest
import socketio
from asgiref.sync import sync_to_async

from connectors.models import Connector
from connectors.services import connector_create

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
async def sms_key() -> str:
    _, key = await sync_to_async(connector_create)(connector_id="sms", name="SMS", channel="sms")
    return key


@pytest.fixture
async def connector_socket(server):
    client = socketio.AsyncClient(reconnection=False)
    await client.connect(server.url, transports=["websocket"])
    yield client
    if client.connected:
        await client.disconnect()


async def until_disconnected() -> None:
    """The server marks the connector disconnected shortly after its socket goes."""
    for _ in range(50):
        if (await connector_state())[0] is False:
            return
        await asyncio.sleep(0.1)


async def connector_state() -> tuple[bool, int, str]:
    connector = await sync_to_async(Connector.objects.get)(id="sms")
    return connector.connected, connector.connected_sockets, connector.name


async def test_a_connector_with_its_key_is_registered_and_marked_connected_until_it_leaves(connector_socket, sms_key):
    ack = await connector_socket.call(
        "registerConnector", {"id": "sms", "name": "ExpertFlow SMS Connector", "channel": "sms", "key": sms_key}
    )
    assert ack == {"ok": True, "connector": {"id": "sms", "name": "ExpertFlow SMS Connector", "channel": "sms"}}
    assert await connector_state() == (True, 1, "ExpertFlow SMS Connector")

    await connector_socket.disconnect()
    await until_disconnected()
    assert await connector_state() == (False, 0, "ExpertFlow SMS Connector")


async def test_a_connector_with_a_wrong_key_is_refused_and_nothing_changes(connector_socket, sms_key):
    ack = await connector_socket.call("registerConnector", {"id": "sms", "name": "Impostor", "key": "guess"})
    assert ack["ok"] is False and ack["error"]["code"] == "UNAUTHORIZED"
    assert await connector_state() == (False, 0, "SMS")
    assert connector_socket.connected


async def test_an_unknown_connector_is_refused(connector_socket):
    ack = await connector_socket.call("registerConnector", {"id": "telegram", "name": "T", "key": "x"})
    assert ack["ok"] is False and ack["error"]["code"] == "CONNECTOR_UNKNOWN"
    assert not await sync_to_async(Connector.objects.filter(id="telegram").exists)()


async def test_a_connector_whose_id_is_not_its_channel_is_refused(connector_socket, sms_key):
    ack = await connector_socket.call("registerConnector", {"id": "sms", "channel": "web", "key": sms_key})
    assert ack["ok"] is False and ack["error"]["code"] == "INVALID_PAYLOAD"
    assert await connector_state() == (False, 0, "SMS")


async def test_registering_twice_on_one_connection_counts_it_once(connector_socket, sms_key):
    payload = {"id": "sms", "name": "SMS", "key": sms_key}
    assert (await connector_socket.call("registerConnector", payload))["ok"]
    assert (await connector_socket.call("registerConnector", payload))["ok"]
    assert await connector_state() == (True, 1, "SMS")
    await connector_socket.disconnect()
    await until_disconnected()
    assert await connector_state() == (False, 0, "SMS")
