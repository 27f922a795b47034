"""The messages between a client and the daemon: one JSON object per line, UTF-8.

Client to daemon: ``{"request": {...}}`` (the command line, its folder, environment, umask and
terminal), then maybe ``{"interrupt": true}`` (Ctrl-C). Daemon to client: ``{"accepted": true}``
or ``{"refused": why}``, then ``{"out": text}`` and ``{"err": text}`` as the command prints,
then ``{"exit": code}``. The daemon's own commands: ``{"stop": true}`` and ``{"status": true}``,
each answered by one message.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from typing import Any


class Channel:
    """One connection's messages: sent whole under a lock (the build's threads print too),
    received line by line."""

    def __init__(self, connection: socket.socket):
        self.connection = connection
        self._reader = connection.makefile("rb")
        self._lock = threading.Lock()

    def send(self, message: dict[str, Any]) -> None:
        data = json.dumps(message).encode("ascii")  # escaped: a lone surrogate survives too
        with self._lock:
            self.connection.sendall(data + b"\n")

    def receive(self) -> dict[str, Any] | None:
        """The next message, or None once the other side closed (or sent something else)."""
        line = self._reader.readline()
        if not line:
            return None
        try:
            found = json.loads(line)
        except ValueError:
            return None
        return found if isinstance(found, dict) else None

    def close(self) -> None:
        # wakes a thread blocked reading this connection (closing alone would not)
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)
        self._reader.close()
        self.connection.close()
