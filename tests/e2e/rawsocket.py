"""A hand-made Socket.IO websocket client for hostile tests: one that can stop reading, or send
packets no library would send. Blocking sockets; each call is bounded by a timeout."""

import json
import os
import socket
import struct
import time
from base64 import b64encode
from urllib.parse import urlsplit


class RawSocket:
    def __init__(self, server_url: str, *, receive_buffer: int | None = None, timeout: float = 10):
        parts = urlsplit(server_url)
        self.sock = socket.socket()
        if receive_buffer:  # a small window: a client that stops reading stops the kernel soon
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        self.sock.settimeout(timeout)
        self.sock.connect((parts.hostname, parts.port))
        key = b64encode(os.urandom(16)).decode()
        self.sock.sendall(
            (
                "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n"
                f"Host: {parts.hostname}:{parts.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        self.received = b""
        self.read_until(b"\r\n\r\n")
        self.read_until(b'"sid"')  # the Engine.IO open packet, read to its end: a random sid may hold "40"
        self.read_until(b"}")

    def read_until(self, marker: bytes, timeout: float = 10) -> bytes:
        deadline = time.monotonic() + timeout
        while marker not in self.received:
            if time.monotonic() > deadline:
                raise TimeoutError(f"no {marker!r} in {self.received[-300:]!r}")
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed by the server")
            self.received += chunk
        before, _, after = self.received.partition(marker)
        self.received = after
        return before

    @staticmethod
    def frame(text: str) -> bytes:
        """A masked websocket text frame (XOR as one big integer: fast enough for 1 MB)."""
        payload = text.encode()
        mask = os.urandom(4)
        length = len(payload)
        if length < 126:
            header = struct.pack("!BB", 0x81, 0x80 | length)
        elif length < 65536:
            header = struct.pack("!BBH", 0x81, 0x80 | 126, length)
        else:
            header = struct.pack("!BBQ", 0x81, 0x80 | 127, length)
        key = (mask * (length // 4 + 1))[:length]
        masked = (int.from_bytes(payload, "big") ^ int.from_bytes(key, "big")).to_bytes(length, "big")
        return header + mask + masked

    def send_text(self, text: str) -> None:
        self.sock.sendall(self.frame(text))

    def connect_namespace(self, namespace: str = "/") -> None:
        self.send_text("40" if namespace == "/" else f"40{namespace},")
        self.read_until(b"40" if namespace == "/" else namespace.encode())
        self.read_until(b"}")  # the rest of the CONNECT answer: {"sid": ...}

    def emit(self, event: str, payload, ack_id: int = 1) -> None:
        self.send_text(f"42{ack_id}" + json.dumps([event, payload]))

    def is_closed_by_server(self, timeout: float = 10) -> bool:
        """Read (and discard) until the server closes the connection; False if it stays open."""
        self.sock.settimeout(timeout)
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                if not self.sock.recv(1 << 20):
                    return True
        except (ConnectionResetError, BrokenPipeError):
            return True
        except TimeoutError:
            return False
        return False

    def close(self) -> None:
        self.sock.close()
