"""The first ten minutes, as a new user has them in a browser (Debian's Chromium, Playwright):
the landing page, the set-up page creating the first operator, the demo link, and admin's
page of a real conversation. Screenshots go to tests/e2e/artifacts/ for a person to look at."""

import re
import shutil
import subprocess

import httpx
import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth import get_user_model
from playwright.async_api import Page, expect

from agents.models import AgentProfile
from conversations.models import Conversation
from tests.e2e.test_agent_desk import ARTIFACTS, browser  # noqa: F401 (the module's Chromium fixture)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSPHRASE = "first operator passphrase"


async def shoot(page: Page, name: str, *, full_page: bool = True) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    await page.screenshot(path=path, full_page=full_page)
    print(f"screenshot: {path}")


async def fits_its_width(page: Page) -> bool:
    return await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.fixture
async def context(browser, server):  # noqa: F811
    context = await browser.new_context(base_url=server.url, viewport={"width": 1280, "height": 800})
    yield context
    await context.close()


async def test_a_new_user_finds_the_links_sets_up_the_first_operator_and_lands_in_admin(context, server):
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    await page.goto("/")
    status = page.get_by_test_id("operator-status")
    await expect(status).to_have_attribute("data-operator", "no")
    await expect(status).to_contain_text("No operator account yet")
    links = page.get_by_test_id("link")
    await expect(links).to_have_text(["Demo chat", "Agent desk", "Admin", "REST API", "Socket.IO API", "Protocol docs"])
    for name, path in [("Demo chat", "/demo/"), ("Agent desk", "/agent/"), ("Admin", "/admin/")]:
        await expect(page.get_by_role("link", name=name, exact=True)).to_have_attribute("href", path)
    await expect(page.get_by_role("link", name="REST API")).to_have_attribute("href", "/api/docs")
    assert await fits_its_width(page)
    await shoot(page, "landing-1280")
    await page.set_viewport_size({"width": 375, "height": 740})
    assert await fits_its_width(page)
    await shoot(page, "landing-375")
    await page.set_viewport_size({"width": 1280, "height": 800})

    await page.get_by_test_id("setup-link").click()
    await expect(page).to_have_url(f"{server.url}/setup/")
    form = page.get_by_test_id("setup-form")
    await page.get_by_label("Username").fill("olga")
    await page.get_by_label("Password", exact=True).fill("short")
    await page.get_by_label("Password confirmation").fill("short")
    await page.get_by_test_id("setup-submit").click()
    await expect(form).to_contain_text("This password is too short")
    assert await sync_to_async(get_user_model().objects.count)() == 0
    await page.set_viewport_size({"width": 375, "height": 740})
    assert await fits_its_width(page)
    await shoot(page, "setup-375-refused-password")
    await page.set_viewport_size({"width": 1280, "height": 800})

    await page.get_by_label("Password", exact=True).fill(PASSPHRASE)
    await page.get_by_label("Password confirmation").fill(PASSPHRASE)
    await page.get_by_label("Name customers see").fill("Olga Smith")
    await expect(page.get_by_label("First queue")).to_have_value("default")
    await shoot(page, "setup-1280")
    await page.get_by_test_id("setup-submit").click()

    await expect(page).to_have_url(f"{server.url}/")
    await expect(page.get_by_test_id("notices")).to_have_text("Operator and agent 'olga' created; you are logged in.")
    await expect(status).to_have_attribute("data-operator", "yes")
    await shoot(page, "landing-after-setup")
    olga = await sync_to_async(get_user_model().objects.get)(username="olga")
    assert olga.is_superuser
    assert await sync_to_async(AgentProfile.objects.filter(user=olga, queues__name="default").exists)()

    gone = await page.goto("/setup/")
    assert gone.status == 404
    await page.goto("/admin/")
    await expect(page.locator("#user-tools")).to_contain_text("Welcome, Olga")
    assert not errors, errors


async def real_conversation(sign_in, start_chat) -> str:
    """A routed chat: greeting, queue, an agent accepting, talk with a whisper, typing and an
    attachment, ended by the agent."""
    alice = await sign_in("alice")
    assert (await alice.emit("agentState", {"state": "ready"}))["ok"]
    customer = await start_chat()
    await alice.wait_for("conversationOffered")
    alice.takes(await alice.emit("acceptConversation", {"conversationId": customer.conversation_id}))
    cid = customer.conversation_id
    await customer.say("Hello, my ADSL line has been down since this morning")
    await customer.emit("sendMessage", {"conversationId": cid, "type": "ActivityMessage", "activityType": "typing"})
    await alice.say("Sorry to hear that. Let me check the line.")
    await alice.say("Third outage this month for this customer", tag="whisper")
    photo = {"name": "router-lights.jpg", "type": "image/jpeg", "contentUrl": "https://files.example.com/r.jpg"}
    await customer.say("Here is a photo of the router", attachments=[photo])
    await customer.say("مرحبا، هل يمكنك مساعدتي؟")
    await alice.say("I have reset the line; it should work in a minute.")
    await customer.say("It works again, thank you!")
    assert (await alice.end())["ok"]
    return cid


async def test_admin_shows_a_real_conversation_as_a_chat_and_the_list_fits_1280(context, server, sign_in, start_chat):
    cid = await real_conversation(sign_in, start_chat)
    # As if the site had signed Kashif (widget identityHash): the list marks it, and still fits.
    await sync_to_async(Conversation.objects.filter(pk=cid).update)(identity_verified=True)
    waiting = await start_chat(firstName="Maximilian", lastName="Featherstonehaugh", subject="Complaints")
    await sync_to_async(get_user_model().objects.create_superuser)("olga", password=PASSPHRASE)
    page = await context.new_page()
    await page.goto("/admin/login/?next=/admin/")
    await page.get_by_label("Username").fill("olga")
    await page.get_by_label("Password").fill(PASSPHRASE)
    await page.get_by_role("button", name="Log in").click()

    await page.goto("/admin/conversations/conversation/")
    row = page.locator("#result_list tbody tr").filter(has_text="Kashif")
    still_waiting = page.locator("#result_list tbody tr").filter(has_text="Featherstonehaugh")
    await expect(still_waiting.locator(".field-agent")).to_have_text("—")
    await expect(row.get_by_test_id("verified")).to_be_visible()
    await expect(still_waiting.get_by_test_id("verified")).to_have_count(0)
    await expect(still_waiting.locator(".field-state")).to_have_text("Open")
    assert waiting.conversation_id
    await expect(row.locator(".field-agent")).to_have_text("Alice")
    await expect(row.locator(".field-message_count")).to_have_text("7")
    await expect(row.locator(".field-started")).to_have_text(re.compile(r"^\d\d:\d\d$"))
    await shoot(page, "admin-list-1280", full_page=False)
    assert await fits_its_width(page)
    # Every column is in view: the table does not scroll inside its box, nor run under the filters.
    overflow = await page.evaluate("(r => [r.scrollWidth, r.clientWidth])(document.querySelector('.results'))")
    assert overflow[0] <= overflow[1], overflow
    table = await page.locator("#result_list").bounding_box()
    filters = await page.locator("#changelist-filter").bounding_box()
    assert table["x"] + table["width"] <= filters["x"], (table, filters)

    await page.goto(f"/admin/conversations/conversation/{cid}/change/")
    chat = page.get_by_test_id("chat")
    messages = chat.get_by_test_id("chat-message")
    await expect(messages).to_have_count(7)
    await expect(chat.locator('[data-whisper="true"]')).to_contain_text("Third outage this month")
    await expect(chat.get_by_test_id("chat-event")).to_contain_text(
        ["Greeting sent", "Kashif (customer) joined", "Queued for an agent", "Alice (agent) joined", "Ended by Alice"]
    )
    await expect(chat).not_to_contain_text("typing")
    await expect(chat).to_contain_text("router-lights.jpg")
    technical = page.get_by_text("Messages as stored (technical)")
    await expect(technical).to_be_visible()
    await expect(page.locator(".field-activity_type").first).to_be_hidden()  # collapsed
    height = await page.evaluate("document.documentElement.scrollHeight")
    assert height < 1800, height  # 7 messages and 6 events, not a table row each
    await shoot(page, "admin-conversation-1280")
    await page.set_viewport_size({"width": 800, "height": 900})
    await shoot(page, "admin-conversation-800")

    async with httpx.AsyncClient(base_url=server.url) as http:
        pdf = await http.get(f"/api/customer/transcript/{cid}/pdf")
    assert pdf.status_code == 200
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "transcript.pdf").write_bytes(pdf.content)
    if shutil.which("pdftoppm") is None:
        pytest.fail("pdftoppm is missing: `make test` installs poppler-utils")
    subprocess.run(
        ["pdftoppm", "-png", "-r", "70", "-f", "1", "-l", "1", ARTIFACTS / "transcript.pdf", ARTIFACTS / "transcript"],
        check=True,
    )
    fonts = subprocess.run(["pdffonts", ARTIFACTS / "transcript.pdf"], capture_output=True, text=True, check=True)
    names = [line.split()[0].split("+")[-1] for line in fonts.stdout.splitlines()[2:]]
    families = {re.sub(r"-(Bold|Oblique|BoldOblique)$", "", name) for name in names}
    assert families == {"DejaVu-Sans"}, fonts.stdout  # one typeface, the page counter's too
    print(f"transcript page: {ARTIFACTS / 'transcript-1.png'}")


async def test_the_init_example_of_api_docs_works_when_tried_in_the_browser(context, server):
    page = await context.new_page()
    await page.goto("/api/docs")
    await expect(page.get_by_role("link", name="AsyncAPI document")).to_have_attribute("href", "/api/asyncapi.json")
    operation = page.locator("#operations-customer-conversations_api_customer_init")
    await operation.locator(".opblock-summary").click()
    await operation.get_by_role("button", name="Try it out").click()
    body = operation.locator("textarea.body-param__text")
    assert (await body.input_value()).count('"firstName": "Kashif"') == 1
    await operation.get_by_role("button", name="Execute").click()
    status = operation.locator(".live-responses-table .response .response-col_status").first
    await expect(status).to_have_text("200")
    await shoot(page, "api-docs-try-init", full_page=False)


async def test_the_token_printed_at_start_up_opens_set_up_from_elsewhere(server_env, tmp_path):
    """A client that is not this machine (here: one behind a proxy, X-Forwarded-For) is refused
    without the token, and let in with the one `manage.py serve` printed."""
    from tests.conftest import start_server, stop_server

    fresh = start_server(env={**server_env, "CHAT_VAR_DIR": str(tmp_path)}, log_path=tmp_path / "server.log")
    try:
        printed = fresh.log()
        for line in ("Agent desk", "/agent/", "Socket.IO API", "/api/asyncapi.json", "No operator account yet"):
            assert line in printed
        token = re.search(r"/setup/\?token=(\S+)", printed).group(1)
        remote = {"X-Forwarded-For": "203.0.113.9"}
        async with httpx.AsyncClient(base_url=fresh.url, headers=remote) as http:
            refused = await http.get("/setup/")
            wrong = await http.get("/setup/?token=wrong")
            let_in = await http.get(f"/setup/?token={token}")
            page = await http.get("/setup/")
        assert (refused.status_code, wrong.status_code) == (403, 403)
        assert let_in.status_code == 302 and let_in.headers["location"] == "/setup/"
        assert page.status_code == 200 and 'data-testid="setup-form"' in page.text
    finally:
        stop_server(fresh)
