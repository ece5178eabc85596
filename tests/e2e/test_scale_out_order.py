"""Two server processes sharing PostgreSQL and Redis: under a steady stream every message is
delivered exactly once, in the order it was stored, to the agent on the other process."""

import asyncio
import os

import pytest

from tests.conftest import start_server, stop_server
from tests.e2e.people import Person, init_conversation

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not os.environ.get("REDIS_URL"),
        reason="several processes relay through Redis: this runs in make test's PostgreSQL+Redis pass",
    ),
]

MESSAGES = 300
IN_FLIGHT = 20


@pytest.fixture(scope="module")
def second_server(server, server_env, tmp_path_factory):
    running = start_server(env=server_env, log_path=tmp_path_factory.mktemp("second") / "server.log")
    yield running
    stop_server(running)
    assert "Traceback" not in running.log(), running.log()


async def stream(person: Person, prefix: str, count: int) -> list[dict]:
    """`count` messages, IN_FLIGHT at a time, as a busy client sends them (retrying BUSY)."""
    acks: list[dict] = [{}] * count
    window = asyncio.Semaphore(IN_FLIGHT)

    async def one(n: int) -> None:
        async with window:
            while True:
                ack = await person.say(f"{prefix} {n}", requestId=f"{prefix}-{n}")
                if ack["ok"] or ack["error"]["code"] != "BUSY":
                    acks[n] = ack
                    return
                await asyncio.sleep(ack["error"]["retryAfterMs"] / 1000)

    tasks = []
    for n in range(count):
        tasks.append(asyncio.create_task(one(n)))
        await asyncio.sleep(0)  # sent in order: each task emits before the next starts
    await asyncio.gather(*tasks)
    return acks


def chat_messages(person: Person, prefix: str) -> list[dict]:
    return [m for m in person.received["messageArrived"] if m["type"] == "ChatMessage" and m["text"].startswith(prefix)]


async def test_every_message_crosses_processes_exactly_once_and_in_order(server, second_server, sign_in, people):
    first = await sign_in("alice")
    await first.disconnect()
    agent = await first.another_connection(second_server.url)  # the agent on the second process
    people.append(agent)
    assert (await agent.emit("agentState", {"state": "ready"}))["ok"]

    started = await init_conversation(server.url)  # the customer on the first
    customer = Person(server.url, started["conversationId"], started["participant"]["id"], "Kashif")
    people.append(await customer.connect())
    assert (await customer.join())["ok"]
    await agent.wait_for("conversationOffered")
    agent.takes(await agent.emit("acceptConversation", {"conversationId": customer.conversation_id}))

    acks, replies = await asyncio.gather(stream(customer, "c", MESSAGES), stream(agent, "a", MESSAGES // 3))
    assert [ack for ack in acks + replies if not ack["ok"]] == []

    await agent.wait_for_text(f"c {MESSAGES - 1}")
    await customer.wait_for_text(f"a {MESSAGES // 3 - 1}")
    await asyncio.sleep(0.5)  # anything duplicated would have come by now

    to_agent = chat_messages(agent, "c ")
    assert [m["text"] for m in to_agent] == [f"c {n}" for n in range(MESSAGES)]  # each once, in order
    assert [m["sequence"] for m in to_agent] == [ack["sequence"] for ack in acks]
    assert [m["sequence"] for m in to_agent] == sorted(m["sequence"] for m in to_agent)
    to_customer = chat_messages(customer, "a ")
    assert [m["text"] for m in to_customer] == [f"a {n}" for n in range(MESSAGES // 3)]
    assert chat_messages(agent, "a ") == [] and chat_messages(customer, "c ") == []  # no echo to the sender
