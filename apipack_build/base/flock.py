"""A lock file between processes: a project's build lock and the LLM's request slots.

The system's lock on an open file (``flock``; a locked byte on Windows), taken without waiting
and tried again until a deadline: the system drops it when its holder exits, however it ends,
so a killed build leaves nothing to clean up, and the file itself stays. It is the lock the
``filelock`` library takes on the same file (tests hold it with that library), without that
library's import: 25 ms of every build that is not a no-op, for the two calls made here.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

#: how often a waiting lock is tried again
POLL_SECONDS = 0.05

if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _try_lock(fd: int) -> None:
        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)

    def _unlock(fd: int) -> None:
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _try_lock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


class Timeout(TimeoutError):
    """The lock was still held by another when the wait ended."""


class FileLock:
    """An exclusive lock on the file at *path*. Taken again by its holder, it counts: it is
    let go when released as often as it was taken. Two ``FileLock`` of one file exclude each
    other, in one process as in two."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._fd: int | None = None
        self._taken = 0

    @property
    def is_locked(self) -> bool:
        return self._fd is not None

    def acquire(self, timeout: float = -1) -> None:
        """Take the lock, waiting at most *timeout* seconds (forever if negative)."""
        if self._fd is not None:
            self._taken += 1
            return
        deadline = None if timeout < 0 else time.monotonic() + timeout
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                _try_lock(fd)
            except OSError:
                os.close(fd)
                if deadline is not None and time.monotonic() >= deadline:
                    raise Timeout(f"{self.path} is locked") from None
                time.sleep(POLL_SECONDS)
                continue
            self._fd, self._taken = fd, 1
            return

    def release(self) -> None:
        if self._fd is None:
            return
        self._taken -= 1
        if self._taken == 0:
            fd, self._fd = self._fd, None
            try:
                _unlock(fd)
            finally:
                os.close(fd)

    def __enter__(self) -> FileLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
