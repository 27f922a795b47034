"""The ``watch`` scenario: one ``apipack watch`` process, a series of saved edits, each timed from
the save to the edited function's files holding the new text (and, as ``rebuild_seconds``, to
the summary line that build prints).

The edited function is the first spec's first one, given a hand-written body for the scenario
(its description is in the prompt, so an LLM-written body would be asked for again on every
edit): what is timed is the build's own work, no LLM time. Each save waits until the previous
rebuild has written its fingerprint (nearly its last write) and half a second more, as an
editor's saves come seconds apart. Files are polled by their stat signature, so the harness
costs the watcher little CPU.
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from . import _synth
from ._measure import BenchError, Measurement, Repeats, Sample, clean_env, peak_rss_mb

#: the edited function's body, by hand (shape 0 of ``_synth``: text, count, ratio -> string)
HAND_WRITTEN = (
    "  code:\n"
    "    python: |\n"
    "      def fn_0000(text: str, count: int = 2, ratio: float | None = None) -> str:\n"
    "          return text * count\n"
)
#: the files of function 0 that hold its description (and the package files that list it)
WATCHED_FILES = (
    "src/bench_000/rest/routes/fn_0000.py",
    "src/bench_000/cli/commands/fn_0000.py",
    "src/bench_000/rest/openapi.json",
    "README.md",
)
FIRST_REVISION = 1000  # distinct from the "one function edited" scenario's revisions
PATIENCE = 600.0  # seconds to wait for the watcher on a busy machine (then the bench fails)
POLL = 0.002  # seconds between looks at the watched files


class _Watcher:
    """``apipack watch`` in the project, its output lines timestamped as they arrive."""

    def __init__(self, root: Path, env: dict[str, str], log: Path):
        command = [sys.executable, "-m", "apipack_build.cli", "watch"]
        log.parent.mkdir(parents=True, exist_ok=True)
        self.log = log.open("w", encoding="utf-8")
        self.process = subprocess.Popen(
            command,
            cwd=root,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            # a bench started as a background job ignores SIGINT, and its children would too:
            # the watcher must stop on the Ctrl-C ``stop`` sends
            preexec_fn=_default_sigint,
        )
        self.lines: queue.Queue[tuple[float, str]] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in iter(self.process.stdout.readline, ""):
            self.lines.put((time.perf_counter(), line.rstrip("\n")))
            self.log.write(line)
            self.log.flush()

    def next_line(self, wanted: Callable[[str], bool], after: float = 0.0) -> float:
        """When the next line *wanted* accepts arrived, at or after the time *after*."""
        deadline = time.monotonic() + PATIENCE
        while time.monotonic() < deadline:
            try:
                at, line = self.lines.get(timeout=0.5)
            except queue.Empty:
                if self.process.poll() is not None:
                    raise BenchError(f"apipack watch exited {self.process.returncode}") from None
                continue
            if at >= after and wanted(line):
                return at
        raise BenchError(f"apipack watch: no awaited line in {PATIENCE:.0f} s")

    def settle(self, quiet: float) -> None:
        """Wait until the watcher has printed nothing for *quiet* seconds: the first build's
        lock write wakes it once more, and the first edit must not wait for that rebuild."""
        deadline = time.monotonic() + PATIENCE
        while time.monotonic() < deadline:
            try:
                self.lines.get(timeout=quiet)
            except queue.Empty:
                return

    def peak_rss_mb(self) -> float:
        return peak_rss_mb(self.process.pid)

    def stop(self) -> int:
        self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(timeout=PATIENCE)
        finally:
            self.log.close()


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _summary_line(line: str) -> bool:
    return line.startswith("apipack: ") and " tasks: " in line


def _wait_for_files(files: list[Path], text: str) -> float:
    """When every file of *files* holds *text*, polled by stat signature."""
    seen: dict[Path, tuple[int, int]] = {}
    pending = set(files)
    deadline = time.monotonic() + PATIENCE
    while pending:
        for path in sorted(pending):
            try:
                stat = os.stat(path)
            except FileNotFoundError:
                continue
            signature = (stat.st_ino, stat.st_mtime_ns)
            if seen.get(path) == signature:
                continue
            seen[path] = signature
            if text in path.read_text(encoding="utf-8"):
                pending.discard(path)
        if pending:
            if time.monotonic() > deadline:
                raise BenchError(f"watch: {sorted(map(str, pending))} never held {text!r}")
            time.sleep(POLL)
    return time.perf_counter()


def measure_watch(
    project: _synth.SynthProject, llm_url: str, logs: Path, repeats: Repeats
) -> Measurement:
    """Median time from a saved edit to the function's files written, over the repeats' most
    (at least 10) edits in one watch session; the project is left as it was, not yet rebuilt."""
    spec = project.spec_paths[0]
    before = spec.read_text(encoding="utf-8")
    marker = "  output_type: string\n"  # function 0's, the first in the file
    if marker not in before:
        raise BenchError(f"{spec}: no line {marker!r}")
    spec.write_text(before.replace(marker, marker + HAND_WRITTEN, 1), encoding="utf-8")
    package = project.output / "python" / "bench-000"
    files = [package / relative for relative in WATCHED_FILES]
    env = clean_env(logs.parent / "home", APIPACK_LLM_BASE_URL=llm_url)
    watcher = _Watcher(project.root, env, logs / "watch.log")
    samples = []
    try:
        watcher.next_line(lambda line: line.startswith("apipack: watching "))
        watcher.settle(1.0)
        for index in range(max(10, repeats.most)):
            revision = FIRST_REVISION + index
            time.sleep(0.5)  # the watcher idle, as between an editor's saves
            _synth.edit_one_function(project, revision)
            saved = time.perf_counter()
            written = _wait_for_files(files, f"(revision {revision})")
            finished = watcher.next_line(_summary_line, after=written)
            # the rebuild's last write, after its summary line: the fast path's fingerprint
            _wait_for_files([project.state / "fingerprint.json"], "")
            samples.append(
                Sample(
                    written - saved,
                    watcher.peak_rss_mb(),
                    {"rebuild_seconds": round(finished - saved, 4)},
                )
            )
    finally:
        code = watcher.stop()
        spec.write_text(before, encoding="utf-8")
    if code not in (0, 130):
        raise BenchError(f"apipack watch exited {code} on Ctrl-C (see {logs / 'watch.log'})")
    return Measurement("watch", project.functions, samples)
