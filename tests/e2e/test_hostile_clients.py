"""Hostile clients: no payload stalls the others, malformed packets cost a few bytes of log,
and secrets stay out of the logs (chatserver/payloads.py, guards.py, accesslog.py)."""

import asyncio
import json

import httpx
import pytest
from asgiref.sync import sync_to_async

from conversations.models import Message
from tests.e2e.people import Person
from tests.e2e.rawsocket import RawSocket

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


async def test_three_huge_payloads_in_flight_are_refused_unparsed_while_another_client_chats(server, customer):
    """A 900 KB packet of 450,000 values is answered from its header, before python-socketio
    parses it (which stalled every connection for 4.6 s): the ack is the guard's, and short.
    How long the other client waits meanwhile is a figure, not a test: bench/stall_probe.py."""
    junk = {"conversationId": customer.conversation_id, "type": "ChatMessage", "attachments": [0] * 450_000}
    packet = "421" + json.dumps(["sendMessage", junk], separators=(",", ":"))
    assert 900_000 < len(packet) < 1_000_000
    hostile = []
    for _ in range(3):
        raw = await asyncio.to_thread(RawSocket, server.url)
        await asyncio.to_thread(raw.connect_namespace)
        hostile.append((raw, RawSocket.frame(packet)))  # built ahead: the test's own loop stays free

    def attack(raw: RawSocket, frame: bytes) -> bytes:
        raw.sock.sendall(frame)
        return raw.read_until(b"]") + b"]"  # the ack: 431[{...}]

    async def probe() -> list[dict]:
        return [await customer.say(f"probe {n}") for n in range(40)]

    probing = asyncio.create_task(probe())
    await asyncio.sleep(0.02)
    acks = await asyncio.gather(*(asyncio.to_thread(attack, raw, frame) for raw, frame in hostile))
    probes = await probing
    for ack in acks:
        assert b"PAYLOAD_TOO_LARGE" in ack, ack
        assert b"values" in ack  # "The payload has more than N values.": refused before parsing
        assert len(ack) < 1_000  # the answer does not grow with the input
    assert [ack["ok"] for ack in probes] == [True] * 40
    stored = await sync_to_async(list)(
        Message.objects.filter(conversation_id=customer.conversation_id, text__startswith="probe ").values_list(
            "text", flat=True
        )
    )
    assert sorted(stored) == sorted(f"probe {n}" for n in range(40))  # and nothing of the junk
    for raw, _ in hostile:
        raw.close()


async def test_error_acks_name_at_most_ten_fields_and_stay_short(customer):
    bad = [{"contentUrl": "javascript:alert(1)" + "x" * 1500} for _ in range(10)]
    ack = await customer.emit(
        "sendMessage", {"conversationId": customer.conversation_id, "type": "ChatMessage", "attachments": bad}
    )
    assert ack["ok"] is False
    assert len(ack["error"]["fields"]) <= 10
    assert len(json.dumps(ack)) < 5_000
    ack = await customer.emit(
        "sendMessage",
        {"conversationId": customer.conversation_id, "type": "ChatMessage", "text": "x", "to": [{"id": "a"}] * 101},
    )
    assert ack["error"]["code"] == "PAYLOAD_TOO_LARGE", ack
    assert await sync_to_async(Message.objects.filter(text="x").count)() == 0


async def test_malformed_packets_are_counted_logged_once_and_the_sender_closed(server):
    before = len(server.log())
    raw = await asyncio.to_thread(RawSocket, server.url)
    await asyncio.to_thread(raw.connect_namespace)
    for _ in range(2_000):
        try:
            raw.send_text("42[")
        except (BrokenPipeError, ConnectionResetError):
            break
    assert await asyncio.to_thread(raw.is_closed_by_server, 10)
    raw.close()
    grown = server.log()[before:]
    assert len(grown.encode()) < 3_000, grown
    assert "malformed packet" in grown and "closed a connection after 20 malformed packets" in grown
    assert "Traceback" not in grown


async def test_unknown_engineio_packet_types_log_no_traceback(server, customer):
    before = len(server.log())
    raw = await asyncio.to_thread(RawSocket, server.url)
    for bad in ("9", "x", "", "7abc"):
        raw.send_text(bad)
    await asyncio.to_thread(raw.connect_namespace)  # still answered: the connection survived
    raw.emit("noSuchEvent", {})
    await asyncio.to_thread(raw.read_until, b"UNKNOWN_EVENT")
    raw.close()
    assert (await customer.say("still here"))["ok"]
    grown = server.log()[before:]
    assert "Exception inside application" not in grown and "Traceback" not in grown, grown


async def test_the_log_holds_no_sid_token_join_key_or_transcript_id(server, start_chat, sign_in):
    agent = await sign_in("ana")
    token = agent.auth["token"]
    customer = await start_chat()
    polling = await Person(server.url, customer.conversation_id, customer.participant_id, "Kashif").connect(
        transports=("polling",)
    )
    assert (await polling.join())["ok"]
    assert (await polling.say("over long-polling"))["ok"]
    sid = polling.sio.eio.sid
    assert (await customer.end())["ok"]
    async with httpx.AsyncClient(base_url=server.url) as http:
        assert (await http.get(f"/api/customer/transcript/{customer.conversation_id}/pdf")).status_code == 200
        assert (await http.get(f"/api/customer/transcript/{customer.conversation_id}x/pdf")).status_code == 404
        await http.post("/api/agent/logout", headers={"Authorization": f"Bearer {token}"})
    await polling.disconnect()
    log = server.log()
    assert "/api/customer/transcript/[redacted]/pdf" in log
    assert "sid=[redacted]" in log
    for secret in (sid, token, customer.participant_id, customer.conversation_id):
        assert secret not in log


async def test_a_polling_session_answers_only_the_address_that_opened_it(server, customer):
    polling = await Person(server.url, customer.conversation_id, customer.participant_id, "Kashif").connect(
        transports=("polling",)
    )
    assert (await polling.join())["ok"]
    sid = polling.sio.eio.sid
    packet = "42" + json.dumps(
        ["sendMessage", {"conversationId": customer.conversation_id, "type": "ChatMessage", "text": "not mine"}]
    )
    elsewhere = httpx.AsyncHTTPTransport(local_address="127.0.0.2")
    async with httpx.AsyncClient(base_url=server.url, transport=elsewhere) as http:
        response = await http.post(f"/socket.io/?EIO=4&transport=polling&sid={sid}", content=packet)
    assert response.status_code == 400
    assert (await polling.say("mine"))["ok"]  # the session itself goes on
    await customer.wait_for_text("mine")
    assert "not mine" not in customer.texts()
    assert await sync_to_async(Message.objects.filter(text="not mine").count)() == 0
    await polling.disconnect()
