"""Another client's ack latency while hostile packets are in flight (issue 12: "no payload can
stall others"). A scratch server (bench/server.py); one customer joins and sends --probes
messages one after another, while --hostile raw websockets each send one 900 KB `sendMessage`
whose `attachments` is a list of 450,000 zeros. Prints the probe's median, p99 and max.

    .venv/bin/python bench/stall_probe.py
    .venv/bin/python bench/stall_probe.py --hostile 3 --probes 200 --rounds 3
"""

import argparse
import asyncio
import json
import statistics
import sys
import time
from pathlib import Path

import httpx
import socketio

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from server import environment, running_server  # noqa: E402

from tests.e2e.rawsocket import RawSocket  # noqa: E402  the hand-made client of the hostile tests


async def one_round(url: str, hostile: int, probes: int) -> list[float]:
    async with httpx.AsyncClient(base_url=url) as http:
        started = (await http.post("/api/customer/init", json={"channel": "web", "firstName": "Probe"})).json()
    customer = socketio.AsyncClient(reconnection=False)
    await customer.connect(url, transports=["websocket"])
    conversation_id = started["conversationId"]
    joined = await customer.call(
        "joinConversation", {"conversationId": conversation_id, "participant": started["participant"]}
    )
    assert joined["ok"], joined
    junk = {"conversationId": conversation_id, "type": "ChatMessage", "attachments": [0] * 450_000}
    frame = RawSocket.frame("421" + json.dumps(["sendMessage", junk], separators=(",", ":")))
    raws = []
    for _ in range(hostile):
        raw = await asyncio.to_thread(RawSocket, url)
        await asyncio.to_thread(raw.connect_namespace)
        raws.append(raw)

    def attack(raw: RawSocket) -> bytes:
        raw.sock.sendall(frame)
        return raw.read_until(b"]")

    timings: list[float] = []

    async def probe():
        for n in range(probes):
            began = time.perf_counter()
            ack = await customer.call(
                "sendMessage", {"conversationId": conversation_id, "type": "ChatMessage", "text": f"probe {n}"}
            )
            timings.append(time.perf_counter() - began)
            assert ack["ok"], ack

    probing = asyncio.create_task(probe())
    await asyncio.sleep(0.02)
    await asyncio.gather(*(asyncio.to_thread(attack, raw) for raw in raws))
    await probing
    for raw in raws:
        raw.close()
    await customer.disconnect()
    return timings


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hostile", type=int, default=3, choices=range(0, 21))
    parser.add_argument("--probes", type=int, default=100, choices=range(1, 10_001), metavar="N")
    parser.add_argument("--rounds", type=int, default=3, choices=range(1, 21), metavar="N")
    args = parser.parse_args(argv)
    with environment(database_url=None, redis_url=None) as bench_env, running_server(bench_env, "stall") as server:
        for number in range(1, args.rounds + 1):
            timings = sorted(asyncio.run(one_round(server.url, args.hostile, args.probes)))
            p99 = timings[max(0, int(len(timings) * 0.99) - 1)]
            print(
                f"[{number}] probe acks with {args.hostile} hostile 900 KB packets in flight: "
                f"median {statistics.median(timings) * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms, "
                f"max {timings[-1] * 1000:.1f} ms ({len(timings)} probes)",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
