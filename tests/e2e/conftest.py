import pytest
from asgiref.sync import sync_to_async
from django.db import connections

from agents.services import agent_create
from conversations import services
from tests.e2e.people import Person, init_conversation, login_agent


@pytest.fixture(autouse=True)
async def close_test_connections():
    """The ORM thread of sync_to_async keeps its own connection; close it after each test so
    the test database can be dropped at the end."""
    yield
    await sync_to_async(connections.close_all)()


@pytest.fixture
async def people():
    """Every Person a test connects; all are disconnected at its end."""
    connected: list[Person] = []
    yield connected
    for person in connected:
        await person.disconnect()


@pytest.fixture
async def connect(server, people):
    async def connect_as(conversation_id: str, participant_id: str, name: str, **kwargs) -> Person:
        person = await Person(server.url, conversation_id, participant_id, name).connect(**kwargs)
        people.append(person)
        return person

    return connect_as


@pytest.fixture
async def start_chat(server, connect):
    """A customer who has called init, connected and joined."""

    async def start(**init_overrides) -> Person:
        started = await init_conversation(server.url, **init_overrides)
        person = await connect(started["conversationId"], started["participant"]["id"], started["participant"]["name"])
        ack = await person.join()
        assert ack["ok"], ack
        return person

    return start


@pytest.fixture
async def customer(start_chat) -> Person:
    return await start_chat()


PASSWORD = "correct horse battery staple"


@pytest.fixture
async def sign_in(server, people):
    """An agent created in the database, logged in over HTTP, and connected to /agent."""

    async def sign_in(username: str, *, queues=("default",), max_chats: int = 3) -> Person:
        await sync_to_async(agent_create)(
            username=username, password=PASSWORD, queues=list(queues), max_chats=max_chats, name=username.title()
        )
        login = await login_agent(server.url, username, PASSWORD)
        person = Person(server.url, "", "", login["agent"]["name"], namespace="/agent", auth={"token": login["token"]})
        person.agent_id = login["agent"]["id"]
        people.append(await person.connect())
        return person

    return sign_in


@pytest.fixture
async def add_agent(sign_in):
    """An agent put straight into the customer's conversation through the service layer,
    without routing, then joined from /agent."""

    async def add(customer: Person, name: str = "Alice") -> Person:
        person = await sign_in(name.lower())
        participant = await sync_to_async(services.participant_add)(
            conversation_id=customer.conversation_id, role="agent", name=name, agent_id=person.agent_id
        )
        person.conversation_id, person.participant_id = customer.conversation_id, participant.id
        ack = await person.join()
        assert ack["ok"], ack
        return person

    return add


@pytest.fixture
async def agent(customer, add_agent) -> Person:
    return await add_agent(customer, "Alice")


@pytest.fixture
async def second_agent(customer, add_agent) -> Person:
    return await add_agent(customer, "Bob")
