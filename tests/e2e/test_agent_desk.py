"""The agent desk as an agent sees it: Debian's Chromium, driven by Playwright, on the real server;
the customers are the python-socketio clients of tests/e2e/people.py."""

import re

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth import get_user_model
from playwright.async_api import Page, expect

from agents.services import agent_create
from tests.browser import ARTIFACTS, debian_chromium
from tests.e2e.conftest import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
async def browser():
    async with debian_chromium() as chromium:
        yield chromium


@pytest.fixture
async def page(browser, server):
    context = await browser.new_context(base_url=server.url, viewport={"width": 1280, "height": 760})
    page = await context.new_page()
    await page.clock.install()  # lets a test move the page's timers on instead of waiting for them
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    await context.close()
    assert not errors, errors


async def make_agent(username: str, *, name: str, queues=("default",)):
    return await sync_to_async(agent_create)(username=username, password=PASSWORD, queues=list(queues), name=name)


async def log_in(page: Page, username: str) -> None:
    await page.goto("/agent/login/?next=/agent/")
    await page.get_by_label("Username").fill(username)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_test_id("login").click()


async def get_ready(page: Page) -> None:
    await expect(page.get_by_test_id("connection")).to_have_attribute("data-status", "connected")
    toggle = page.get_by_test_id("ready-toggle")
    await expect(toggle).to_have_attribute("data-state", "notReady")
    await toggle.click()
    await expect(toggle).to_have_attribute("data-state", "ready")
    await expect(toggle).to_have_text("Ready")


async def accept_the_offer_of(page: Page, customer_name: str) -> None:
    offer = page.get_by_test_id("offer")
    await expect(offer).to_contain_text(customer_name)
    await expect(offer.get_by_test_id("time-left")).to_have_text(re.compile(r"^\d+ s left$"))
    await offer.get_by_test_id("accept").click()
    await expect(offer).to_have_count(0)
    await expect(page.get_by_test_id("tab")).to_have_text([customer_name])


async def test_an_agent_takes_a_chat_in_the_desk_and_talks_with_the_customer(page, start_chat):
    await make_agent("alice", name="Alice Smith")
    await log_in(page, "alice")
    await expect(page).to_have_url(re.compile(r"/agent/$"))
    await expect(page.get_by_test_id("agent-name")).to_have_text("Alice Smith")
    await get_ready(page)

    customer = await start_chat()
    await accept_the_offer_of(page, "Kashif")
    joined = await customer.wait_for("messageArrived", lambda m: m.get("activityType") == "participantJoined")
    assert joined["info"]["participant"]["name"] == "Alice Smith"
    chat = page.get_by_test_id("chat")
    messages = chat.get_by_test_id("message")
    composer = chat.get_by_test_id("composer")

    assert (await customer.say("Hello, my ADSL line is down"))["ok"]
    await expect(messages).to_contain_text(["Hello, my ADSL line is down"])
    await expect(messages.last).to_have_attribute("data-role", "customer")

    await composer.press_sequentially("Sorry to hear that, let me check.")
    await customer.wait_for("messageArrived", lambda m: m.get("activityType") == "typing")
    await chat.get_by_test_id("send").click()
    reply = await customer.wait_for_text("Sorry to hear that, let me check.")
    assert (reply["from"]["name"], reply["tag"]) == ("Alice Smith", "")
    await expect(composer).to_have_value("")

    await chat.get_by_test_id("whisper").check()
    await composer.fill("Supervisor: third outage this month")
    await composer.press("Enter")
    await expect(messages.last).to_have_attribute("data-tag", "whisper")
    await chat.get_by_test_id("whisper").uncheck()
    await composer.fill("I am resetting your line now.")
    await composer.press("Enter")
    await customer.wait_for_text("I am resetting your line now.")
    assert customer.texts() == ["Sorry to hear that, let me check.", "I am resetting your line now."]
    await expect(messages).to_contain_text(
        [
            "Hello, my ADSL line is down",
            "Sorry to hear that, let me check.",
            "Supervisor: third outage this month",
            "I am resetting your line now.",
        ]
    )
    await expect(chat.locator('[data-testid="message"][data-tag="whisper"]')).to_have_count(1)

    typing = chat.get_by_test_id("typing")
    await expect(typing).to_be_hidden()
    assert (await customer.emit("sendMessage", typing_of(customer)))["ok"]
    await expect(typing).to_have_text("Kashif is typing…")
    ARTIFACTS.mkdir(exist_ok=True)
    screenshot = ARTIFACTS / "agent-desk.png"
    await page.screenshot(path=screenshot)
    print(f"agent desk screenshot: {screenshot}")
    await page.clock.fast_forward(3100)
    await expect(typing).to_be_hidden()

    assert (await customer.emit("sendMessage", typing_of(customer)))["ok"]
    await expect(typing).to_be_visible()
    assert (await customer.say("Thanks, it works again"))["ok"]
    await expect(typing).to_be_hidden()
    await expect(messages.last).to_contain_text("Thanks, it works again")

    end = chat.get_by_test_id("end")
    await end.click()
    await end.click()  # the second click confirms
    await customer.wait_for("messageArrived", lambda m: m.get("activityType") == "endOfConversation")
    await expect(chat.get_by_test_id("banner")).to_have_text("This conversation has ended.")
    await expect(composer).to_be_disabled()
    await expect(chat.get_by_test_id("send")).to_be_disabled()


def typing_of(customer) -> dict:
    return {"conversationId": customer.conversation_id, "type": "ActivityMessage", "activityType": "typing"}


async def test_an_agent_transfers_a_chat_to_a_queue_picked_in_the_desk(page, start_chat, sign_in):
    await make_agent("alice", name="Alice Smith")
    billing = await sign_in("bob", queues=("billing",))
    assert (await billing.emit("agentState", {"state": "ready"}))["ok"]
    await log_in(page, "alice")
    await get_ready(page)
    customer = await start_chat()
    await accept_the_offer_of(page, "Kashif")

    chat = page.get_by_test_id("chat")
    await chat.get_by_test_id("transfer").click()
    picker = page.get_by_test_id("picker")
    await expect(picker).to_be_visible()
    await expect(picker.get_by_test_id("picker-target").locator("option")).to_contain_text(
        ["billing (0 waiting)", "default (0 waiting)", "Bob (ready, 0/3)"]
    )
    await picker.get_by_test_id("picker-target").select_option("queue:billing")
    await picker.get_by_test_id("picker-confirm").click()

    offer = await billing.wait_for("conversationOffered")
    assert (offer["conversation"]["id"], offer["queue"]) == (customer.conversation_id, "billing")
    await expect(chat.get_by_test_id("banner")).to_have_text("You are no longer in this conversation.")
    await expect(chat.get_by_test_id("composer")).to_be_disabled()
    await customer.wait_for("messageArrived", lambda m: m.get("activityType") == "handOff")


async def test_the_desk_sends_a_visitor_who_is_not_logged_in_to_the_login_page(page, server):
    await page.goto("/agent/")
    await expect(page).to_have_url(f"{server.url}/agent/login/?next=/agent/")
    await expect(page.get_by_test_id("login-form")).to_be_visible()

    await make_agent("alice", name="Alice Smith")
    await page.get_by_label("Username").fill("alice")
    await page.get_by_label("Password").fill("not the password")
    await page.get_by_test_id("login").click()
    await expect(page.get_by_test_id("login-errors")).to_contain_text("Please enter a correct username and password")
    await expect(page).to_have_url(re.compile(r"/agent/login/"))


async def test_a_user_who_is_not_an_agent_is_refused_the_desk_with_a_clear_page(page, server):
    await sync_to_async(get_user_model().objects.create_user)(username="carol", password=PASSWORD)
    async with page.expect_response(f"{server.url}/agent/") as desk:
        await log_in(page, "carol")
    assert (await desk.value).status == 403
    refusal = page.get_by_test_id("not-an-agent")
    await expect(refusal).to_contain_text("You are not an agent")
    await expect(refusal).to_contain_text("carol")
    await expect(page.get_by_test_id("ready-toggle")).to_have_count(0)
