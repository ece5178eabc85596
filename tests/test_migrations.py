"""A database from before agents and routing had apps of their own migrates forward with its
rows: the move changed where Django looks for the models, not the tables."""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from agents.models import AgentProfile, AgentToken
from conversations.models import Participant
from routing.models import Offer, Queue

LAST_BEFORE_THE_SPLIT = ("conversations", "0007_message_ordering_by_column")


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor


def latest():
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


@pytest.mark.django_db(transaction=True)
def test_a_database_from_before_the_split_keeps_its_agents_queues_and_offers():
    executor = migrate([LAST_BEFORE_THE_SPLIT, ("agents", None), ("routing", None)])
    old = executor.loader.project_state([LAST_BEFORE_THE_SPLIT]).apps
    try:
        User = old.get_model("auth", "User")
        OldQueue = old.get_model("conversations", "Queue")
        OldAgent = old.get_model("conversations", "AgentProfile")
        billing = OldQueue.objects.create(name="billing", is_default=True)
        grace = OldAgent.objects.create(user=User.objects.create(username="grace"), max_chats=2, state="ready")
        grace.queues.add(billing)
        conversation = old.get_model("conversations", "Conversation").objects.create(
            id="c" * 32, channel="web", queue=billing, queued_at="2026-11-30T10:00:00Z"
        )
        old.get_model("conversations", "Participant").objects.create(
            id="p" * 32, conversation=conversation, role="agent", agent=grace, name="Grace"
        )
        old.get_model("conversations", "Offer").objects.create(
            conversation=conversation, agent=grace, expires_at="2026-11-30T10:00:20Z"
        )
        old.get_model("conversations", "AgentToken").objects.create(
            key_hash="h" * 64, agent=grace, expires_at="2026-12-30T10:00:00Z"
        )
        agent_type = ContentType.objects.get_or_create(app_label="conversations", model="agentprofile")[0]
    finally:
        migrate(latest())

    agent = AgentProfile.objects.get(user__username="grace")
    assert (agent.max_chats, agent.state) == (2, "ready")
    assert [q.name for q in agent.queues.all()] == ["billing"]
    assert Queue.objects.get(name="billing").is_default
    assert Participant.objects.get(pk="p" * 32).agent == agent
    assert Offer.objects.get().agent == agent and Offer.objects.get().conversation_id == "c" * 32
    assert AgentToken.objects.get().agent == agent
    # Permissions given on the old content type now name the new app.
    assert ContentType.objects.get(pk=agent_type.pk).app_label == "agents"
