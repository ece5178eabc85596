"""How this server puts events on the wire, cheaper per event than python-socketio's defaults
(bench/README.md, "Hot path, event-loop side"). What reaches a client is the same."""

import logging
import re

import socketio
import ujson
from engineio import json as engineio_json
from engineio import packet as eio_packet
from socketio import packet as sio_packet

logger = logging.getLogger(__name__)


class DirectEmit(socketio.AsyncManager):
    """AsyncManager.emit, with the recipients looked up before the payload is encoded (an emit to
    a room holding only the caller encodes nothing), and each packet queued in turn instead of in
    a task per recipient gathered by asyncio.wait. Queuing a packet does not wait (the queues
    are bounded by dropping: chatserver.guards.OutgoingQueue), so the order is the same."""

    async def emit(self, event, data, namespace, room=None, skip_sid=None, callback=None, to=None, **kwargs):
        if callback is not None:  # a packet per recipient, each with an ack id: python-socketio's way
            return await super().emit(
                event, data, namespace, room=room, skip_sid=skip_sid, callback=callback, to=to, **kwargs
            )
        if namespace not in self.rooms:
            return
        skip = skip_sid if isinstance(skip_sid, list) else (skip_sid,)
        recipients = [eio_sid for sid, eio_sid in self.get_participants(namespace, to or room) if sid not in skip]
        if not recipients:
            return
        args = list(data) if isinstance(data, tuple) else [] if data is None else [data]
        encoded = self.server.packet_class(sio_packet.EVENT, namespace=namespace, data=[event, *args]).encode()
        parts = encoded if isinstance(encoded, list) else [encoded]
        packets = [eio_packet.Packet(eio_packet.MESSAGE, part) for part in parts]
        for eio_sid in recipients:
            try:
                for pkt in packets:
                    await self.server._send_eio_packet(eio_sid, pkt)
            except Exception:  # one recipient's failure must not keep the event from the others
                logger.exception("sending %s to one connection failed", event)


class WireJson:
    """JSON for Socket.IO packets: ujson (autobahn's own dependency, C both ways) instead of the
    json module, whose decoding here calls back into Python for every integer. Numbers of more
    than 100 digits are refused as before (engineio's rule, against slow huge-integer parsing):
    a packet holding a run of that many digits is parsed by engineio's json, which knows strings
    from numbers."""

    _long_digits = re.compile(r"\d{101}")

    @staticmethod
    def dumps(obj, **kwargs) -> str:
        # The same text as json.dumps with python-socketio's separators (ujson escapes "/" unless told not to).
        return ujson.dumps(obj, separators=(",", ":"), escape_forward_slashes=False)

    @classmethod
    def loads(cls, text, **kwargs):
        if isinstance(text, bytes | bytearray):  # what the Redis manager reads
            text = text.decode()
        if cls._long_digits.search(text):
            return engineio_json.loads(text)
        return ujson.loads(text)


class WirePacket(sio_packet.Packet):
    """Socket.IO packets in WireJson. This server never sends bytes, so outgoing packets skip
    python-socketio's walk through the whole payload looking for them (binary events a client
    sends are still read: that is decided by the packet type on the wire)."""

    uses_binary_events = False
    json = WireJson


def uncoloured_autobahn_logs() -> None:
    """autobahn builds the arguments of its debug lines whether they are logged or not, and
    colours each with click.style: about eight calls for every websocket frame sent (a message
    is two frames out: the ack and the delivery). Without the colours those arguments cost a
    string each; the lines, when debug logging is on, read the same without ANSI escapes.
    Called by `manage.py serve` before daphne starts."""
    from autobahn import util

    def hl(text, bold=False, color="yellow"):
        return text if isinstance(text, str) else f"{text}"

    util.hl = hl
