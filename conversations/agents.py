"""Creating agents: from the shell (create_agent), admin, and tests."""

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.db import transaction

from conversations.models import AgentProfile, Queue


@transaction.atomic
def agent_create(
    *, username: str, password: str, queues: list[str], max_chats: int = 3, name: str = ""
) -> AgentProfile:
    """Create or update the user and its agent profile; queues are created when missing."""
    user, _ = get_user_model().objects.get_or_create(username=username)
    first, _, last = name.partition(" ")
    if name:
        user.first_name, user.last_name = first, last
    validate_password(password, user)
    user.set_password(password)
    user.save()
    agent, _ = AgentProfile.objects.update_or_create(user=user, defaults={"max_chats": max_chats})
    agent.queues.set([Queue.objects.get_or_create(name=q)[0] for q in queues])
    return agent
