"""What routing costs, counted in statements (CaptureQueriesContext), not timed: a join that is
offered, and a sweep tick, cost the same whether 1 or 40 agents are connected."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from agents.services import agent_create
from chatserver.dispatch import perform_sync
from conversations import services
from routing import presence
from routing.models import Offer
from routing.sweep import sweep
from tests.factories import start_conversation

pytestmark = pytest.mark.django_db(transaction=True)

SERVER = "test-server"


def ready_agents(count: int, *, busy: bool = True) -> None:
    """`count` agents connected and ready in the default queue; with `busy`, all but one are in
    a chat of their own already (max 1 chat each), so exactly one can take the next one."""
    for number in range(count):
        agent = agent_create(
            username=f"agent-{number}", password="a long pass phrase 1", queues=["default"], max_chats=1
        )
        presence.agent_connected(agent_id=agent.pk, sid=f"sid-{number}", server_id=SERVER)
        presence.agent_set_state(agent_id=agent.pk, state="ready")
        if busy and number:
            customer = start_conversation(firstName=f"Earlier {number}")
            services.participant_add(
                conversation_id=customer.conversation_id, role="agent", name=f"A{number}", agent_id=agent.pk
            )


def statements_of_an_offered_join() -> list[str]:
    customer = start_conversation()
    with CaptureQueriesContext(connection) as queries:
        joined = perform_sync(
            services.conversation_join, conversation_id=customer.conversation_id, participant_id=customer.join_key
        )
    assert [d.event for d in joined.deliveries].count("conversationOffered") == 1
    assert Offer.objects.pending().filter(conversation_id=customer.conversation_id).count() == 1
    return [q["sql"] for q in queries.captured_queries]


@pytest.mark.parametrize("agents", [1, 40])
def test_a_join_that_is_offered_costs_a_small_fixed_number_of_statements(agents):
    ready_agents(agents)
    statements = statements_of_an_offered_join()
    assert len(statements) <= JOIN_STATEMENTS, "\n".join(statements)
    assert len(statements) == JOIN_STATEMENTS  # the same with 1 agent and with 40


# 23, and 4 more since queues have business hours (read by enqueue and again by offer_next).
JOIN_STATEMENTS = 27


@pytest.mark.parametrize("agents", [1, 40])
def test_a_quiet_sweep_tick_costs_the_same_whatever_the_agents_connected(agents):
    ready_agents(agents)
    perform_sync(sweep, server_id=SERVER)  # the first tick after set-up may still have work
    with CaptureQueriesContext(connection) as queries:
        perform_sync(sweep, server_id=SERVER)
    data = [q["sql"] for q in queries.captured_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))]
    assert len(data) == SWEEP_STATEMENTS, "\n".join(data)
    # Nothing in a quiet tick touches a row per agent: the heartbeat is one row per process.
    assert not any("agentconnection" in sql and sql.startswith("UPDATE") for sql in data)


# 8 for chats, and 5 for callbacks (callbacks.routing.sweep): all from indexes, none per agent.
SWEEP_STATEMENTS = 13
