"""A websocket client that does not read must not grow the server without bound.

daphne hands every frame to Twisted, whose transport buffers whatever the client has not read
yet, without limit (measured before this: 10 connections that never read, 8 KB messages, RSS
224 -> 1,120 MB in 40 s). Here, before a frame is written, the bytes still waiting in the
transport are counted; past CHAT_MAX_OUTGOING_BYTES the TCP connection is aborted. The client
sees its transport close, reconnects and rejoins with lastSequence, and loses nothing: every
message is stored before it is sent.

The check is on what is already waiting, not on the new frame, and a connection may have one
frame more than the limit waiting (the largest it was sent since it last caught up), so one
large conversationInfo (up to CHAT_HISTORY_LIMIT messages) still reaches a client that reads:
a connection holds at most CHAT_MAX_OUTGOING_BYTES plus its largest frame.
"""

import logging

from django.conf import settings

logger = logging.getLogger("chatserver.backpressure")


def waiting_bytes(transport) -> int:
    """Bytes written to a Twisted transport and not yet taken by the kernel."""
    buffered = len(getattr(transport, "dataBuffer", b"")) - getattr(transport, "offset", 0)
    return buffered + getattr(transport, "_tempDataLen", 0)


def install() -> None:
    """Bound daphne's websocket sends (called by `manage.py serve` before daphne starts)."""
    from daphne.ws_protocol import WebSocketProtocol

    if getattr(WebSocketProtocol, "_chat_bounded", False):
        return
    original = WebSocketProtocol.handle_reply

    def handle_reply(self, message):
        if message.get("type") == "websocket.send" and self.transport is not None:
            limit, waiting = settings.CHAT_MAX_OUTGOING_BYTES, waiting_bytes(self.transport)
            if waiting <= limit:
                self._chat_largest_frame = 0
            elif waiting > limit + getattr(self, "_chat_largest_frame", 0):
                if not getattr(self, "_chat_dropped", False):
                    self._chat_dropped = True
                    logger.warning(
                        "dropped a websocket that fell %d bytes behind (CHAT_MAX_OUTGOING_BYTES=%d)", waiting, limit
                    )
                    self.transport.abortConnection()
                return
            frame = message.get("bytes") or message.get("text") or ""
            self._chat_largest_frame = max(getattr(self, "_chat_largest_frame", 0), len(frame))
        return original(self, message)

    WebSocketProtocol.handle_reply = handle_reply
    WebSocketProtocol._chat_bounded = True
