"""A callback as the agent sees it in the desk (Debian's Chromium through Playwright, on the real
server): offered at its time, accepted, no answer, offered again after the retry delay, completed;
the visitor's chat shows each step. Scheduling a callback from a chat in the desk."""

import re
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from asgiref.sync import sync_to_async
from playwright.async_api import expect

from callbacks.models import Callback
from routing.models import Queue
from tests.e2e.test_agent_desk import (  # noqa: F401 (browser and page are fixtures)
    ARTIFACTS,
    accept_the_offer_of,
    browser,
    get_ready,
    log_in,
    make_agent,
    page,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def callback_states(conversation_messages) -> list[str]:
    return [m["info"]["state"] for m in conversation_messages if m.get("activityType") == "callbackState"]


async def test_a_callback_is_offered_at_its_time_called_retried_and_completed_in_the_desk(page, server, start_chat):  # noqa: F811
    await sync_to_async(Queue.objects.create)(name="support", callback_retry_delay_seconds=2, callback_max_attempts=3)
    await sync_to_async(Queue.objects.create)(name="sales")  # the chat waits here, offered to nobody
    await make_agent("alice", name="Alice Smith", queues=("support",))
    customer = await start_chat(subject="sales")
    assert (await customer.say("Can someone phone me about my invoice?"))["ok"]

    await log_in(page, "alice")
    await get_ready(page)
    start = datetime.now(UTC) + timedelta(seconds=3)
    async with httpx.AsyncClient(base_url=server.url) as http:
        answer = await http.post(
            "/api/customer/callback",
            json={
                "firstName": "Kashif",
                "lastName": "Awan",
                "phone": "+49 30 901820",
                "subject": "support",
                "comment": "Invoice 2026-118 is charged twice <b>please</b>",
                "conversationId": customer.conversation_id,
                "preferredTime": {
                    "start": start.isoformat(),
                    "end": (start + timedelta(hours=1)).isoformat(),
                    "timeZone": "Europe/Berlin",
                },
            },
        )
    assert answer.status_code == 201, answer.text
    created = answer.json()
    assert created["state"] == "scheduled"
    offers = page.get_by_test_id("callback-offer")
    await expect(offers).to_have_count(0)  # not before its time
    await customer.wait_for("messageArrived", lambda m: m.get("activityType") == "callbackState")

    await expect(offers).to_have_count(1, timeout=10000)
    await expect(offers).to_contain_text("Kashif Awan")
    await offers.get_by_test_id("accept-callback").click()
    task = page.get_by_test_id("callback-task")
    await expect(task).to_be_visible()
    await expect(task.get_by_test_id("callback-phone")).to_have_attribute("href", "tel:+4930901820")
    await expect(task.get_by_test_id("callback-phone")).to_have_text("+49 30 901820")
    await expect(task.get_by_test_id("callback-comment")).to_have_text(
        "Invoice 2026-118 is charged twice <b>please</b>"
    )
    await expect(task.get_by_test_id("callback-window")).to_contain_text("Europe/Berlin")
    await expect(task.get_by_test_id("callback-transcript")).to_contain_text("Can someone phone me about my invoice?")
    await expect(page.get_by_test_id("chat")).to_have_count(0)  # a callback is not a chat
    await customer.wait_for("messageArrived", lambda m: m.get("info", {}).get("state") == "inProgress")

    await task.get_by_label("No answer").check()
    await task.get_by_test_id("callback-note").fill("Rang 8 times, voicemail")
    await task.get_by_test_id("save-outcome").click()
    await expect(task).to_have_count(0)
    await expect(page.get_by_test_id("notice")).to_contain_text("Retry scheduled")
    retry = await customer.wait_for("messageArrived", lambda m: m.get("info", {}).get("state") == "retryScheduled")
    assert retry["info"]["callbackId"] == created["callbackId"]

    await expect(offers).to_have_count(1, timeout=10000)  # after the queue's retry delay
    await expect(offers).to_contain_text("attempt 2")
    await offers.get_by_test_id("accept-callback").click()
    await expect(task.get_by_test_id("callback-attempts")).to_contain_text("No answer by Alice Smith")
    await expect(task.get_by_test_id("callback-attempts")).to_contain_text("Rang 8 times, voicemail")
    await expect(task.get_by_test_id("callback-attempt-count")).to_have_text("1 of at most 3")
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=ARTIFACTS / "desk-callback-task.png")

    await task.get_by_label("Completed").check()
    await task.get_by_test_id("save-outcome").click()
    await expect(page.get_by_test_id("notice")).to_contain_text("Completed")
    await customer.wait_for("messageArrived", lambda m: m.get("info", {}).get("state") == "completed")
    callback = await sync_to_async(Callback.objects.get)()
    assert (callback.state, callback.attempts) == ("completed", 2)
    steps = await sync_to_async(lambda: list(callback.events.order_by("pk").values_list("to_state", "actor")))()
    assert steps == [
        ("requested", "customer"),
        ("scheduled", "system"),
        ("offered", "system"),
        ("inProgress", "agent"),
        ("retryScheduled", "agent"),
        ("offered", "system"),
        ("inProgress", "agent"),
        ("completed", "agent"),
    ]
    told = callback_states(customer.received["messageArrived"])
    assert told == ["scheduled", "inProgress", "retryScheduled", "inProgress", "completed"]


async def test_an_agent_schedules_a_callback_from_a_chat(page, server, start_chat):  # noqa: F811
    await make_agent("alice", name="Alice Smith")
    await log_in(page, "alice")
    await get_ready(page)
    customer = await start_chat()
    await accept_the_offer_of(page, "Kashif")
    chat = page.get_by_test_id("chat")
    await chat.get_by_test_id("schedule-callback").click()
    dialog = page.get_by_test_id("callback-dialog")
    await expect(dialog.get_by_test_id("callback-dialog-phone")).to_have_value("+1343122554")
    await dialog.get_by_test_id("callback-dialog-phone").fill("+44 20 7946 0958")
    tomorrow = (datetime.now() + timedelta(days=1)).replace(hour=10, minute=0, second=0, microsecond=0)
    await dialog.get_by_test_id("callback-dialog-at").fill(tomorrow.strftime("%Y-%m-%dT%H:%M"))
    await dialog.get_by_test_id("callback-dialog-confirm").click()
    await expect(page.get_by_test_id("notice")).to_contain_text(re.compile(r"Callback scheduled for .*\+442079460958"))
    callback = await sync_to_async(Callback.objects.select_related("scheduled_by__user").get)()
    assert (callback.conversation_id, callback.phone, callback.state) == (
        customer.conversation_id,
        "+442079460958",
        "scheduled",
    )
    assert callback.scheduled_by.user.username == "alice"
    told = await customer.wait_for("messageArrived", lambda m: m.get("activityType") == "callbackState")
    assert told["info"]["state"] == "scheduled"
