"""Group commit (chatserver.db lanes): the messages that queue while the database thread is busy
are stored in one trip and one transaction, each still refused or accepted on its own."""

import asyncio

import pytest
from asgiref.sync import sync_to_async
from django.db import connection
from django.test.utils import CaptureQueriesContext

from agents.services import agent_create
from chatserver import db
from chatserver.dispatch import perform_grouped
from chatserver.errors import NotAParticipant
from conversations import schemas, services
from conversations.models import Message
from tests.factories import add_agent, start_conversation

pytestmark = pytest.mark.django_db(transaction=True)


def chat(conversation_id: str, text: str, **fields) -> schemas.SendMessage:
    payload = {"conversationId": conversation_id, "type": "ChatMessage", "text": text, **fields}
    return schemas.parse(schemas.SendMessage, payload)


def sending(sender_id: str, conversation_id: str, text: str, **fields):
    return perform_grouped(
        conversation_id,
        services.message_send,
        conversation_id=conversation_id,
        sender_id=sender_id,
        message=chat(conversation_id, text, **fields),
    )


@sync_to_async
def conversations_with_agents(count: int):
    people = []
    for number in range(count):
        customer = start_conversation(firstName=f"Customer {number}")
        profile = agent_create(username=f"agent-{number}", password="a long pass phrase 1", queues=[])
        agent = services.participant_add(
            conversation_id=customer.conversation_id, role="agent", name=f"Agent {number}", agent_id=profile.pk
        )
        people.append((customer, agent))
    return people


@sync_to_async
def stored(conversation_id: str) -> list[tuple[int, str]]:
    return list(
        Message.objects.filter(conversation_id=conversation_id, type="ChatMessage")
        .order_by("sequence")
        .values_list("sequence", "text")
    )


async def test_messages_sent_together_are_stored_in_a_few_trips_each_in_its_conversations_order():
    people = await conversations_with_agents(5)
    lane = db.lane_for(people[0][0].conversation_id)
    trips, units = lane.trips, lane.units
    sends = [
        sending(customer.id, customer.conversation_id, f"{n}")
        for n in range(10)
        for customer, _ in people  # interleaved: 10 messages in each of 5 conversations
    ]
    results = await asyncio.gather(*sends)
    assert lane.units - units == 50
    # All fifty queued before the lane's thread was free: one trip, one transaction.
    assert lane.trips - trips == 1
    for customer, _ in people:
        rows = await stored(customer.conversation_id)
        assert [text for _, text in rows] == [str(n) for n in range(10)]  # in the order sent
        sequences = [sequence for sequence, _ in rows]
        assert sequences == list(range(sequences[0], sequences[0] + 10))  # no gap, no repeat
    agent_of = {customer.conversation_id: agent.agent_id for customer, agent in people}
    for result in results:  # each message goes to its own conversation's agent, once
        [delivery] = result.deliveries
        assert delivery.event == "messageArrived"
        assert delivery.audience.agent_ids == (agent_of[result.value.message.conversation_id],)


async def test_a_refused_message_in_a_batch_is_refused_alone_and_leaves_no_gap():
    [(customer, _)] = await conversations_with_agents(1)
    conversation_id = customer.conversation_id
    outcomes = await asyncio.gather(
        sending(customer.id, conversation_id, "first"),
        sending(customer.id, conversation_id, "second"),
        sending("no-such-participant", conversation_id, "stranger"),
        sending(customer.id, conversation_id, "third", requestId="r-1"),
        sending(customer.id, conversation_id, "third again", requestId="r-1"),
        sending(customer.id, conversation_id, "fourth"),
        return_exceptions=True,
    )
    assert isinstance(outcomes[2], NotAParticipant)
    assert outcomes[4].value.duplicate and outcomes[4].value.message.id == outcomes[3].value.message.id
    assert outcomes[4].deliveries == []  # a replay sends nothing again
    rows = await stored(conversation_id)
    assert [text for _, text in rows] == ["first", "second", "third", "fourth"]
    sequences = [sequence for sequence, _ in rows]
    assert sequences == list(range(sequences[0], sequences[0] + 4))


def test_a_message_costs_a_fixed_handful_of_statements():
    customer = start_conversation()
    add_agent(customer.conversation)

    def message(n: int) -> db.Work:
        def run():
            return services.message_send(
                conversation_id=customer.conversation_id,
                sender_id=customer.id,
                message=chat(customer.conversation_id, f"m{n}"),
            )

        return db.Work(run, savepoint=False)  # as sendMessage runs it: message_send is atomic itself

    with CaptureQueriesContext(connection) as queries:
        outcomes = db.run_batch([message(n) for n in range(10)])
    assert all(ok for ok, _ in outcomes)
    statements = [q["sql"] for q in queries.captured_queries]
    data = [s for s in statements if not s.startswith(("SAVEPOINT", "RELEASE", "BEGIN", "COMMIT"))]
    # Per message: the sender with the agents to tell, the sequence number, the insert.
    assert len(data) == 3 * 10
    # One savepoint per message (message_send's own), none of the batch's around it.
    assert sum(s.startswith("SAVEPOINT") for s in statements) == 10
