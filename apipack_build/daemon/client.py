"""The thin side of ``apipack daemon``: ``apipack generate``/``check`` handed to the project's
daemon, when one runs the same code for the same user; when none serves it, the command runs
in its own process and then starts one for the next (``start_for_next``), as pantsd, Bazel's
server and Gradle's daemon start on first use.

Loads nothing the daemon spares (no pydantic, doit, Jinja or httpx): the record is JSON, the
code signature a few hundred ``stat`` calls. Any doubt — no record, another interpreter, user
or code, a stale socket, a refusal, a daemon that does not accept in time or goes away before
answering — gives None, and the command runs in-process as it always did. Ctrl-C is passed on
(the daemon stops the build as Ctrl-C stops a fresh one); a second Ctrl-C leaves at once.
"""

from __future__ import annotations

import contextlib
import os
import socket
import sys
from collections.abc import Sequence
from pathlib import Path

from ..base.lookup import STATE_DIR
from ..errors import ApipackError
from ..load.project import locate
from . import record
from .wire import Channel

SERVED = ("generate", "check")  # the commands a daemon answers
OPT_OUT = "APIPACK_NO_DAEMON"  # set (non-empty): never hand a command to a daemon, nor start one
# set (non-empty), a command starts no daemon: ``CI`` by CI services (GitHub Actions, GitLab CI,
# CircleCI, Travis, Buildkite...), whose machine goes with the job; ``PRE_COMMIT`` by
# pre-commit's hooks, whose apipack lives in pre-commit's own environment: its daemon would
# hold the project (``_serve.main``) against the user's, which runs other code
NO_START = ("CI", "PRE_COMMIT")
# a daemon a command started outlives a pause in the edit-run cycle, not the day (each takes
# 100-200 MB, and a user may run apipack once in many projects)
AUTO_IDLE_MINUTES = 30
ACCEPT_WAIT = 10.0  # seconds for a live daemon to accept; a wedged one is left behind after it


def project(targets: Sequence[str], cwd: Path) -> Path | None:
    """The root of the project *targets* name, when a daemon may serve it or be started for
    it; None when none may."""
    if os.environ.get(OPT_OUT) or not hasattr(socket, "AF_UNIX") or not hasattr(os, "getuid"):
        return None  # asked not to, or a system without Unix sockets and users (Windows)
    try:
        return locate(targets, cwd).root
    except (ApipackError, OSError):
        return None  # the command itself will say what is wrong


def served(argv: Sequence[str], root: Path, cwd: Path) -> int | None:
    """Run ``apipack ARGV`` (run in *cwd*, for targets of the project in *root*) in that
    project's daemon and return its exit code, or None when no daemon may serve it."""
    found = record.read(root / STATE_DIR)
    if found is None or not compatible(found):
        return None
    channel = connect(found)
    if channel is None:
        return None
    try:
        return _relay(channel, list(argv), cwd, root, found)
    except OSError:
        return None
    finally:
        channel.close()


def start_for_next(root: Path) -> None:
    """After a command ran in its own process because no daemon served it: launch the daemon
    of the project in *root* in the background, unless one runs or starts, none may
    (``NO_START``), or no build has made the project's state folder. Nothing is waited for, and
    nothing said: the daemon's log tells how it went."""
    if any(map(os.environ.get, NO_START)) or not (root / STATE_DIR).is_dir():
        return
    found = record.read(root / STATE_DIR)
    channel = connect(found) if found is not None else None
    if channel is not None:  # one runs: this command's code is other, and it exits on its own
        channel.close()  # if its code changed; a daemon of another interpreter keeps the place
        return
    from .spawn import launch

    # a full disk, a read-only project: the next command runs in its own process again
    with contextlib.suppress(OSError):
        launch(root, AUTO_IDLE_MINUTES)


def compatible(found: dict[str, object]) -> bool:
    """The daemon of *found* (a record) runs this interpreter for this user, on the code this
    process would run."""
    files = found.get("files")
    return (
        found.get("uid") == os.getuid()
        and found.get("python") == record.interpreter()
        and isinstance(files, list)
        and found.get("code") == record.code_signature(map(str, files), record.import_path())
    )


def connect(found: dict[str, object]) -> Channel | None:
    """A connection to the daemon *found* names, or None (gone, or not ours)."""
    address = found.get("socket")
    if not isinstance(address, str):
        return None
    connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    connection.settimeout(ACCEPT_WAIT)
    try:
        connection.connect(address)
    except OSError:
        connection.close()
        return None
    return Channel(connection)


def _relay(
    channel: Channel, argv: list[str], cwd: Path, root: Path, found: dict[str, object]
) -> int | None:
    channel.send({"request": {**_request(argv, cwd, found), "root": str(root)}})
    answer = channel.receive()
    if answer is None or not answer.get("accepted"):
        return None
    channel.connection.settimeout(None)  # a build may take minutes (an LLM writing code)
    interrupted = False
    while True:
        try:
            message = channel.receive()
            if message is None:  # the daemon went away mid-command: run it here, from its state
                return 130 if interrupted else None
            if "exit" in message:
                return int(message["exit"])
            for key, stream in (("out", sys.stdout), ("err", sys.stderr)):
                if key in message:
                    stream.write(str(message[key]))
                    stream.flush()
        except KeyboardInterrupt:
            if interrupted:
                print("apipack: interrupted", file=sys.stderr)
                return 130
            interrupted = True
            try:
                channel.send({"interrupt": True})
            except OSError:
                return 130


def _request(argv: list[str], cwd: Path, found: dict[str, object]) -> dict[str, object]:
    """What the daemon needs to run *argv* as this process would: folder, environment, umask,
    and the terminal (the progress line and its width follow the client's)."""
    umask = os.umask(0o022)
    os.umask(umask)
    env = dict(os.environ)
    try:  # what ``shutil.get_terminal_size`` would find here, given to the daemon's copy
        size = os.get_terminal_size(sys.__stdout__.fileno())  # type: ignore[union-attr]
        env.setdefault("COLUMNS", str(size.columns))
        env.setdefault("LINES", str(size.lines))
    except (AttributeError, ValueError, OSError):
        pass
    return {
        "argv": argv,
        "cwd": str(cwd),
        "env": env,
        "umask": umask,
        "code": found.get("code"),
        "terminal": {"out": _on_terminal(sys.stdout), "err": _on_terminal(sys.stderr)},
        "encoding": getattr(sys.stdout, "encoding", None) or "utf-8",
    }


def _on_terminal(stream: object) -> bool:
    try:
        return bool(stream.isatty())  # type: ignore[attr-defined]
    except (AttributeError, ValueError):
        return False
