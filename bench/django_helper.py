"""Service-layer work for bench/load.py, in a Django process of its own against the
DATABASE_URL in the environment. Reads JSON from stdin, prints JSON.

    python bench/django_helper.py add-agents      < ["<conversation id>", ...]
    python bench/django_helper.py count-messages  < ["<conversation id>", ...]
    python bench/django_helper.py routed-agents   < <how many>
"""

import json
import secrets
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def add_agents(conversation_ids: list[str]) -> list[dict]:
    """One agent per conversation (a user in no queue, so routing offers it nothing), put
    into the conversation with conversations.services.participant_add, as the end-to-end
    tests do. The bench then logs each one in over HTTP and joins it from /agent."""
    from agents.services import agent_create
    from conversations.services import participant_add

    run = secrets.token_hex(3)
    agents = []
    for number, conversation_id in enumerate(conversation_ids):
        username, password = f"bench-{run}-{number}", secrets.token_urlsafe(16)
        name = f"Agent {number}"
        profile = agent_create(username=username, password=password, queues=[], max_chats=10, name=name)
        participant = participant_add(conversation_id=conversation_id, role="agent", name=name, agent_id=profile.pk)
        agents.append(
            {
                "conversationId": conversation_id,
                "id": participant.id,
                "name": participant.name,
                "username": username,
                "password": password,
            }
        )
    return agents


def count_messages(conversation_ids: list[str]) -> dict:
    """How many chat messages are stored in these conversations, and in how many of them a
    sequence number is missing or repeated."""
    from django.db.models import Count, Max

    from conversations.models import Message

    stored = Message.objects.filter(conversation_id__in=conversation_ids)
    per_conversation = stored.order_by().values("conversation_id").annotate(n=Count("id"), top=Max("sequence"))
    gaps = sum(1 for row in per_conversation if row["n"] != row["top"])
    return {"chatMessages": stored.filter(type=Message.Type.CHAT).count(), "conversationsWithGaps": gaps}


def routed_agents(count: int) -> int:
    """Agents bench-agent-0 .. count-1 in the default queue, one chat each, for the routed flow
    of bench/node/loadgen.js (password CHAT_BENCH_AGENT_PASSWORD, default bench-password-1)."""
    import os

    from agents.services import agent_create

    password = os.environ.get("CHAT_BENCH_AGENT_PASSWORD", "bench-password-1")
    for number in range(count):
        agent_create(username=f"bench-agent-{number}", password=password, queues=["default"], max_chats=1)
    return count


def forget_conversations(_: object) -> int:
    """Delete every conversation (and what hangs off it) and agent connection, so the next run's
    agents start with no chat (between runs of bench/compare.py, with no server running)."""
    from agents.models import AgentConnection
    from conversations.models import Conversation

    AgentConnection.objects.all().delete()
    return Conversation.objects.all().delete()[0]


COMMANDS = {
    "add-agents": add_agents,
    "count-messages": count_messages,
    "routed-agents": routed_agents,
    "forget-conversations": forget_conversations,
}


def main() -> None:
    import django

    django.setup()
    json.dump(COMMANDS[sys.argv[1]](json.load(sys.stdin)), sys.stdout)


if __name__ == "__main__":
    main()
