"""What one emit relayed through Redis costs a server process that has nobody in the room
(python-socketio's Redis manager sends every emit to every process), measured in-process:
decoding the pub/sub message (JSON) and routing it to no local socket. docs/scaling.md uses it.

    .venv/bin/python bench/fanout_cost.py
"""

import asyncio
import json
import time

import socketio
from socketio.async_pubsub_manager import AsyncPubSubManager

MESSAGE = {
    "method": "emit",
    "event": "messageArrived",
    "data": [
        {
            "id": "x" * 22,
            "sequence": 41,
            "conversationId": "c" * 22,
            "type": "ChatMessage",
            "from": {"id": "p" * 22, "name": "Kashif", "role": "customer"},
            "text": "x" * 64,
            "timestamp": "2026-12-01T19:00:00.000000Z",
        }
    ],
    "namespace": "/agent",
    "room": ["a:1234"],
    "skip_sid": "s" * 20,
    "callback": None,
    "host_id": "another-process",
}


async def main(rounds: int = 50_000) -> None:
    server = socketio.AsyncServer(async_mode="asgi", client_manager=AsyncPubSubManager(channel="bench"))
    manager = server.manager
    raw = json.dumps(MESSAGE)
    for _ in range(1000):
        await manager._handle_emit(json.loads(raw))
    started = time.thread_time()
    for _ in range(rounds):
        data = json.loads(raw)
        if data.get("host_id") != manager.host_id:
            await manager._handle_emit(data)
    per = (time.thread_time() - started) / rounds
    print(f"a relayed emit for nobody here: {per * 1e6:.1f} µs of CPU (JSON decode + routing), {len(raw)} bytes")


asyncio.run(main())
