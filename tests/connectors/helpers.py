"""Small waits and reads shared by the connector tests."""

import asyncio

from asgiref.sync import sync_to_async

from connectors.models import ContactConversation, OutboundMessage
from conversations.models import Message


async def eventually(read, check=bool, timeout: float = 10.0):
    """Read until `check(value)` holds (the worker runs in the server process)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await sync_to_async(read)()
        if check(value):
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"never happened; last value: {value!r}")
        await asyncio.sleep(0.1)


def outbound(outbound_id: str) -> OutboundMessage:
    return OutboundMessage.objects.get(id=outbound_id)


def conversations_of(channel: str, contact: str) -> list[str]:
    return list(
        ContactConversation.objects.filter(channel=channel, contact=contact).values_list("conversation_id", flat=True)
    )


def chat_texts(conversation_id: str) -> list[str]:
    return list(
        Message.objects.filter(conversation_id=conversation_id, type="ChatMessage")
        .order_by("sequence")
        .values_list("text", flat=True)
    )
