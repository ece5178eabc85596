"""Edges of access control that one-line mistakes slipped past before (issue 12's surviving
mutants): each test here fails when its check is removed or made to say yes or no always."""

import pytest
import socketio
from asgiref.sync import sync_to_async
from django.test import Client

from agents.models import AgentProfile
from conversations import services
from conversations.models import Message
from tests.e2e.people import init_conversation
from widget.models import Site

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


async def test_a_correct_from_is_accepted_by_join_key_or_public_id_and_a_wrong_one_refused(customer, agent):
    by_key = await customer.say("from my join key", **{"from": {"id": customer.participant_id}})
    assert by_key["ok"], by_key
    by_public_id = await customer.say("from my public id", **{"from": {"id": customer.public_id}})
    assert by_public_id["ok"], by_public_id
    as_agent = await customer.say("pretending", **{"from": {"id": agent.public_id}})
    assert as_agent["error"]["code"] == "SENDER_MISMATCH"
    await agent.wait_for_text("from my public id")
    assert "pretending" not in agent.texts()
    by_agent = await agent.say("agent, as itself", **{"from": {"id": agent.public_id}})
    assert by_agent["ok"], by_agent


async def test_sequences_are_consecutive_end_to_end_system_messages_included(customer, agent):
    """Greeting, joins and messages each take the next number: 1, 2, 3, ... with no gap."""
    first = await customer.say("one")
    second = await agent.say("two")
    third = await customer.say("three")
    assert [second["sequence"] - first["sequence"], third["sequence"] - second["sequence"]] == [1, 1]
    assert (await customer.end())["ok"]
    sequences = await sync_to_async(list)(
        Message.objects.filter(conversation_id=customer.conversation_id)
        .order_by("sequence")
        .values_list("sequence", flat=True)
    )
    kinds = await sync_to_async(list)(
        Message.objects.filter(conversation_id=customer.conversation_id).values_list("type", flat=True)
    )
    assert "ActivityMessage" in kinds  # the greeting and the join are in the count
    assert sequences == list(range(1, len(sequences) + 1))
    assert third["sequence"] < sequences[-1]  # the end came after, numbered too


async def test_adding_or_transferring_to_an_agent_at_capacity_is_agent_unavailable(customer, agent, sign_in):
    bob = await sign_in("bob", max_chats=1)
    other = await init_conversation(agent.server_url)
    await sync_to_async(services.participant_add)(
        conversation_id=other["conversationId"], role="agent", name="Bob", agent_id=bob.agent_id
    )
    for event, payload in (
        ("addAgent", {"conversationId": customer.conversation_id, "agentId": bob.agent_id}),
        ("transferConversation", {"conversationId": customer.conversation_id, "agentId": bob.agent_id}),
    ):
        ack = await agent.emit(event, payload)
        assert ack["ok"] is False and ack["error"]["code"] == "AGENT_UNAVAILABLE", (event, ack)
    assert "conversationAssigned" not in bob.received
    carol = await sign_in("carol", max_chats=1)  # the same request to an agent with room works
    assert (await agent.emit("addAgent", {"conversationId": customer.conversation_id, "agentId": carol.agent_id}))["ok"]
    await carol.wait_for("conversationAssigned")


async def test_an_agent_who_was_not_offered_cannot_accept(server, sign_in, start_chat):
    alice = await sign_in("alice", queues=("default",))
    bob = await sign_in("bob", queues=("billing",))
    for person in (alice, bob):
        assert (await person.emit("agentState", {"state": "ready"}))["ok"]
    customer = await start_chat()
    await alice.wait_for("conversationOffered", lambda o: o["conversation"]["id"] == customer.conversation_id)
    stolen = await bob.emit("acceptConversation", {"conversationId": customer.conversation_id})
    assert stolen["ok"] is False and stolen["error"]["code"] == "NOT_OFFERED", stolen
    accepted = await alice.emit("acceptConversation", {"conversationId": customer.conversation_id})
    assert accepted["ok"], accepted


async def connect_error(server_url: str, **kwargs) -> dict | None:
    client = socketio.AsyncClient(reconnection=False)
    refused = []
    client.on("connect_error", refused.append, namespace="/agent")
    try:
        await client.connect(server_url, namespaces=["/agent"], transports=["websocket"], wait_timeout=5, **kwargs)
    except socketio.exceptions.ConnectionError:
        return refused[0] if refused else {"data": {"code": "?"}}
    await client.disconnect()
    return None


async def test_a_wrong_token_is_refused_while_other_tokens_are_live(server, sign_in):
    alice = await sign_in("alice")  # a live token in the database
    live = alice.auth["token"]
    for wrong in ("made-up", live[:-1] + ("A" if live[-1] != "A" else "B"), live + "x"):
        refused = await connect_error(server.url, auth={"token": wrong})
        assert refused is not None and refused["data"]["code"] == "UNAUTHORIZED", wrong
    assert await connect_error(server.url, auth={"token": live}) is None


async def test_the_desk_cookie_opens_the_agent_namespace_from_the_servers_own_pages_only(
    server, server_env, sign_in, settings
):
    settings.SECRET_KEY = server_env["SECRET_KEY"]  # the session is signed as the server signs it
    alice = await sign_in("alice")
    user = await sync_to_async(lambda: AgentProfile.objects.get(pk=alice.agent_id).user)()
    browser = Client()
    await sync_to_async(browser.force_login)(user)
    cookie = f"sessionid={browser.cookies['sessionid'].value}"
    host = server.url.removeprefix("http://")
    # A site allowed to embed the widget (its pages may open sockets) is still not the desk.
    await sync_to_async(Site.objects.create)(name="Shop", origin="http://shop.example.com")
    elsewhere = await connect_error(server.url, headers={"Cookie": cookie, "Origin": "http://shop.example.com"})
    assert elsewhere is not None and elsewhere["data"]["code"] == "UNAUTHORIZED"
    assert await connect_error(server.url, headers={"Cookie": cookie, "Origin": f"http://{host}"}) is None
