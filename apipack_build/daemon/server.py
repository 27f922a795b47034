"""The daemon's loop: one project, requests served one at a time, until it has reason to stop.

Each request runs in this process as a fresh ``apipack`` would run it: in the client's folder,
with its environment and umask, printing into streams that relay each write to the client
(saying they are a terminal when the client's are). Ctrl-C in the client arrives as an
``interrupt`` message, or as the connection closing, and is raised in the build as SIGINT
raises it in a fresh process; the daemon then serves the next request.

It stops on ``stop``, on SIGTERM, after ``idle`` seconds without a request, when the project's
folder, its socket or its record (``record``) is gone or names another daemon, and when a source
file it imported changed: a client would no longer match its signature, and an outdated daemon
would only take memory. It logs what it does (commands, exit codes, times; never the
environment) to its standard error, ``.apipack/daemon.log``.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import select
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..base.fsio import write_atomic
from ..base.lookup import STATE_DIR
from . import record
from .wire import Channel

TICK = 1.0  # seconds between looks at the reasons to stop
HANDSHAKE_WAIT = 10.0  # seconds a client has to send its request once connected
CLOCK_MARGIN_NS = 100_000_000  # file times lag the clock by up to a tick (<= 10 ms)

Handler = Callable[[list[str]], int]


class _Relay(io.TextIOBase):
    """``sys.stdout`` or ``sys.stderr`` of a served command: each write sent to the client."""

    def __init__(self, channel: Channel, key: str, terminal: bool, encoding: str):
        self._channel, self._key, self._terminal, self._encoding = channel, key, terminal, encoding

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return self._encoding

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return self._terminal

    def write(self, text: str) -> int:
        if text:  # if the client is gone, its build is being interrupted: drop the text
            with contextlib.suppress(OSError):
                self._channel.send({self._key: text})
        return len(text)


class Server:
    """The daemon of the project in *root*: *handle* runs one command line and returns its exit
    code; *after* runs once its client has the answer (the heap is settled there)."""

    def __init__(self, root: Path, handle: Handler, after: Callable[[], None], idle: float):
        self.root, self.handle, self.after, self.idle = root, handle, after, idle
        self.state = root / STATE_DIR
        self.started = time.monotonic()
        self.last = self.started
        self.served = 0
        self.busy = False
        self.stop_reason = ""
        self.files: list[str] = []
        self.code = ""
        self.codes: set[str] = set()  # every signature recorded: each still holds (see below)

    def serve(self) -> int:
        address = record.socket_path(self.root)
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        address.unlink(missing_ok=True)  # ``start`` found no daemon answering on it
        old = os.umask(0o177)  # the socket is born 0600
        try:
            listener.bind(str(address))
        finally:
            os.umask(old)
        listener.listen(8)
        self.socket_inode = address.stat().st_ino
        self.address = address
        signal.signal(signal.SIGINT, self._on_interrupt)
        signal.signal(signal.SIGTERM, self._on_terminate)
        self._remember_code()
        _log(f"serving {self.root.name} on {address} (pid {os.getpid()}, idle {self.idle:.0f} s)")
        look = time.monotonic() + TICK
        try:
            while not self.stop_reason:
                ready, _, _ = select.select([listener], [], [], TICK)
                if ready:
                    connection, _ = listener.accept()
                    self._answer(connection)
                if not self.stop_reason and time.monotonic() >= look:  # also between commands
                    self.stop_reason = self._reason_to_stop()  # that come one by one
                    look = time.monotonic() + TICK
        except SystemExit:
            self.stop_reason = self.stop_reason or "terminated"
        finally:
            listener.close()
            self._forget(address)
        _log(f"stopped: {self.stop_reason} ({self.served} request(s) served)")
        return 0

    # -- one connection --

    def _answer(self, connection: socket.socket) -> None:
        channel = Channel(connection)
        try:
            if _peer_uid(connection) not in (None, os.getuid()):
                return
            connection.settimeout(HANDSHAKE_WAIT)
            message = channel.receive()
            connection.settimeout(None)
            if message is None:
                return
            if message.get("stop"):
                self.stop_reason = "asked to stop"
                channel.send({"stopped": True, "pid": os.getpid()})
            elif message.get("status"):
                channel.send(self._status())
            elif isinstance(message.get("request"), dict):
                self._serve_request(channel, message["request"])
        except OSError as exc:
            _log(f"connection lost: {type(exc).__name__}")
        except Exception as exc:  # a malformed request must not end the daemon
            _log(f"a request failed: {type(exc).__name__}")
        finally:
            channel.close()

    def _serve_request(self, channel: Channel, request: dict[str, Any]) -> None:
        refused = self._refusal(request) or _gone(channel.connection)
        if refused:
            channel.send({"refused": refused})
            _log(f"refused a request: {refused}")
            return
        channel.send({"accepted": True})
        argv = [str(arg) for arg in request["argv"]]
        begun, cpu, since = time.perf_counter(), time.process_time(), time.time_ns()
        threading.Thread(target=self._interrupt_on, args=(channel,), daemon=True).start()
        code = self._run(channel, argv, request)
        spent = time.perf_counter() - begun, time.process_time() - cpu
        _log(f"served {argv[0]} (exit {code}, {spent[0]:.3f} s, CPU {spent[1]:.3f} s)")
        self.served += 1
        self._remember_code(since)
        with contextlib.suppress(OSError):  # last: what the client does next sees the above
            channel.send({"exit": code})
        self.last = time.monotonic()
        self.after()

    def _refusal(self, request: dict[str, Any]) -> str:
        """Why this daemon must not serve *request*, or ''."""
        if request.get("code") not in self.codes:  # a client may have read the last record
            return "the client runs other code"
        argv = request.get("argv")
        if not isinstance(argv, list) or not argv:
            return "no command"
        if Path(str(request.get("root"))).resolve() != self.root:
            return "the targets are another project's"
        return ""

    def _run(self, channel: Channel, argv: list[str], request: dict[str, Any]) -> int:
        """*argv* run as the client would run it, printing to the client."""
        terminal = request.get("terminal") or {}
        encoding = str(request.get("encoding") or "utf-8")
        streams = sys.stdout, sys.stderr
        sys.stdout = _Relay(channel, "out", bool(terminal.get("out")), encoding)
        sys.stderr = _Relay(channel, "err", bool(terminal.get("err")), encoding)
        os.environ.clear()
        os.environ.update({str(k): str(v) for k, v in dict(request.get("env") or {}).items()})
        os.umask(int(request.get("umask", 0o022)))
        try:
            os.chdir(str(request.get("cwd")))
            self.busy = True
            try:
                return self.handle(argv)
            finally:
                self.busy = False
        except KeyboardInterrupt:  # came between the handler's own answer and here
            return 130
        except SystemExit as exc:  # argparse's usage errors
            return exc.code if isinstance(exc.code, int) else 1
        except OSError as exc:
            print(f"apipack: {exc}", file=sys.stderr)
            return 2
        finally:
            sys.stdout.flush()
            sys.stdout, sys.stderr = streams
            os.chdir(self.root)

    def _interrupt_on(self, channel: Channel) -> None:
        """Raise Ctrl-C in the build when the client sends it or goes away."""
        while True:
            try:
                message = channel.receive()
            except (OSError, ValueError):
                message = None
            if message is None or message.get("interrupt"):
                if self.busy:
                    signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGINT)
                return

    def _on_interrupt(self, signum: int, frame: object) -> None:
        if self.busy:  # only a build is interrupted; between requests a SIGINT means nothing
            raise KeyboardInterrupt

    def _on_terminate(self, signum: int, frame: object) -> None:
        self.stop_reason = "terminated"
        if self.busy:  # the build stops as on Ctrl-C, its client is answered, then the loop
            raise KeyboardInterrupt
        raise SystemExit(0)

    # -- the reasons to stop --

    def _reason_to_stop(self) -> str:
        if time.monotonic() - self.last > self.idle:
            return "idle"
        if not self.root.is_dir():
            return "the project folder is gone"
        try:
            if self.address.stat().st_ino != self.socket_inode:
                return "the socket was replaced"
        except OSError:
            return "the socket is gone"
        found = record.read(self.state)
        if found is None or found.get("pid") != os.getpid():
            return "the record names another daemon"
        if record.code_signature(self.files, sys.path) != self.code:
            return "the code it runs changed"
        return ""

    def _remember_code(self, since: int | None = None) -> None:
        """Record the code this process runs: the files imported so far (a build imports more).
        What it vouches for must be what it imported, so the new signature is taken first and
        then checked: the files of the last record must not have changed since (the signatures
        recorded before hold as long as the last one does), nor those first imported by the
        request begun at *since* (``time.time_ns()``) since it began."""
        files = record.loaded_sources()
        if files == self.files:
            return  # nothing new to record; the tick looks for edits of what is recorded
        code = record.code_signature(files, sys.path)
        if (self.code and record.code_signature(self.files, sys.path) != self.code) or (
            since is not None and _changed_since(sorted(set(files) - set(self.files)), since)
        ):
            self.stop_reason = "the code it runs changed"
            return
        self.files, self.code = files, code
        self.codes.add(code)
        found = {
            "pid": os.getpid(),
            "uid": os.getuid(),
            "socket": str(self.address),
            "python": record.interpreter(),
            "files": files,
            "code": self.code,
        }
        write_atomic(self.state / record.RECORD_FILE, json.dumps(found, indent=1).encode())

    def _forget(self, address: Path) -> None:
        """Remove the record and the socket, those that are still this daemon's (with the
        project folder gone, the socket alone is left to remove)."""
        found = record.read(self.state)
        if found is not None and found.get("pid") != os.getpid():
            return  # another daemon has taken over
        (self.state / record.RECORD_FILE).unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            if address.stat().st_ino == self.socket_inode:
                address.unlink()

    def _status(self) -> dict[str, Any]:
        return {
            "pid": os.getpid(),
            "served": self.served,
            "uptime": round(time.monotonic() - self.started, 1),
            "idle_timeout": self.idle,
            "rss_mb": _rss_mb(),
        }


def _changed_since(files: list[str], since: int) -> bool:
    """Whether any of *files* may have changed after *since* (``time.time_ns()``), so perhaps
    after this process imported it."""
    for name in files:
        try:
            if os.stat(name).st_mtime_ns >= since - CLOCK_MARGIN_NS:
                return True
        except OSError:
            return True
    return False


def _gone(connection: socket.socket) -> str:
    """Why *connection*'s client is no longer waiting (it gave up while another command was
    served, and ran its own in-process), or ''."""
    readable, _, _ = select.select([connection], [], [], 0)
    if readable and connection.recv(1, socket.MSG_PEEK) == b"":
        return "the client left before its turn"
    return ""


def _peer_uid(connection: socket.socket) -> int | None:
    """The user of the process at the other end (Linux), or None where it cannot be asked."""
    option = getattr(socket, "SO_PEERCRED", None)
    if option is None:
        return None
    import struct

    data = connection.getsockopt(socket.SOL_SOCKET, option, struct.calcsize("3i"))
    return int(struct.unpack("3i", data)[1])


def _rss_mb() -> float | None:
    """The resident memory now (Linux's ``/proc``), or None where it cannot be read."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return round(pages * os.sysconf("SC_PAGE_SIZE") / 2**20, 1)


def _log(line: str) -> None:
    stamp = time.strftime("%Y-%m-%d %H:%M:%S")
    print(f"{stamp} apipack daemon: {line}", file=sys.__stderr__, flush=True)
