"""The people of the end-to-end stories: real python-socketio clients that record what they receive."""

import asyncio
from collections import defaultdict
from dataclasses import dataclass, field

import httpx
import socketio

from tests.factories import SPEC_INIT_SAMPLE

EVENTS = (
    "conversationInfo",
    "messageArrived",
    "agentInfo",
    "conversationOffered",
    "offerWithdrawn",
    "conversationAssigned",
    "conversationRemoved",
)
WAIT = 10


@dataclass
class Person:
    """One Socket.IO connection of a participant, recording every event it receives."""

    server_url: str
    conversation_id: str
    participant_id: str
    name: str
    namespace: str = "/"
    auth: dict | None = None
    agent_id: int | None = None
    public_id: str = ""  # the id others see in `from`, `to` and participant lists
    sio: socketio.AsyncClient = field(default_factory=lambda: socketio.AsyncClient(reconnection=False))
    received: dict[str, list] = field(default_factory=lambda: defaultdict(list))
    _arrivals: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def connect(self, transports: tuple[str, ...] = ("websocket",)) -> "Person":
        for event in EVENTS:
            self.sio.on(event, self._recorder(event), namespace=self.namespace)
        await self.sio.connect(
            self.server_url,
            transports=list(transports),
            namespaces=[self.namespace],
            auth=self.auth,
            wait_timeout=WAIT,
        )
        return self

    async def another_connection(self, server_url: str | None = None) -> "Person":
        """A second tab, or a reconnect, of the same person (to this server or another one)."""
        twin = Person(
            server_url or self.server_url,
            self.conversation_id,
            self.participant_id,
            self.name,
            namespace=self.namespace,
            auth=self.auth,
            agent_id=self.agent_id,
        )
        return await twin.connect()

    def _recorder(self, event: str):
        async def record(payload):
            async with self._arrivals:
                self.received[event].append(payload)
                self._arrivals.notify_all()

        return record

    async def emit(self, event: str, payload) -> dict:
        return await self.sio.call(event, payload, namespace=self.namespace, timeout=WAIT)

    async def join(self, **extra) -> dict:
        ack = await self._join(**extra)
        if ack.get("ok"):
            self.public_id = ack["participant"]["id"]
        return ack

    async def _join(self, **extra) -> dict:
        return await self.emit(
            "joinConversation",
            {
                "conversationId": self.conversation_id,
                "participant": {"id": self.participant_id, "name": self.name},
                **extra,
            },
        )

    async def say(self, text: str, **extra) -> dict:
        return await self.emit(
            "sendMessage",
            {"conversationId": self.conversation_id, "type": "ChatMessage", "text": text, **extra},
        )

    async def end(self) -> dict:
        return await self.emit("endConversation", {"conversationId": self.conversation_id})

    def takes(self, ack: dict) -> None:
        """An agent that accepted or was given a conversation now speaks in it."""
        assert ack["ok"], ack
        self.conversation_id = ack["conversationId"]
        self.participant_id = self.public_id = ack["participant"]["id"]

    async def wait_for(self, event: str, predicate=lambda payload: True, timeout: float = WAIT):
        """The first `event` payload received (so far or within `timeout`) that satisfies `predicate`."""
        async with self._arrivals:
            await asyncio.wait_for(
                self._arrivals.wait_for(lambda: any(predicate(p) for p in self.received[event])), timeout
            )
            return next(p for p in self.received[event] if predicate(p))

    async def wait_for_count(self, event: str, count: int, timeout: float = WAIT) -> list:
        """Wait until `count` `event` payloads have arrived (so far or within `timeout`)."""
        async with self._arrivals:
            await asyncio.wait_for(self._arrivals.wait_for(lambda: len(self.received[event]) >= count), timeout)
            return self.received[event][:count]

    async def wait_for_text(self, text: str) -> dict:
        return await self.wait_for("messageArrived", lambda m: m.get("text") == text)

    async def wait_to_see(self, text: str, timeout: float = WAIT) -> None:
        """Until a message with this text reached this connection, live or in a conversationInfo's
        history (a connection that joins after it was stored gets it there)."""

        def seen() -> bool:
            history = (m for info in self.received["conversationInfo"] for m in info.get("messages", []))
            return any(m.get("text") == text for m in (*self.received["messageArrived"], *history))

        async with self._arrivals:
            await asyncio.wait_for(self._arrivals.wait_for(seen), timeout)

    def texts(self) -> list[str]:
        return [m["text"] for m in self.received["messageArrived"] if m["type"] == "ChatMessage"]

    def activities(self) -> list[str]:
        return [m["activityType"] for m in self.received["messageArrived"] if m["type"] == "ActivityMessage"]

    async def disconnect(self) -> None:
        if not self.sio.connected:
            return
        if self.sio.transport() == "polling":
            # A polling client's clean disconnect waits out the pending long-poll (up to the
            # ping interval); a browser would abort that request, and so does this.
            await self.sio.eio.disconnect(abort=True)
        else:
            await self.sio.disconnect()


# Without the requestId: each call starts its own conversation.
SAMPLE_INIT = {key: value for key, value in SPEC_INIT_SAMPLE.items() if key != "requestId"}


async def init_conversation(server_url: str, **overrides) -> dict:
    async with httpx.AsyncClient(base_url=server_url) as http:
        response = await http.post("/api/customer/init", json={**SAMPLE_INIT, **overrides})
    assert response.status_code == 200, response.text
    return response.json()


async def login_agent(server_url: str, username: str, password: str) -> dict:
    async with httpx.AsyncClient(base_url=server_url) as http:
        response = await http.post("/api/agent/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return response.json()
