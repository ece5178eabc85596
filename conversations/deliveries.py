"""What a service hands to the realtime module: an event, its payload, and who may receive it."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Audience:
    """Customers are reached through their conversation's room (or one participant's room);
    agents through their own room, which holds every /agent socket of theirs. Services fill
    `agent_ids` from the database, so an agent who left a conversation hears no more of it."""

    conversation_id: str = ""
    customers: bool = True  # False for whispers: they never reach a customer socket
    participant_ids: tuple[str, ...] = ()  # when set, only these customer participants
    agent_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class Delivery:
    event: str
    payload: dict
    audience: Audience
