"""Two server processes sharing PostgreSQL and Redis: people on either reach each other."""

import asyncio
import os

import pytest
from asgiref.sync import sync_to_async

from routing.models import Offer
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


@pytest.fixture(scope="module")
def other_server(server, server_env, tmp_path_factory):
    second = start_server(env=server_env, log_path=tmp_path_factory.mktemp("other") / "server.log")
    yield second
    stop_server(second)
    assert "Traceback" not in second.log(), second.log()


async def test_a_customer_on_one_process_and_an_agent_on_another_chat(server, other_server, sign_in, people):
    alice = await sign_in("alice")  # on the first process
    await alice.disconnect()
    moved = await alice.another_connection(other_server.url)
    people.append(moved)
    assert (await moved.emit("agentState", {"state": "ready"}))["ok"]

    started = await init_conversation(server.url)
    customer = Person(server.url, started["conversationId"], started["participant"]["id"], "Kashif")
    people.append(await customer.connect())
    assert (await customer.join())["ok"]

    await moved.wait_for("conversationOffered")
    moved.takes(await moved.emit("acceptConversation", {"conversationId": customer.conversation_id}))
    assert (await customer.say("hello from process one"))["ok"]
    await moved.wait_for_text("hello from process one")
    assert (await moved.say("for agents only", tag="whisper"))["ok"]
    assert (await moved.say("hello from process two"))["ok"]
    await customer.wait_for_text("hello from process two")
    assert "for agents only" not in customer.texts()


async def test_with_agents_on_both_processes_each_offer_goes_to_exactly_one(server, other_server, sign_in, people):
    agents = []
    for username, url in (("alice", server.url), ("bob", other_server.url)):
        first = await sign_in(username)
        await first.disconnect()
        agent = await first.another_connection(url)
        people.append(agent)
        assert (await agent.emit("agentState", {"state": "ready"}))["ok"]
        agents.append(agent)

    customers = []
    for _ in range(4):
        started = await init_conversation(server.url)
        customer = Person(other_server.url, started["conversationId"], started["participant"]["id"], "Kashif")
        people.append(await customer.connect())
        assert (await customer.join())["ok"]
        customers.append(customer.conversation_id)

    def offered() -> list[str]:
        return [offer["conversation"]["id"] for agent in agents for offer in agent.received["conversationOffered"]]

    async with asyncio.timeout(10):  # until each is offered, by sweeps on both processes
        while set(offered()) != set(customers):
            await asyncio.sleep(0.05)
    assert sorted(offered()) == sorted(customers)
    pending = await sync_to_async(list)(Offer.objects.pending().values_list("conversation_id", flat=True))
    assert sorted(pending) == sorted(customers)  # one offer each, in the database too


async def test_agents_on_two_processes_changing_state_while_many_wait_never_fail(server, other_server, sign_in, people):
    agents = []
    for username, url in (("alice", server.url), ("bob", other_server.url)):
        first = await sign_in(username, max_chats=50)
        await first.disconnect()
        agent = await first.another_connection(url)
        people.append(agent)
        agents.append(agent)
    for i in range(30):
        started = await init_conversation(server.url, firstName=f"C{i}")
        customer = Person(server.url, started["conversationId"], started["participant"]["id"], f"C{i}")
        people.append(await customer.connect())
        assert (await customer.join())["ok"]

    states = ["ready", "notReady"] * 5
    acks = await asyncio.gather(*(agent.emit("agentState", {"state": state}) for agent in agents for state in states))
    assert [ack for ack in acks if not ack["ok"]] == []
