"""A payload's size is checked before it is validated: what pydantic spends on a payload grows
with it (a 900 KB sendMessage whose attachments were 450,000 zeros held the event loop for
4.6 s, and its error ack was as large as the input). Counting the nodes is bounded by the
limit itself, so this costs at most CHAT_MAX_PAYLOAD_NODES steps whatever comes in."""

from typing import Any

from django.conf import settings

from chatserver.errors import PayloadTooLarge


def refuse_oversized(data: Any) -> None:
    """Raise PayloadTooLarge when a list or object in `data` has more than CHAT_MAX_LIST_ITEMS
    items, or the whole has more than CHAT_MAX_PAYLOAD_NODES values."""
    max_items, max_nodes = settings.CHAT_MAX_LIST_ITEMS, settings.CHAT_MAX_PAYLOAD_NODES
    nodes, stack = 0, [("payload", data)]
    while stack:
        where, item = stack.pop()
        nodes += 1
        if nodes > max_nodes:
            raise PayloadTooLarge(f"The payload has more than {max_nodes} values.")
        if isinstance(item, dict):
            children = item.items()
        elif isinstance(item, list):
            children = enumerate(item)
        else:
            continue
        if len(item) > max_items:
            raise PayloadTooLarge(
                f"A list or object has more than {max_items} items.", fields={where[:100]: "too many items"}
            )
        if len(stack) + len(item) > max_nodes:
            raise PayloadTooLarge(f"The payload has more than {max_nodes} values.")
        prefix = "" if where == "payload" else f"{where}."
        stack.extend((f"{prefix}{key}"[:100], child) for key, child in children)
