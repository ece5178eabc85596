"""The widget's side of web callbacks and business hours, in Debian's Chromium on a host page of
another origin against the real server: a closed queue shows its hours and a callback form, the
visitor asks to be called, sees it scheduled, reloads, cancels; a chat with nobody free offers a
callback and shows its state as the agent calls. Screenshots go to tests/e2e/artifacts/."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from asgiref.sync import sync_to_async
from playwright.async_api import expect

from callbacks.models import Callback
from routing.models import OpeningHours, Queue
from tests.browser import wait_until
from tests.e2e import test_widget
from tests.e2e.test_callbacks import listen_for_callbacks
from tests.e2e.test_widget import AXE, allow, events, host_page, run_axe, screenshot

# The browser, the host site and the page with its error check: test_widget.py's fixtures.
browser = test_widget.browser
new_page = test_widget.new_page
shop = test_widget.shop

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = "America/New_York"
WIDGET_EVENTS_PLUS = "ChatWidget.on('callbackRequested', (d) => __events.push({event: 'callbackRequested', ...d}))"


async def closed_queue(name: str = "billing") -> tuple[Queue, datetime]:
    """A queue in Berlin open only tomorrow and the day after (Berlin's days): closed now, whatever
    the hour. Returns it and when it opens next."""
    tomorrow = datetime.now(BERLIN).date() + timedelta(days=1)

    def make():
        queue = Queue.objects.create(name=name, time_zone="Europe/Berlin")
        OpeningHours.objects.create(queue=queue, weekday=tomorrow.weekday(), opens=time(9), closes=time(17))
        after = (tomorrow + timedelta(days=1)).weekday()
        OpeningHours.objects.create(queue=queue, weekday=after, opens=time(9), closes=time(12))
        OpeningHours.objects.create(queue=queue, weekday=after, opens=time(13), closes=time(17))
        return queue

    opens = datetime.combine(tomorrow, time(9), tzinfo=BERLIN)
    return await sync_to_async(make)(), opens


def us_clock(moment: datetime) -> str:
    """How Chromium's Intl writes a time in English with hour and minute: 03:00 AM."""
    return moment.astimezone(ZoneInfo(NEW_YORK)).strftime("%I:%M %p")


async def open_widget(page, url: str, language: str = ""):
    await page.goto(url)
    await wait_until(page, "window.__events && __events.some((e) => e.event === 'ready')")
    await page.evaluate(WIDGET_EVENTS_PLUS)
    if language:
        await page.evaluate(f"ChatWidget.setLanguage('{language}')")
    await page.get_by_test_id("launcher").click()


def callbacks() -> list[Callback]:
    return list(Callback.objects.order_by("created_at"))


async def test_outside_hours_the_widget_shows_the_hours_and_a_visitor_asks_for_a_callback_and_cancels_it(
    new_page, browser, server, shop
):
    queue, opens = await closed_queue()
    await allow(shop.origin)
    shop.pages["/closed"] = host_page(server.url, subject="billing")
    context = await browser.new_context(viewport={"width": 1280, "height": 860}, timezone_id=NEW_YORK)
    try:
        page = await new_page(context=context)
        state_reads = []
        page.on(
            "request",
            lambda r: (
                "/api/customer/callback/" in r.url and state_reads.append((r.method, r.headers.get("x-callback-key")))
            ),
        )
        await open_widget(page, shop.url("/closed"))

        # Closed: the hours and the callback form, not the chat form.
        await expect(page.get_by_test_id("callback-form")).to_be_visible()
        await expect(page.get_by_test_id("prechat")).to_be_hidden()
        await expect(page.get_by_test_id("field-cb-name")).to_be_focused()  # keyboard users start in the form
        hours = page.get_by_test_id("hours")
        await expect(hours).to_contain_text("We are closed right now.")
        next_opening = page.get_by_test_id("next-opening")
        await expect(next_opening).to_contain_text(f"We open again on {opens.strftime('%a')}")
        await expect(next_opening).to_contain_text(us_clock(opens) + " (your time)")
        await expect(next_opening).to_contain_text("09:00 AM in Europe/Berlin")
        summary = hours.locator("summary")
        await expect(summary).to_have_text("Opening hours (Europe/Berlin time)")
        await expect(hours.locator("table")).to_be_hidden()  # folded, so that the form fits
        await summary.focus()
        await page.keyboard.press("Enter")
        await expect(hours.locator("table")).to_be_visible()
        rows = hours.locator("tr")
        await expect(rows).to_have_count(7)
        tomorrow_row = rows.nth(opens.weekday())
        await expect(tomorrow_row.locator("th")).to_have_text(opens.strftime("%A"))
        await expect(tomorrow_row).to_contain_text("09:00 AM–05:00 PM")
        closes = opens.replace(hour=17)
        await expect(tomorrow_row).to_contain_text(
            f"your time: {opens.astimezone(ZoneInfo(NEW_YORK)):%a} {us_clock(opens)}–{us_clock(closes)}"
        )
        after_row = rows.nth((opens.weekday() + 1) % 7)
        await expect(after_row.locator(".range")).to_have_text(["09:00 AM–12:00 PM", "01:00 PM–05:00 PM"])
        await expect(rows.nth((opens.weekday() + 2) % 7).locator("td")).to_have_text("Closed")
        await screenshot(page, "widget-callback-hours.png")
        await summary.click()

        # A number the server cannot read: its error names the field, nothing is stored.
        await page.get_by_test_id("field-cb-name").fill("Kashif Awan")
        await page.get_by_test_id("field-cb-phone").fill("12")
        await page.get_by_test_id("field-cb-comment").fill("About invoice 2026-118")
        await screenshot(page, "widget-callback-form.png")
        await page.get_by_test_id("field-cb-phone").press("Enter")
        error = page.get_by_test_id("callback-error")
        await expect(error).to_contain_text("Phone (required): is not")
        await expect(page.get_by_test_id("field-cb-phone")).to_have_attribute("aria-invalid", "true")
        await expect(page.get_by_test_id("field-cb-phone")).to_be_focused()
        assert await sync_to_async(callbacks)() == []

        # A good one, as soon as possible: moved to the next opening, shown in the visitor's time.
        await page.get_by_test_id("field-cb-phone").fill("+49 30 901820")
        await page.get_by_test_id("callback-submit").click()
        status = page.get_by_test_id("callback-status")
        await expect(status).to_have_attribute("data-state", "scheduled")
        await expect(status).to_have_attribute("aria-live", "polite")
        await expect(status).to_contain_text(f"We will call you on +4930901820 at {opens.strftime('%a')}")
        await expect(status).to_contain_text(us_clock(opens))
        await expect(page.get_by_test_id("callback-note")).to_contain_text("moved the call to our next opening")
        await expect(page.get_by_test_id("callback-form")).to_be_hidden()
        await expect(page.get_by_test_id("callback-cancel")).to_be_visible()
        (stored,) = await sync_to_async(callbacks)()
        assert (stored.phone, stored.first_name, stored.last_name, stored.comment, stored.state) == (
            "+4930901820",
            "Kashif",
            "Awan",
            "About invoice 2026-118",
            "scheduled",
        )
        assert (stored.queue_id, stored.language, stored.adjusted, stored.conversation_id) == (
            queue.pk,
            "en",
            "outsideHours",
            None,
        )
        assert stored.scheduled_for == opens
        assert await status.get_attribute("data-scheduled-for") == opens.astimezone(ZoneInfo("UTC")).strftime(
            "%Y-%m-%dT%H:%M:%SZ"
        )
        requested = await events(page, "callbackRequested")
        assert [(e["callbackId"], e["state"]) for e in requested] == [(stored.pk, "scheduled")]
        kept = await page.evaluate("Object.values(localStorage).map(JSON.parse).find((s) => s.callback).callback")
        assert kept["id"] == stored.pk and len(kept["key"]) > 40
        await screenshot(page, "widget-callback-scheduled.png")

        # A reload reads its state with the key and shows the same.
        await sync_to_async(Callback.objects.filter(pk=stored.pk).update)(state="retryScheduled")
        await page.reload()
        await wait_until(page, "window.__events && __events.some((e) => e.event === 'ready')")
        await page.get_by_test_id("launcher").click()
        await expect(status).to_have_attribute("data-state", "retryScheduled")
        await expect(status).to_contain_text("We could not reach you. We will try again")
        assert ("GET", kept["key"]) in state_reads

        # Cancelled with the key; then a new one may be asked for.
        await page.get_by_test_id("callback-cancel").click()
        await expect(status).to_have_text("Your callback is cancelled.")
        assert ("DELETE", kept["key"]) in state_reads
        await stored.arefresh_from_db()
        assert stored.state == "cancelled"
        await expect(page.get_by_test_id("callback-cancel")).to_be_hidden()
        await page.get_by_test_id("callback-again").click()
        await expect(page.get_by_test_id("callback-form")).to_be_visible()
        assert await sync_to_async(Callback.objects.count)() == 1
    finally:
        await context.close()


async def test_arabic_on_a_phone_the_callback_form_is_right_to_left_and_accessible(new_page, server, shop):
    if not AXE.exists():
        pytest.fail("node_modules/axe-core is missing: `make test` installs it with npm ci")
    await closed_queue()
    await allow(shop.origin)
    shop.pages["/closed-ar"] = host_page(server.url, subject="billing")
    page = await new_page(width=375, height=740)
    await open_widget(page, shop.url("/closed-ar"), language="ar")
    panel = page.get_by_test_id("panel")
    await expect(panel).to_have_attribute("dir", "rtl")
    form = page.get_by_test_id("callback-form")
    await expect(form).to_be_visible()
    await expect(page.get_by_test_id("hours")).to_contain_text("نحن مغلقون الآن.")
    await expect(page.get_by_test_id("callback-submit")).to_have_text("اتصلوا بي")
    assert await panel.bounding_box() == {"x": 0, "y": 0, "width": 375, "height": 740}
    # Nothing wider than the phone; right to left, the labels start at the right edge.
    body = page.locator("chat-widget").locator(".body")
    assert await body.evaluate("(b) => b.scrollWidth <= b.clientWidth")
    phone_box = await page.get_by_test_id("field-cb-phone").bounding_box()
    assert phone_box["x"] + phone_box["width"] <= 375 - 10, phone_box
    caption = await page.get_by_text("الهاتف (مطلوب)").bounding_box()
    assert caption["x"] + caption["width"] > 300, caption
    await page.get_by_test_id("cb-later").check()  # the window fields too
    await expect(page.get_by_test_id("field-cb-start")).to_be_visible()
    assert await run_axe(page) == []
    await screenshot(page, "widget-callback-form-arabic-phone.png")

    await page.get_by_test_id("cb-asap").check()
    await expect(page.get_by_test_id("field-cb-start")).to_be_hidden()
    await page.get_by_test_id("field-cb-name").fill("كاشف")
    await page.get_by_test_id("field-cb-phone").fill("+966 55 123 4567")
    await page.get_by_test_id("callback-submit").click()
    status = page.get_by_test_id("callback-status")
    await expect(status).to_have_attribute("data-state", "scheduled")
    await expect(status).to_contain_text("سنتصل بك على +966551234567")
    await expect(status).to_be_focused()
    assert await run_axe(page) == []
    await screenshot(page, "widget-callback-scheduled-arabic-phone.png")
    (stored,) = await sync_to_async(callbacks)()
    assert (stored.phone, stored.language, stored.first_name) == ("+966551234567", "ar", "كاشف")


async def test_in_a_chat_with_nobody_free_the_visitor_asks_for_a_callback_and_sees_the_agent_call(
    new_page, server, shop, sign_in
):
    await sync_to_async(Queue.objects.create)(name="support")
    await allow(shop.origin)
    shop.pages["/chat"] = host_page(server.url, subject="support")
    page = await new_page(width=1280, height=860)
    await open_widget(page, shop.url("/chat"))
    await expect(page.get_by_test_id("callback-form")).to_be_hidden()  # open: the chat form
    await page.get_by_label("Your name").fill("Kashif Awan")
    await page.get_by_label("Email").fill("kashif@example.com")
    await page.get_by_test_id("start").click()
    log = page.get_by_test_id("log")
    no_agent = log.locator('[data-activity-type="noAgentAvailable"]')
    await expect(no_agent).to_contain_text("No agent is available right now")
    started = await events(page, "conversationStarted")
    conversation_id = started[0]["conversationId"]

    # What happens next: keep waiting, or be called back.
    await no_agent.get_by_test_id("offer-callback").click()
    await expect(page.get_by_test_id("callback-form")).to_be_visible()
    await expect(page.get_by_test_id("hours")).to_be_hidden()  # open, so no hours to show
    await expect(page.get_by_test_id("field-cb-name")).to_have_value("Kashif")
    await expect(page.get_by_test_id("field-cb-phone")).to_be_focused()
    await page.get_by_test_id("field-cb-phone").fill("+49 30 901821")
    await page.get_by_test_id("callback-submit").click()
    status = page.get_by_test_id("callback-status")
    await expect(status).to_have_attribute("data-state", "scheduled")
    (stored,) = await sync_to_async(callbacks)()
    assert (stored.conversation_id, stored.phone, stored.email) == (
        conversation_id,
        "+4930901821",
        "kashif@example.com",
    )

    # The agent calls: the chat says so, and so does the callback's view.
    alice = listen_for_callbacks(await sign_in("alice", queues=("support",)))
    assert (await alice.emit("agentState", {"state": "ready"}))["ok"]
    offer = await alice.wait_for("callbackOffered")
    assert offer["callbackId"] == stored.pk
    assert (await alice.emit("acceptCallback", {"callbackId": stored.pk}))["ok"]
    await expect(status).to_have_attribute("data-state", "inProgress")
    await expect(status).to_have_text("We are calling you now on +4930901821.")
    await page.get_by_test_id("callback-back").click()
    await expect(page.get_by_test_id("composer")).to_be_focused()
    states = log.locator('[data-activity-type="callbackState"]')
    await expect(states.last).to_have_text("We are calling you now.")
    done = await alice.emit("callbackOutcome", {"callbackId": stored.pk, "outcome": "completed"})
    assert done["ok"], done
    await expect(states.last).to_have_text("Your callback is done. Thank you!")
    await expect(states.first).to_contain_text("Callback scheduled for ")
    await screenshot(page, "widget-callback-in-chat.png")


async def test_a_chat_started_in_a_closed_queue_turns_to_the_callback_form(new_page, server, shop):
    await closed_queue()
    await allow(shop.origin)
    shop.pages["/late"] = host_page(server.url, subject="billing")
    page = await new_page()
    await open_widget(page, shop.url("/late"))
    await expect(page.get_by_test_id("callback-form")).to_be_visible()
    await page.get_by_test_id("callback-back").click()  # "write to us instead"
    await page.get_by_label("Your name").fill("Kashif")
    await page.get_by_label("Email").fill("kashif@example.com")
    await page.get_by_test_id("start").click()
    # The outsideBusinessHours activity: the widget shows the hours and the form, not a wait.
    await expect(page.get_by_test_id("callback-form")).to_be_visible()
    await expect(page.get_by_test_id("next-opening")).to_contain_text("We open again on")
    await expect(page.get_by_test_id("hours").locator("tr")).to_have_count(7)
    await page.get_by_test_id("callback-back").click()
    closed = page.get_by_test_id("log").locator('[data-activity-type="outsideBusinessHours"]')
    await expect(closed).to_contain_text("We are closed right now.")
    await closed.get_by_test_id("offer-callback").click()
    await page.get_by_test_id("field-cb-phone").fill("+49 30 901822")
    await page.get_by_test_id("callback-submit").click()
    await expect(page.get_by_test_id("callback-status")).to_have_attribute("data-state", "scheduled")
    (stored,) = await sync_to_async(callbacks)()
    started = await events(page, "conversationStarted")
    assert (stored.conversation_id, stored.adjusted) == (started[0]["conversationId"], "outsideHours")


async def test_a_full_slot_offers_the_next_free_one_and_too_many_requests_are_refused_clearly(
    new_page, browser, server, shop
):
    await sync_to_async(Queue.objects.create)(name="support", callbacks_per_slot=1)
    await allow(shop.origin)
    shop.pages["/slots"] = host_page(server.url, subject="support")
    start = datetime.now(UTC).replace(hour=10, minute=0, second=0, microsecond=0) + timedelta(days=1)
    window = {"start": start.isoformat(), "end": (start + timedelta(minutes=30)).isoformat()}
    async with httpx.AsyncClient(base_url=server.url) as http:
        taken = await http.post(
            "/api/customer/callback",
            json={"firstName": "Ana", "phone": "+49 30 901830", "subject": "support", "preferredTime": window},
        )
        assert taken.status_code == 201, taken.text

    context = await browser.new_context(viewport={"width": 1280, "height": 860}, timezone_id="UTC")
    try:
        page = await new_page(context=context)
        await open_widget(page, shop.url("/slots"))
        # The queue is open, so the chat form; with nobody free, the callback is asked for from the chat.
        await expect(page.get_by_test_id("prechat")).to_be_visible()
        await page.get_by_label("Your name").fill("Kashif")
        await page.get_by_label("Email").fill("kashif@example.com")
        await page.get_by_test_id("start").click()
        await page.get_by_test_id("offer-callback").click()
        await page.get_by_test_id("field-cb-phone").fill("+49 30 901831")
        await page.get_by_test_id("cb-later").check()
        await page.get_by_test_id("field-cb-start").fill(start.strftime("%Y-%m-%dT%H:%M"))
        await page.get_by_test_id("field-cb-end").fill((start + timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M"))
        await page.get_by_test_id("callback-submit").click()
        error = page.get_by_test_id("callback-error")
        await expect(error).to_contain_text("That time is fully booked. The next free time is")
        free = start + timedelta(minutes=30)
        await expect(page.get_by_test_id("field-cb-start")).to_have_value(free.strftime("%Y-%m-%dT%H:%M"))
        await expect(page.get_by_test_id("field-cb-start")).to_be_focused()
        assert await sync_to_async(Callback.objects.filter(phone="+4930901831").count)() == 0
        await page.get_by_test_id("callback-submit").click()
        status = page.get_by_test_id("callback-status")
        await expect(status).to_have_attribute("data-state", "scheduled")
        stored = await sync_to_async(Callback.objects.get)(phone="+4930901831")
        assert (stored.scheduled_for, stored.window_start, stored.time_zone) == (free, free, "UTC")
    finally:
        await context.close()

    # Three requests for one number today (each cancelled): the widget's fourth is refused, clearly.
    async with httpx.AsyncClient(base_url=server.url) as http:
        for _ in range(3):
            made = await http.post(
                "/api/customer/callback", json={"firstName": "Eve", "phone": "+49 30 901832", "subject": "support"}
            )
            assert made.status_code == 201, made.text
            gone = await http.delete(
                f"/api/customer/callback/{made.json()['callbackId']}", headers={"X-Callback-Key": made.json()["key"]}
            )
            assert gone.status_code == 200, gone.text
    page = await new_page()
    await open_widget(page, shop.url("/slots"))
    await page.get_by_label("Your name").fill("Eve")
    await page.get_by_label("Email").fill("eve@example.com")
    await page.get_by_test_id("start").click()
    await page.get_by_test_id("offer-callback").click()
    await page.get_by_test_id("field-cb-phone").fill("+49 30 901832")
    await page.get_by_test_id("callback-submit").click()
    await expect(page.get_by_test_id("callback-error")).to_have_text(
        "Too many callbacks were asked for from here or for this number. Please try again later."
    )
    await expect(page.get_by_test_id("field-cb-phone")).to_have_attribute("aria-invalid", "true")
    assert await sync_to_async(Callback.objects.filter(phone="+4930901832").count)() == 3
