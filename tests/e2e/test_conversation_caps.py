"""A server with a small CHAT_MAX_MESSAGES_PER_CONVERSATION: the message past the cap is acked
CONVERSATION_FULL and reaches nobody; the full conversation still ends, and its PDF renders."""

import httpx
import pytest

from tests.conftest import start_server, stop_server
from tests.e2e.people import Person, init_conversation
from tests.pdfs import pdf_text

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

CAP = 8


@pytest.fixture(scope="module")
def small_server(server_env, tmp_path_factory):
    env = {**server_env, "CHAT_MAX_MESSAGES_PER_CONVERSATION": str(CAP)}
    running = start_server(env=env, log_path=tmp_path_factory.mktemp("capped") / "server.log")
    yield running
    stop_server(running)
    assert "Traceback" not in running.log(), running.log()


async def test_past_the_cap_a_message_is_refused_full_and_the_conversation_still_ends_with_its_pdf(
    small_server, people
):
    started = await init_conversation(small_server.url)
    customer = Person(small_server.url, started["conversationId"], started["participant"]["id"], "Kashif")
    people.append(await customer.connect())
    assert (await customer.join())["ok"]
    watcher = await customer.another_connection()  # a second tab sees what is delivered
    people.append(watcher)
    assert (await watcher.join())["ok"]
    acks = [await customer.say(f"line {n}") for n in range(CAP + 2)]
    stored = [ack for ack in acks if ack["ok"]]
    refused = [ack for ack in acks if not ack["ok"]]
    assert stored and refused and acks[: len(stored)] == stored  # the first ones in, then none
    assert len(stored) == CAP  # the greeting and the join notice are not counted
    assert {ack["error"]["code"] for ack in refused} == {"CONVERSATION_FULL"}
    last_stored = f"line {len(stored) - 1}"
    await watcher.wait_for_text(last_stored)
    assert (await customer.end())["ok"]  # the end is stored past the cap
    await watcher.wait_for("messageArrived", lambda m: m.get("activityType") == "endOfConversation")
    assert watcher.texts() == [f"line {n}" for n in range(len(stored))]  # nothing refused was delivered

    async with httpx.AsyncClient(base_url=small_server.url, timeout=60) as http:
        pdf = await http.get(f"/api/customer/transcript/{customer.conversation_id}/pdf")
    assert pdf.status_code == 200
    text = pdf_text(pdf.content)
    assert all(f"line {n}" in text for n in range(len(stored))) and f"line {len(stored)}" not in text
