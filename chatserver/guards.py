"""What keeps one client from hurting the others at the Socket.IO and Engine.IO layers.

- Outgoing packets waiting for a long-polling client are bounded (CHAT_MAX_OUTGOING_PACKETS);
  a client that falls that far behind is dropped, reconnects and rejoins with lastSequence.
  (Websocket clients are bounded in bytes where daphne buffers them: chatserver/backpressure.py.)
- Malformed packets (not Socket.IO, not JSON, an unknown Engine.IO type) are counted per
  connection and logged at most once a minute per connection, without a traceback; a
  connection that sends CHAT_MALFORMED_PACKET_LIMIT of them is closed.
- A long-polling session answers only requests from the address (and desk cookie) that opened
  it: its sid, should it leak, lets nobody else post events into it.

Dropping a connection closes its transport without an Engine.IO CLOSE packet, so that the
client sees "transport close" and reconnects by itself (socket.io-client and python-socketio
both do; after a server CLOSE or a Socket.IO disconnect they would not).
"""

import asyncio
import logging
import re
import time
from http.cookies import CookieError, SimpleCookie
from urllib.parse import parse_qs

import engineio
import socketio
from django.conf import settings
from engineio import exceptions as eio_exceptions
from engineio import packet as eio_packet
from socketio import packet as sio_packet

from chatserver.errors import PayloadTooLarge

logger = logging.getLogger("chatserver.guards")


class OutgoingQueue(asyncio.Queue):
    """An Engine.IO socket's queue of packets to send. Past the limit a packet is not queued:
    the socket is marked as fallen behind and dropped (see GuardedEngineServer)."""

    def __init__(self, server: "GuardedEngineServer"):
        super().__init__()
        self.server = server
        self.fell_behind = False

    def put_nowait(self, item):
        if item is not None and self.qsize() >= settings.CHAT_MAX_OUTGOING_PACKETS:
            if not self.fell_behind:
                self.fell_behind = True
                asyncio.get_running_loop().call_soon(self.server.drop_queue_owner, self)
            return
        super().put_nowait(item)

    async def put(self, item):
        self.put_nowait(item)  # never waits: a slow client must not hold up an emit to a room


class GuardedEngineServer(engineio.AsyncServer):
    def create_queue(self, *args, **kwargs):
        return OutgoingQueue(self)

    def drop_queue_owner(self, queue: OutgoingQueue) -> None:
        for sid, socket in list(self.sockets.items()):
            if socket.queue is queue:
                logger.warning(
                    "dropped a connection that fell %d packets behind (CHAT_MAX_OUTGOING_PACKETS)",
                    settings.CHAT_MAX_OUTGOING_PACKETS,
                )
                self.start_background_task(self.drop, sid)
                return

    async def drop(self, sid: str) -> None:
        """Close the connection's transport so that its client reconnects (see the module doc)."""
        socket = self.sockets.get(sid)
        if socket is None:
            return
        # Closing runs the disconnect handlers, which still read the session: forget it after.
        await socket.close(wait=False, abort=True, reason=self.reason.TRANSPORT_CLOSE)
        socket.queue.put_nowait(None)  # ends a pending long-poll, or the websocket writer
        self.sockets.pop(sid, None)


_original_receive = engineio.async_socket.AsyncSocket.receive


async def _receive_known_packets(self, pkt) -> None:
    """Engine.IO's receive, for packet types it knows; others count as malformed (engineio
    would index past its list of names while logging them, a traceback each)."""
    if not isinstance(pkt.packet_type, int) or not 0 <= pkt.packet_type < len(eio_packet.packet_names):
        await self.server.sio_server.malformed(self.sid, "unknown Engine.IO packet type")
        raise eio_exceptions.UnknownPacketError()
    await _original_receive(self, pkt)


engineio.async_socket.AsyncSocket.receive = _receive_known_packets

_original_decode = eio_packet.Packet.decode


def _decode_or_unknown(self, encoded_packet) -> None:
    try:
        _original_decode(self, encoded_packet)
    except (ValueError, TypeError, IndexError, KeyError, UnicodeError):
        self.packet_type, self.data, self.binary = -1, None, False


eio_packet.Packet.decode = _decode_or_unknown


# What the string fields of one accepted event can hold at most, with room to spare: a text of
# CHAT_MAX_TEXT_LENGTH, attachments' URLs, info.
STRING_CHARACTERS_ACCEPTED = 100_000
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')


def has_too_many_values(text: str) -> bool:
    """Whether a packet's JSON holds more than CHAT_MAX_PAYLOAD_NODES values, counted without
    parsing it: parsing builds every value, and the checks after it walk them all (engineio's
    json, which python-socketio used before chatserver.transport, took 260 ms for 450,000
    integers), so the count must come first. Commas outside strings are counted, and the
    strings are only looked at when there are that many commas at all (and could hold them)."""
    limit, commas = settings.CHAT_MAX_PAYLOAD_NODES, text.count(",")
    if commas < limit:
        return False
    if commas >= limit + STRING_CHARACTERS_ACCEPTED:  # more than all accepted fields' text could hold
        return True
    return _JSON_STRING.sub("", text).count(",") >= limit


class GuardedServer(socketio.AsyncServer):
    """The AsyncServer, with malformed packets counted instead of raised."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.eio.sio_server = self
        self._malformed: dict[str, list] = {}  # eio sid -> [count, last logged (monotonic)]

    def _engineio_server_class(self):
        return GuardedEngineServer

    async def malformed(self, eio_sid: str, what: str) -> None:
        seen = self._malformed.setdefault(eio_sid, [0, None])
        seen[0] += 1
        now = time.monotonic()
        if seen[1] is None or now - seen[1] >= 60:
            seen[1] = now
            logger.warning("malformed packet (%s); %d from this connection so far", what, seen[0])
        if seen[0] == settings.CHAT_MALFORMED_PACKET_LIMIT:
            logger.warning("closed a connection after %d malformed packets", seen[0])
            self.start_background_task(self.eio.drop, eio_sid)

    async def _handle_eio_message(self, eio_sid, data):
        if eio_sid in self._binary_packet:
            return await super()._handle_eio_message(eio_sid, data)
        if isinstance(data, str) and has_too_many_values(data):
            return await self._refuse_unparsed(eio_sid, data)
        try:
            pkt = self.packet_class(encoded_packet=data)
        except (ValueError, TypeError, IndexError, KeyError, AttributeError):
            return await self.malformed(eio_sid, "not a Socket.IO packet")
        if pkt.packet_type == sio_packet.CONNECT:
            await self._handle_connect(eio_sid, pkt.namespace, pkt.data)
        elif pkt.packet_type == sio_packet.DISCONNECT:
            await self._handle_disconnect(eio_sid, pkt.namespace, self.reason.CLIENT_DISCONNECT)
        elif pkt.packet_type == sio_packet.EVENT:
            await self._handle_event(eio_sid, pkt.namespace, pkt.id, pkt.data)
        elif pkt.packet_type == sio_packet.ACK:
            await self._handle_ack(eio_sid, pkt.namespace, pkt.id, pkt.data)
        elif pkt.packet_type in (sio_packet.BINARY_EVENT, sio_packet.BINARY_ACK) and self.manager.sid_from_eio_sid(
            eio_sid, pkt.namespace or "/"
        ):
            self._binary_packet[eio_sid] = pkt
        else:
            await self.malformed(eio_sid, "unexpected Socket.IO packet type")

    async def _refuse_unparsed(self, eio_sid: str, data: str) -> None:
        """Answer an event too big to parse with PAYLOAD_TOO_LARGE, from its header alone."""
        try:
            header = self.packet_class(encoded_packet=data[: data.index("[")])
        except (ValueError, TypeError, IndexError):
            return await self.malformed(eio_sid, "not a Socket.IO packet")
        if header.packet_type == sio_packet.EVENT and header.id is not None:
            error = PayloadTooLarge(f"The payload has more than {settings.CHAT_MAX_PAYLOAD_NODES} values.")
            answer = {"ok": False, "error": error.as_dict()}
            await self._send_packet(
                eio_sid, self.packet_class(sio_packet.ACK, namespace=header.namespace, data=[answer], id=header.id)
            )

    async def _handle_event(self, eio_sid, namespace, id, data):
        if not isinstance(data, list) or not data:
            return await self.malformed(eio_sid, "an event without a name")
        return await super()._handle_event(eio_sid, namespace, id, data)

    async def _handle_eio_disconnect(self, eio_sid, reason):
        self._malformed.pop(eio_sid, None)
        await super()._handle_eio_disconnect(eio_sid, reason)

    async def drop_all(self) -> int:
        """Drop every connection of this process: each client reconnects and resyncs."""
        sids = list(self.eio.sockets)
        for sid in sids:
            await self.eio.drop(sid)
        return len(sids)


def _client_address(scope: dict) -> str:
    client = scope.get("client") or ("", 0)
    return str(client[0])


def _desk_cookie(headers: list) -> str:
    for name, value in headers:
        if name == b"cookie":
            try:
                morsel = SimpleCookie(value.decode("latin-1")).get(settings.SESSION_COOKIE_NAME)
            except CookieError:
                return ""
            return morsel.value if morsel else ""
    return ""


class PollingSessionGuard:
    """ASGI middleware in front of Socket.IO: a request naming an existing long-polling sid
    must come from the address, and carry the desk cookie, that opened the session."""

    def __init__(self, app, sio: GuardedServer):
        self.app = app
        self.sio = sio

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and (sid := self._sid(scope)) is not None:
            opened = self.sio.environ.get(sid)
            if opened is not None and not self._same_holder(opened, scope):
                return await self._refuse(send)
        return await self.app(scope, receive, send)

    @staticmethod
    def _sid(scope: dict) -> str | None:
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        return query["sid"][0] if "sid" in query else None

    @staticmethod
    def _same_holder(opened: dict, scope: dict) -> bool:
        opened_scope = opened.get("asgi.scope", {})
        return _client_address(opened_scope) == _client_address(scope) and _desk_cookie(
            opened_scope.get("headers", [])
        ) == _desk_cookie(scope.get("headers", []))

    @staticmethod
    async def _refuse(send) -> None:
        body = b'"This session belongs to another client."'
        await send({"type": "http.response.start", "status": 400, "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": body})
