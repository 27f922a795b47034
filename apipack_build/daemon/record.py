"""Where a project's daemon listens and which code it runs, as ``.apipack/daemon.json`` says.

The socket lives where its path is short (an ``AF_UNIX`` path holds about 107 bytes, a project
path may be longer): in ``$XDG_RUNTIME_DIR/apipack/``, else in a per-user ``apipack-UID`` folder
of the temporary folder, mode 0700, named by a hash of the project's folder. The record in the
project's state folder names it, with the daemon's process id, its user, and the signature of
the code it runs: the interpreter, the import path, and the stat signature of every source file
the daemon imported (engine, rules, plugins, libraries). A client whose own signature of the
same files differs must not be served: the daemon would build with other code.

Read by the client before anything heavy is loaded: only ``os``, ``json`` and xxhash.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..base.hashing import bytes_hash

RECORD_FILE = "daemon.json"  # in the project's state folder
LOG_FILE = "daemon.log"  # likewise
DAEMON_LOCK = "daemon.lock"  # likewise: held by the project's one daemon


def socket_path(root: Path) -> Path:
    """The socket of *root*'s daemon, in a folder only this user may enter (made if absent)."""
    import tempfile  # not on the client's path: it reads the socket's path from the record

    name = bytes_hash(os.fsencode(root)).split(":")[-1][:16] + ".sock"
    runtime = os.environ.get("XDG_RUNTIME_DIR", "")
    folder = (
        Path(runtime) / "apipack"
        if runtime and _private(Path(runtime))
        else Path(tempfile.gettempdir()) / f"apipack-{os.getuid()}"
    )
    folder.mkdir(mode=0o700, exist_ok=True)
    if not _private(folder):
        raise PermissionError(f"{folder}: not a folder of this user's alone (mode 0700)")
    return folder / name


def _private(folder: Path) -> bool:
    """*folder* is a real folder owned by this user that no one else may enter."""
    try:
        found = folder.lstat()
    except OSError:
        return False
    return (
        (found.st_mode & 0o170000) == 0o040000
        and found.st_uid == os.getuid()
        and not found.st_mode & 0o077
    )


def import_path() -> list[str]:
    """This process's import path less the entry Python puts first (the script's folder, or
    the current one), which differs between a command and the daemon it starts: the daemon
    drops that entry (``control.LAUNCH``), lest it import from the folders it serves."""
    return sys.path if getattr(sys.flags, "safe_path", False) else sys.path[1:]


def code_signature(files: Iterable[str], path: Iterable[str]) -> str:
    """The signature of the code a process runs: its interpreter, its import *path*
    (``import_path``) with each folder's stat signature (installing or removing a distribution
    changes its folder's: a new plugin, found through entry points, is other code), and the stat
    signature (modification time, size, inode) of each of *files*; a file gone counts as such."""
    parts = [interpreter(), sys.version, str(os.getuid())]
    for name in [*path, "", *sorted(files)]:
        try:
            found = os.stat(name) if name else None
            mark = f"{found.st_mtime_ns}:{found.st_size}:{found.st_ino}" if found else ""
        except OSError:
            mark = "-"
        parts += [name, mark]
    return bytes_hash("\0".join(parts).encode("utf-8", "surrogateescape"))


def interpreter() -> str:
    """This process's interpreter, however it was named (``python`` or ``python3`` of a
    virtual environment: the environment itself is told by the import path)."""
    return os.path.realpath(sys.executable)


def loaded_sources() -> list[str]:
    """The files of every module this process imported from outside the standard library."""
    stdlib = os.path.dirname(os.__file__) + os.sep
    found = {
        file
        for module in list(sys.modules.values())
        if isinstance(file := getattr(module, "__file__", None), str)
        and not file.startswith(stdlib)
    }
    return sorted(found)


def read(state: Path) -> dict[str, Any] | None:
    """The record in *state* (a project's state folder), or None if there is none or it is
    damaged."""
    try:
        found = json.loads((state / RECORD_FILE).read_bytes())
    except (OSError, ValueError):
        return None
    return found if isinstance(found, dict) else None
