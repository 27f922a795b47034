"""The lock file between processes (``base.flock``): exclusive across processes and objects,
counted for its holder, let go when its holder dies, and the same system lock the ``filelock``
library takes (the tests hold a project's build lock with it)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from filelock import FileLock as LibraryLock

from apipack_build.base.flock import FileLock, Timeout


def test_two_locks_of_one_file_exclude_each_other(tmp_path: Path) -> None:
    first, second = FileLock(tmp_path / "x.lock"), FileLock(tmp_path / "x.lock")
    first.acquire(timeout=0)
    with pytest.raises(Timeout):
        second.acquire(timeout=0.1)
    first.release()
    second.acquire(timeout=0)
    assert second.is_locked and not first.is_locked
    second.release()


def test_the_holder_takes_it_again_and_lets_go_when_released_as_often(tmp_path: Path) -> None:
    lock, other = FileLock(tmp_path / "x.lock"), FileLock(tmp_path / "x.lock")
    lock.acquire(timeout=0)
    lock.acquire(timeout=0)
    lock.release()
    with pytest.raises(Timeout):
        other.acquire(timeout=0)
    lock.release()
    with other:
        assert other.is_locked
    assert not other.is_locked
    assert (tmp_path / "x.lock").is_file()  # the file stays; only the lock goes


def test_it_excludes_the_filelock_librarys_lock_of_the_same_file(tmp_path: Path) -> None:
    with LibraryLock(str(tmp_path / "x.lock")), pytest.raises(Timeout):
        FileLock(tmp_path / "x.lock").acquire(timeout=0)
    ours = FileLock(tmp_path / "x.lock")
    ours.acquire(timeout=0)
    with pytest.raises(TimeoutError):
        LibraryLock(str(tmp_path / "x.lock")).acquire(timeout=0)
    ours.release()


def test_a_waiting_lock_gets_it_once_a_killed_holder_is_gone(tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\n"
            "from apipack_build.base.flock import FileLock\n"
            f"FileLock({str(tmp_path / 'x.lock')!r}).acquire()\n"
            "print('held', flush=True)\n"
            "time.sleep(600)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        lock = FileLock(tmp_path / "x.lock")
        with pytest.raises(Timeout):
            lock.acquire(timeout=0)
        holder.kill()
        holder.wait(timeout=60)
        lock.acquire(timeout=60)
        assert lock.is_locked
        lock.release()
    finally:
        holder.kill()
        holder.wait(timeout=60)
