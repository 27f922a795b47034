"""``apipack watch`` as a user runs it: a real process, real file events, Ctrl-C as SIGINT."""

from __future__ import annotations

import contextlib
import queue
import re
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path

from helpers import Project

PATIENCE = 120.0  # seconds to wait for an event on a busy machine; not a speed requirement


class Watcher:
    """``apipack watch`` in *project*, its output lines gathered as they come."""

    def __init__(self, project: Project):
        self.process = project.popen("apipack", "watch")
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        for stream in (self.process.stdout, self.process.stderr):
            threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream: object) -> None:
        for line in iter(stream.readline, ""):  # type: ignore[attr-defined]
            self.lines.put(line.rstrip("\n"))

    def wait_for(self, what: str, done: Callable[[], bool], *, running: bool = True) -> None:
        deadline = time.monotonic() + PATIENCE
        while not done():
            with contextlib.suppress(queue.Empty):
                self.seen.append(self.lines.get(timeout=0.1))
            if running:
                assert self.process.poll() is None, "watch exited:\n" + "\n".join(self.seen)
            assert time.monotonic() < deadline, f"no {what}:\n" + "\n".join(self.seen)

    def said(self, pattern: str) -> bool:
        return any(re.search(pattern, line) for line in self.seen)

    def stop(self) -> int:
        self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout=PATIENCE)


def text(path: Path) -> str:
    return path.read_text(encoding="utf-8") if path.is_file() else ""


def test_watch_rebuilds_each_save_keeps_watching_after_a_bad_one_and_stops_on_ctrl_c(
    project: Project,
) -> None:
    watcher = Watcher(project)
    try:
        watcher.wait_for("first build", lambda: watcher.said(r"^apipack: watching "))
        alpha = project.out / "docs" / "alpha.txt"
        assert text(alpha).endswith("ALPHA: First\n")

        project.edit("specs/tools.yml", "First", "Primary")
        watcher.wait_for("rebuild after an edit", lambda: "Primary" in text(alpha))

        project.edit("specs/tools.yml", "output_type: string", "output_type: strng")
        watcher.wait_for(
            "the problem of an invalid save",
            lambda: watcher.said(r"^specs/tools\.yml:\d+:\d+: functions\[0\]\.output_type: "),
        )

        # an editor's burst of saves, the spec fixed by the last: its text is what gets built
        for revision in range(5):
            project.edit("specs/tools.yml", "Primary", f"Primary {revision}")
            project.edit("specs/tools.yml", f"Primary {revision}", "Primary")
        project.edit("specs/tools.yml", "output_type: strng", "output_type: string")
        project.edit("specs/tools.yml", "Primary", "Final")
        watcher.wait_for("rebuild after the fix", lambda: "Final" in text(alpha))
    finally:
        code = watcher.stop()
    # 0 when Ctrl-C came while it waited, 130 when inside a rebuild (the burst may still be
    # settling): either way it says so and leaves a consistent state
    stopped = r"^apipack: (stopped|interrupted)"
    watcher.wait_for("its last words", lambda: watcher.said(stopped), running=False)
    assert code in (0, 130), "\n".join(watcher.seen)
    # the state Ctrl-C left is consistent and current: nothing to report, nothing to run
    project.apipack("check")
    assert project.generate()["tasks_run"] == 0
