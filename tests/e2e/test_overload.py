"""Overload is refused, not queued: past its in-flight budget a server answers BUSY at once,
stores nothing for the refused event, and the same event sent again (same requestId) is stored
once; every acked message is delivered."""

import asyncio

import pytest

from tests.conftest import start_server, stop_server
from tests.e2e.people import Person, init_conversation

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

BUDGET = 4


@pytest.fixture(scope="module")
def small_server(server_env, tmp_path_factory):
    """A server that takes on only BUDGET events at once."""
    env = {**server_env, "CHAT_MAX_IN_FLIGHT": str(BUDGET), "CHAT_BUSY_RETRY_MS": "50"}
    running = start_server(env=env, log_path=tmp_path_factory.mktemp("small") / "server.log")
    yield running
    stop_server(running)
    assert "Traceback" not in running.log(), running.log()


async def joined_customer(url: str, people) -> Person:
    started = await init_conversation(url)
    customer = Person(url, started["conversationId"], started["participant"]["id"], "Kashif")
    people.append(await customer.connect())
    assert (await customer.join())["ok"]
    return customer


async def test_past_the_budget_events_are_refused_busy_and_a_retry_stores_each_message_once(small_server, people):
    customer = await joined_customer(small_server.url, people)
    watcher = await customer.another_connection()  # a second tab sees what is delivered
    people.append(watcher)
    assert (await watcher.join())["ok"]

    async def send(n: int) -> tuple[int, list[dict]]:
        answers = []
        while True:
            ack = await customer.say(f"message {n}", requestId=f"req-{n}")
            answers.append(ack)
            if ack["ok"] or ack["error"]["code"] != "BUSY":
                return n, answers
            assert 50 <= ack["error"]["retryAfterMs"] < 100
            await asyncio.sleep(ack["error"]["retryAfterMs"] / 1000)

    outcomes = await asyncio.gather(*(send(n) for n in range(40)))
    refused = [a for _, answers in outcomes for a in answers if not a["ok"]]
    assert refused, "40 events at once against a budget of 4: some must be refused"
    assert {a["error"]["code"] for a in refused} == {"BUSY"}
    final = [answers[-1] for _, answers in outcomes]
    assert all(a["ok"] and not a["duplicate"] for a in final)  # a BUSY event stored nothing
    assert len({a["sequence"] for a in final}) == 40

    texts = {f"message {n}" for n in range(40)}
    for text in texts:
        await watcher.wait_for_text(text)
    assert sorted(watcher.texts()) == sorted(texts)  # each delivered once, nothing refused arrived

    # Under the budget again, events are taken on as usual.
    assert (await customer.say("calm again"))["ok"]
