"""What a service says happened for people to hear: an event, its payload, and who may receive it."""

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
    # Not the connection whose event caused it (it hears through its ack or conversationInfo).
    except_caller: bool = False


@dataclass(frozen=True)
class Delivery:
    event: str
    payload: dict
    audience: Audience


def to_agent(agent_id: int, event: str, payload: dict) -> Delivery:
    return Delivery(event, payload, Audience(customers=False, agent_ids=(agent_id,)))
