"""What a service hands to the realtime module: an event, its payload, and who may receive it."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Audience:
    conversation_id: str
    staff_only: bool = False  # whispers: agents and bots, never customers
    participant_ids: tuple[str, ...] = ()  # when set, only these participants


@dataclass(frozen=True)
class Delivery:
    event: str
    payload: dict
    audience: Audience
