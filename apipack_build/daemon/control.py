"""``apipack daemon start|stop|status [PROJECT]``: what a user does with a project's daemon.

``start`` launches the daemon detached (its own session, so the terminal's Ctrl-C is not its),
its output in ``.apipack/daemon.log``, and returns once it answers: it has loaded the engine
by then, so the first served command is warm too.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

from ..base.lookup import STATE_DIR
from . import record
from .client import compatible, connect
from .spawn import launch

START_WAIT = 120.0  # seconds for a daemon to come up on a busy machine
STOP_WAIT = 60.0  # seconds for it to finish a build and exit
ANSWER_WAIT = 10.0  # seconds for a running daemon to answer ``status`` or ``stop``
IDLE_MINUTES = 180  # a daemon nobody asks for this long exits


def start(root: Path, idle_minutes: float = IDLE_MINUTES) -> int:
    running = status(root)
    if running is not None:
        print(f"apipack: a daemon already serves {_shown(root)} (pid {running['pid']})")
        return 0
    state = root / STATE_DIR
    state.mkdir(exist_ok=True)
    process = launch(root, idle_minutes)
    deadline = time.monotonic() + START_WAIT
    while time.monotonic() < deadline:
        running = status(root)
        if running is not None:  # ours, or one a command launched meanwhile
            print(
                f"apipack: daemon started for {_shown(root)} (pid {running['pid']}); "
                f"`apipack generate` and `apipack check` there are served by it"
            )
            return 0
        if process.poll() not in (None, 0):  # 0: it left to one launched meanwhile; wait for it
            print(
                f"apipack: the daemon stopped as it started; see {_shown(state / record.LOG_FILE)}",
                file=sys.stderr,
            )
            return 1
        time.sleep(0.05)
    process.terminate()
    print(f"apipack: the daemon did not answer within {START_WAIT:.0f} s", file=sys.stderr)
    return 1


def stop(root: Path) -> int:
    found = record.read(root / STATE_DIR)
    answer = _ask(found, {"stop": True})
    if found is not None and answer is None and _alive(int(found.get("pid", 0))):
        print(f"apipack: the daemon (pid {found['pid']}) does not answer", file=sys.stderr)
        return 1
    if found is None or answer is None:
        _forget_stale(root, found)
        print(f"apipack: no daemon runs for {_shown(root)}")
        return 0
    pid = int(answer.get("pid", 0))
    deadline = time.monotonic() + STOP_WAIT
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    print(f"apipack: daemon stopped (pid {pid})")
    return 0


def status(root: Path) -> dict[str, Any] | None:
    """What the running daemon of *root* says of itself (with ``compatible``: whether this
    process may hand it commands), or None when none answers."""
    found = record.read(root / STATE_DIR)
    answer = _ask(found, {"status": True})
    if found is None or answer is None:
        return None
    return {**answer, "compatible": compatible(found)}


def show_status(root: Path) -> int:
    running = status(root)
    if running is None:
        print(f"apipack: no daemon runs for {_shown(root)}")
        return 1
    memory = f", {running['rss_mb']} MB" if running.get("rss_mb") is not None else ""
    print(
        f"apipack: daemon for {_shown(root)}: pid {running['pid']}, up {running['uptime']} s, "
        f"{running['served']} command(s) served{memory}, "
        f"exits after {running['idle_timeout'] / 60:g} min idle"
    )
    if not running["compatible"]:
        print(
            "apipack: it runs other code than this apipack: commands run in-process "
            "(`apipack daemon stop`, then `start`)"
        )
    return 0


def _ask(found: dict[str, Any] | None, question: dict[str, Any]) -> dict[str, Any] | None:
    if found is None or found.get("uid") != os.getuid():
        return None
    channel = connect(found)
    if channel is None:
        return None
    try:
        channel.connection.settimeout(ANSWER_WAIT)
        channel.send(question)
        return channel.receive()
    except OSError:
        return None
    finally:
        channel.close()


def _forget_stale(root: Path, found: dict[str, Any] | None) -> None:
    """A record whose daemon is dead (killed with -9): its socket and record go."""
    if found is None:
        return
    address = found.get("socket")
    if isinstance(address, str) and Path(address).name == record.socket_path(root).name:
        Path(address).unlink(missing_ok=True)
    (root / STATE_DIR / record.RECORD_FILE).unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _shown(path: Path) -> str:
    return os.path.relpath(path)
