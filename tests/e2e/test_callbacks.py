"""Web callbacks against the real server: requests over HTTP, agents on /agent with
python-socketio, the server restarted with callbacks waiting."""

import asyncio
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from asgiref.sync import sync_to_async
from django.utils import timezone

from agents.models import ServerProcess
from callbacks.models import Callback
from routing.models import ClosedDate, Queue

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

CALLBACK_EVENTS = ("callbackOffered", "callbackOfferWithdrawn", "callbackUpdated")
BODY = {"firstName": "Kashif", "lastName": "Awan", "phone": "+49 30 901820", "subject": "support"}


def listen_for_callbacks(agent):
    for event in CALLBACK_EVENTS:
        agent.sio.on(event, agent._recorder(event), namespace="/agent")
    return agent


async def make_queue(name: str, **fields) -> Queue:
    return await sync_to_async(Queue.objects.create)(name=name, **fields)


async def ask(server, **fields) -> httpx.Response:
    async with httpx.AsyncClient(base_url=server.url) as http:
        return await http.post("/api/customer/callback", json=BODY | fields)


async def state_of(server, created: dict, key: str | None = None) -> dict:
    async with httpx.AsyncClient(base_url=server.url) as http:
        answer = await http.get(
            f"/api/customer/callback/{created['callbackId']}", headers={"X-Callback-Key": key or created["key"]}
        )
    assert answer.status_code == 200, answer.text
    return answer.json()


async def ready_agent(sign_in, name: str, queues=("support",)):
    agent = listen_for_callbacks(await sign_in(name, queues=queues))
    assert (await agent.emit("agentState", {"state": "ready"}))["ok"]
    return agent


def history(callback_id: str) -> list[str]:
    return list(Callback.objects.get(pk=callback_id).events.order_by("pk").values_list("to_state", flat=True))


async def a_sweep_has_passed(agent_id: int) -> None:
    """Wait until the server's routing sweep has run at least twice from now (it refreshes its
    process's heartbeat each time): whatever it would have offered, it has."""
    for _ in range(2):
        since = timezone.now()
        for _ in range(100):
            seen = await sync_to_async(
                lambda: ServerProcess.objects.order_by("-seen_at").values_list("seen_at", flat=True).first()
            )()
            if seen > since:
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("the sweep did not run")


async def test_busy_up_to_the_maximum_attempts_is_failed(server, sign_in):
    await make_queue("support", callback_retry_delay_seconds=1, callback_max_attempts=2)
    alice = await ready_agent(sign_in, "alice")
    created = (await ask(server)).json()
    for attempt in range(2):
        offer = await alice.wait_for("callbackOffered", lambda c, n=attempt: len(c["attempts"]) == n)
        assert (offer["callbackId"], offer["phone"], offer["maxAttempts"]) == (created["callbackId"], "+4930901820", 2)
        assert (await alice.emit("acceptCallback", {"callbackId": created["callbackId"]}))["ok"]
        done = await alice.emit("callbackOutcome", {"callbackId": created["callbackId"], "outcome": "busy"})
        assert done["ok"], done
    assert done["callback"]["state"] == "failed"
    assert (await state_of(server, created))["state"] == "failed"
    await a_sweep_has_passed(alice.agent_id)
    assert len(alice.received["callbackOffered"]) == 2  # never offered again
    steps = await sync_to_async(history)(created["callbackId"])
    assert steps == [
        "requested",
        "scheduled",
        "offered",
        "inProgress",
        "retryScheduled",
        "offered",
        "inProgress",
        "failed",
    ]


async def test_an_agent_that_does_not_answer_loses_the_offer_to_the_next(server, sign_in):
    await make_queue("support", offer_timeout_seconds=1)
    alice = await ready_agent(sign_in, "alice")
    created = (await ask(server)).json()
    await alice.wait_for("callbackOffered")
    bob = await ready_agent(sign_in, "bob")
    await alice.wait_for("callbackOfferWithdrawn", timeout=5)
    offer = await bob.wait_for("callbackOffered", timeout=5)
    assert offer["callbackId"] == created["callbackId"]
    late = await alice.emit("acceptCallback", {"callbackId": created["callbackId"]})
    assert late["error"]["code"] == "NOT_OFFERED"


async def test_a_window_outside_hours_moves_to_the_next_opening(server):
    queue = await make_queue("support", time_zone="UTC")
    today = datetime.now(UTC).date()
    for closed in (today, today + timedelta(days=1)):  # the hour asked for may run past midnight
        await sync_to_async(ClosedDate.objects.create)(queue=queue, date=closed, reason="holiday")
    start = datetime.now(UTC) + timedelta(minutes=5)
    answer = await ask(
        server, preferredTime={"start": start.isoformat(), "end": (start + timedelta(hours=1)).isoformat()}
    )
    assert answer.status_code == 201, answer.text
    body = answer.json()
    reopens = f"{today + timedelta(days=2)}T00:00:00Z"
    assert (body["state"], body["adjusted"], body["scheduledFor"]) == ("scheduled", "outsideHours", reopens)
    assert body["window"]["start"] == reopens
    async with httpx.AsyncClient(base_url=server.url) as http:
        queues = (await http.get("/api/customer/queues")).json()["queues"]
    assert [(q["name"], q["openNow"], q["nextOpening"]) for q in queues] == [("support", False, reopens)]


async def test_outside_hours_a_joining_customer_is_told_and_no_agent_is_offered_the_chat(server, sign_in, start_chat):
    queue = await make_queue("support", time_zone="UTC")
    today = datetime.now(UTC).date()
    await sync_to_async(ClosedDate.objects.create)(queue=queue, date=today)
    alice = await ready_agent(sign_in, "alice")
    customer = await start_chat(subject="support")
    notice = await customer.wait_for("messageArrived", lambda m: m.get("activityType") == "outsideBusinessHours")
    assert notice["info"]["nextOpening"] == f"{today + timedelta(days=1)}T00:00:00Z"
    assert notice["info"]["queue"] == "support" and notice["info"]["callback"] is True
    await a_sweep_has_passed(alice.agent_id)
    assert alice.received["conversationOffered"] == []
    assert "noAgentAvailable" not in customer.activities()
    await sync_to_async(ClosedDate.objects.all().delete)()  # it opens: the waiting chat is offered
    offer = await alice.wait_for("conversationOffered")
    assert offer["conversation"]["id"] == customer.conversation_id


async def test_a_replayed_request_id_stores_one_request(server):
    await make_queue("support")
    first = await ask(server, requestId="widget-42")
    again = await ask(server, requestId="widget-42")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["callbackId"] == again.json()["callbackId"]
    assert await sync_to_async(Callback.objects.count)() == 1
    assert (await state_of(server, first.json(), key=again.json()["key"]))["callbackId"] == first.json()["callbackId"]


async def test_bad_requests_are_refused_clearly_and_the_server_stays_up(server):
    await make_queue("support")
    past = {"start": "2024-01-01T10:00:00Z", "end": "2024-01-01T11:00:00Z"}
    for fields, status, code, field in [
        ({"phone": "12"}, 400, "INVALID_PAYLOAD", "phone"),
        ({"phone": "call me maybe"}, 400, "INVALID_PAYLOAD", "phone"),
        ({"preferredTime": past}, 400, "INVALID_PAYLOAD", "preferredTime.end"),
        ({"subject": "no such queue"}, 400, "INVALID_PAYLOAD", "subject"),
    ]:
        answer = await ask(server, **fields)
        assert answer.status_code == status, answer.text
        error = answer.json()["error"]
        assert error["code"] == code and field in error["fields"], error
    assert await sync_to_async(Callback.objects.count)() == 0
    created = (await ask(server)).json()
    async with httpx.AsyncClient(base_url=server.url) as http:
        url = f"/api/customer/callback/{created['callbackId']}"
        for answer in (
            await http.get(url, headers={"X-Callback-Key": "not-the-key"}),
            await http.delete(url, headers={"X-Callback-Key": "not-the-key"}),
            await http.get("/api/customer/callback/0123456789abcdef0123456789abcdef", headers={"X-Callback-Key": "x"}),
        ):
            assert (answer.status_code, answer.json()["error"]["code"]) == (404, "CALLBACK_NOT_FOUND")
    assert (await state_of(server, created))["state"] == "scheduled"


async def test_callbacks_scheduled_before_a_restart_are_all_there_after_it(server, sign_in):
    await make_queue("support")
    soon = datetime.now(UTC) + timedelta(seconds=2)
    later = datetime.now(UTC) + timedelta(days=1)
    due = (
        await ask(server, preferredTime={"start": soon.isoformat(), "end": (soon + timedelta(hours=1)).isoformat()})
    ).json()
    tomorrow = (
        await ask(
            server,
            phone="+44 20 7946 0958",
            preferredTime={"start": later.isoformat(), "end": (later + timedelta(hours=1)).isoformat()},
        )
    ).json()
    server.restart()
    assert (await state_of(server, tomorrow))["state"] == "scheduled"
    alice = await ready_agent(sign_in, "alice")
    offer = await alice.wait_for("callbackOffered")
    assert offer["callbackId"] == due["callbackId"]
    assert (await state_of(server, due))["state"] == "offered"
    assert (await state_of(server, tomorrow))["state"] == "scheduled"
    assert [c["callbackId"] for c in alice.received["callbackOffered"]] == [due["callbackId"]]
