"""What the agent sees in the desk (Debian's Chromium, through Playwright) when a reply to an
SMS customer is delivered, is not delivered, or cannot be sent because the customer opted out."""

import pytest
from asgiref.sync import sync_to_async
from playwright.async_api import expect

from agents.services import agent_create
from tests.browser import ARTIFACTS, debian_chromium
from tests.connectors.conftest import PASSWORD, post_twilio
from tests.connectors.helpers import eventually
from tests.connectors.test_twilio_sms import CUSTOMER, INBOUND, sms, status_callback

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
async def desk_page(connectors_server):
    async with debian_chromium() as browser:
        context = await browser.new_context(base_url=connectors_server.url, viewport={"width": 1280, "height": 760})
        page = await context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        yield page
        assert not errors, errors


async def test_the_agent_sees_which_sms_replies_were_delivered_and_which_were_not(
    connectors_server, desk_page, fake_twilio
):
    page = desk_page
    await sync_to_async(agent_create)(username="alice", password=PASSWORD, queues=["default"], name="Alice Smith")
    await page.goto("/agent/login/?next=/agent/")
    await page.get_by_label("Username").fill("alice")
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_test_id("login").click()
    await expect(page.get_by_test_id("connection")).to_have_attribute("data-status", "connected")
    await page.get_by_test_id("ready-toggle").click()
    await expect(page.get_by_test_id("ready-toggle")).to_have_attribute("data-state", "ready")

    assert (await post_twilio(connectors_server, INBOUND, sms("My bill is wrong", "SMdesk01"))).status_code == 200
    offer = page.get_by_test_id("offer")
    await offer.get_by_test_id("accept").click()
    chat = page.get_by_test_id("chat")
    messages = chat.get_by_test_id("message")
    await expect(messages).to_contain_text(["My bill is wrong"])
    composer = chat.get_by_test_id("composer")

    await composer.fill("I have corrected it; you will get a new bill.")
    await composer.press("Enter")
    [first] = await eventually(lambda: fake_twilio.sent_to(CUSTOMER))
    await expect(messages.last.get_by_test_id("delivery")).to_have_text("Sent")
    await status_callback(connectors_server, first["sid"], "delivered")
    await expect(messages.last.get_by_test_id("delivery")).to_have_text("Delivered")

    await composer.fill("Anything else I can do?")
    await composer.press("Enter")
    second = (await eventually(lambda: fake_twilio.sent_to(CUSTOMER), lambda sent: len(sent) == 2))[1]
    await status_callback(connectors_server, second["sid"], "undelivered", ErrorCode="30005")
    await expect(messages.last.get_by_test_id("delivery")).to_have_text("Not delivered (Unknown destination handset.)")
    await expect(messages.last.get_by_test_id("delivery")).to_have_attribute("data-status", "undelivered")
    failed = chat.locator('[data-testid="activity"][data-activity-type="deliveryFailed"]')
    await expect(failed).to_contain_text(
        "Not delivered: a reply did not reach the customer (Unknown destination handset.)"
    )
    await expect(messages.nth(1).get_by_test_id("delivery")).to_have_text("Delivered")  # still

    assert (await post_twilio(connectors_server, INBOUND, sms("STOP", "SMdesk02"))).status_code == 200
    await expect(chat.locator('[data-activity-type="optedOut"]')).to_contain_text("The customer opted out (STOP)")
    await composer.fill("Understood.")
    await composer.press("Enter")
    await expect(messages.last.get_by_test_id("delivery")).to_have_text("Not sent: the customer opted out")
    assert len(fake_twilio.sent_to(CUSTOMER)) == 2

    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=ARTIFACTS / "sms-delivery.png")
