"""Managing agents: from the shell (create_agent), admin, and tests."""

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.db import transaction

from agents.models import AgentProfile
from routing.queues import queue_named


def _first_and_last(name: str) -> tuple[str, str]:
    first, _, last = name.partition(" ")
    return first, last


@transaction.atomic
def agent_create(
    *, username: str, password: str, queues: list[str], max_chats: int = 3, name: str = ""
) -> AgentProfile:
    """Create or update the user and its agent profile; queues are created when missing."""
    user, _ = get_user_model().objects.get_or_create(username=username)
    if name:
        user.first_name, user.last_name = _first_and_last(name)
    validate_password(password, user)
    user.set_password(password)
    user.save()
    agent, _ = AgentProfile.objects.update_or_create(user=user, defaults={"max_chats": max_chats})
    agent.queues.set([queue_named(name) for name in queues])
    return agent


def agent_password_validate(*, username: str, password: str, name: str = "") -> None:
    """Raise ValidationError if agent_create would refuse this password for a new user (too
    short, too common, too like the username or name), so a form can say so before saving."""
    first, last = _first_and_last(name)
    validate_password(password, get_user_model()(username=username, first_name=first, last_name=last))
