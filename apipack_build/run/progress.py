"""Live progress of a build, on stderr, never in the summary JSON or the outputs.

On a terminal: one line, redrawn in place (carriage return, then ANSI erase-to-end), with tasks
done / total, the functions waiting on the LLM with their tokens per second, the time elapsed and
an estimate of the time left. Elsewhere (CI, pre-commit): one plain line per LLM function as it
finishes. ``--quiet`` shows neither.

doit's reporter runs in its main process whatever ``-n`` is, so task events arrive here even from
worker processes; tokens do not, as a reply streams inside a task's action. Each LLM request
therefore sends its tokens per second so far as a UDP datagram to 127.0.0.1, where a thread of the
main process receives them and redraws the line; a datagram lost costs one redraw, nothing else.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import sys
import threading
import time
from collections.abc import Iterator
from typing import IO, Any

TICK = 0.2  # seconds between redraws of the live line when nothing happens
SEND_EVERY = 0.1  # seconds between a request's token datagrams
ERASE = "\r\x1b[K"  # back to the line's start, erase to its end
LLM_PREFIX = "llm/"


def _llm(name: str) -> bool:
    return name.split(":", 1)[-1].startswith(LLM_PREFIX)


def function_label(name: str) -> str:
    """``llm/<package>/<language>/<function>`` as the summary names it: ``package.fn (lang)``."""
    package, language, function = name.split(":", 1)[-1][len(LLM_PREFIX) :].split("/", 2)
    return f"{package}.{function} ({language})"


def on_terminal(stream: IO[str]) -> bool:
    return stream.isatty() and os.environ.get("TERM", "") != "dumb"


class Progress:
    """What the build has done so far, shown on *stream* (live, or as plain lines)."""

    def __init__(self, stream: IO[str], *, live: bool):
        self.stream = stream
        self.live = live
        self.total = self.done = 0
        self.llm_total = self.llm_done = 0
        self.started = time.perf_counter()
        self.waiting: set[str] = set()  # LLM tasks started and not finished
        self.rates: dict[str, float] = {}  # LLM task -> tokens per second of its reply so far
        self.lock = threading.Lock()
        self.shown = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None
        self.address: tuple[str, int] | None = None
        if live:
            self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self._socket.bind(("127.0.0.1", 0))
            self._socket.settimeout(TICK)
            self.address = self._socket.getsockname()

    @classmethod
    def for_stderr(cls) -> Progress:
        return cls(sys.stderr, live=on_terminal(sys.stderr))

    # -- events from doit's reporter (main thread) --

    def initialize(self, names: list[str]) -> None:
        self.total = len(names)
        self.llm_total = sum(_llm(n) for n in names)
        self.started = time.perf_counter()

    def started_task(self, name: str) -> None:
        with self.lock:
            if _llm(name):
                self.waiting.add(name)
            self._draw()
        # started here, not earlier: doit forks its workers before the first task starts, and
        # a process must not fork while this thread may hold the stream's lock
        if self.live and self._thread is None:
            self._thread = threading.Thread(target=self._receive, daemon=True)
            self._thread.start()

    def finished_task(self, name: str, values: dict[str, Any] | None, failed: bool) -> None:
        with self.lock:
            self.done += 1
            if _llm(name):
                self.llm_done += 1
                self.waiting.discard(name)
                self.rates.pop(name, None)
                if not self.live:
                    self._plain(name, values or {}, failed)
            self._draw()

    def close(self) -> None:
        """Stop redrawing and erase the line, before the summary is printed."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if self._socket is not None:
            self._socket.close()
        with self.lock:
            if self.shown:
                self.stream.write(ERASE)
                self.stream.flush()
                self.shown = False

    # -- the two displays --

    def _plain(self, name: str, values: dict[str, Any], failed: bool) -> None:
        llm = values.get("llm") or {}
        tokens, seconds = llm.get("completion_tokens", 0), llm.get("seconds", 0.0)
        rate = f", {tokens / seconds:.0f} tok/s" if seconds >= 0.05 else ""
        how = "failed" if failed else f"{tokens} tokens in {seconds:.1f} s{rate}"
        self.stream.write(
            f"apipack: LLM {function_label(name)}: {how} [{self.llm_done}/{self.llm_total}]\n"
        )
        self.stream.flush()

    def line(self, now: float) -> str:
        """The live line, e.g. ``apipack [12/40] 4.2 s, ~9 s left · LLM: shout 31 tok/s, halve``
        (what does not fit the terminal is cut from the end, so the counts come first)."""
        elapsed = now - self.started
        line = f"apipack [{self.done}/{self.total}] {elapsed:.1f} s{self._estimate(elapsed)}"
        if self.waiting:
            shown = []
            for name in sorted(self.waiting):
                rate = self.rates.get(name)
                shown.append(name.rsplit("/", 1)[-1] + (f" {rate:.0f} tok/s" if rate else ""))
            line += " · LLM: " + ", ".join(shown)
        return line

    def _estimate(self, elapsed: float) -> str:
        """Time left at the pace so far: of LLM functions when the build asks the LLM (they
        dominate it), else of tasks."""
        done, total = (self.llm_done, self.llm_total) if self.llm_total else (self.done, self.total)
        if not done or done >= total:
            return ""
        return f", ~{elapsed * (total - done) / done:.0f} s left"

    def _draw(self) -> None:
        if not self.live:
            return
        width = shutil.get_terminal_size((80, 24)).columns
        self.stream.write(ERASE + self.line(time.perf_counter())[: max(width - 1, 10)])
        self.stream.flush()
        self.shown = True

    def _receive(self) -> None:
        """Token counts from LLM requests, and a redraw every tick (the clock moves)."""
        assert self._socket is not None
        while not self._stop.is_set():
            try:
                data = self._socket.recv(512)
            except TimeoutError:
                data = b""
            except OSError:
                return
            with self.lock:
                if data:
                    try:
                        message = json.loads(data)
                        name, rate = str(message["task"]), float(message["rate"])
                    except (ValueError, KeyError, TypeError):
                        continue
                    if name in self.waiting:
                        self.rates[name] = rate
                if not self._stop.is_set():
                    self._draw()


@contextlib.contextmanager
def metering(provider: Any, progress: Progress | None, name: str) -> Iterator[None]:
    """While *provider* answers LLM task *name*, send its tokens per second so far to the live
    display (from whichever process runs the task). Providers that stream call ``on_chunk``;
    the clock starts here, once the request holds its LLM slot."""
    address = progress.address if progress is not None else None
    if address is None:
        yield
        return
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    began = last = time.perf_counter()

    def on_chunk(count: int) -> None:
        nonlocal last
        now = time.perf_counter()
        if now - last < SEND_EVERY:
            return
        last = now
        message = {"task": name, "rate": count / (now - began)}
        with contextlib.suppress(OSError):
            sender.sendto(json.dumps(message).encode(), address)

    setattr(provider, "on_chunk", on_chunk)  # noqa: B010 - providers need not declare it
    try:
        yield
    finally:
        setattr(provider, "on_chunk", None)  # noqa: B010
        sender.close()
