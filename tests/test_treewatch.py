"""``_treewatch.TreeWatch`` on a real folder, with the kernel's real inotify queue.

Each ``ask`` is one build's question about one package folder: the *check* handed over says
"changed", so an answer of True means the watch vouched for the folder without checking it.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from apipack_build._treewatch import TreeWatch

FOLDERS = ("python/alpha", "python/beta", "ts/gamma")


@pytest.fixture
def output(tmp_path: Path) -> Path:
    for folder in FOLDERS:
        (tmp_path / "out" / folder / "src").mkdir(parents=True)
        (tmp_path / "out" / folder / "src" / "main.py").write_text("x = 1\n", encoding="utf-8")
    return tmp_path / "out"


def vouched(watch: TreeWatch, output: Path, *folders: str) -> set[str]:
    """One build asking about *folders*: those the watch took as unchanged without a check
    (each first checked and found unchanged, so that it is remembered)."""
    watch.new_build()
    found = {f for f in folders if watch.holds(output, f, "sig", lambda: False)}
    watch.new_build()
    for folder in set(folders) - found:
        watch.holds(output, folder, "sig", lambda: True)
    return found


def test_a_folder_is_vouched_for_until_something_changes_below_it(output: Path) -> None:
    watch = TreeWatch()
    assert vouched(watch, output, *FOLDERS) == set()  # nothing known at first
    assert vouched(watch, output, *FOLDERS) == set(FOLDERS)
    assert not watch.holds(output, "python/alpha", "another", lambda: False)  # another signature

    main = output / "python" / "alpha" / "src" / "main.py"
    with main.open("r+b") as file:
        file.write(b"y")  # in place: same size and inode
    assert vouched(watch, output, *FOLDERS) == {"python/beta", "ts/gamma"}

    os.chmod(output / "python" / "beta" / "src", 0o700)
    (output / "ts" / "gamma" / "new" / "deeper").mkdir(parents=True)  # a folder, then a file
    assert vouched(watch, output, *FOLDERS) == {"python/alpha"}
    (output / "ts" / "gamma" / "new" / "deeper" / "late.py").write_text("", encoding="utf-8")
    assert vouched(watch, output, *FOLDERS) == {"python/alpha", "python/beta"}

    main.unlink()
    (output / "python" / "delta").mkdir()  # a package folder made beside
    assert vouched(watch, output, *FOLDERS) == {"python/beta", "ts/gamma"}
    watch.close()


def test_what_cannot_be_followed_drops_everything_known(output: Path) -> None:
    watch = TreeWatch()
    vouched(watch, output, *FOLDERS)
    assert vouched(watch, output, *FOLDERS) == set(FOLDERS)

    away = output / "ts" / "gamma"
    away.rename(output / "gamma")  # a folder moved: its watch would report under the old name
    (output / "gamma").rename(away)
    assert vouched(watch, output, *FOLDERS) == set()
    assert vouched(watch, output, *FOLDERS) == set(FOLDERS)

    shutil.copytree(output, output.with_name("copy"))  # the output folder replaced
    shutil.rmtree(output)
    output.with_name("copy").rename(output)
    assert vouched(watch, output, *FOLDERS) == set()
    assert vouched(watch, output, *FOLDERS) == set(FOLDERS)

    # more events than the kernel queues: the queue overflows
    queued = int(Path("/proc/sys/fs/inotify/max_queued_events").read_text())
    files = [output / "python" / "beta" / "src" / "main.py", output / "ts" / "gamma" / "x"]
    files[1].write_text("", encoding="utf-8")
    for number in range(queued + 2):
        os.utime(files[number % 2], ns=(number, number))  # alternate: no two events merge
    assert vouched(watch, output, *FOLDERS) == set()
    watch.close()


def test_a_symbolic_link_keeps_its_folder_checked(output: Path, tmp_path: Path) -> None:
    """A change to what a link points at is queued nowhere below the output folder."""
    elsewhere = tmp_path / "elsewhere.py"
    elsewhere.write_text("", encoding="utf-8")
    (output / "python" / "alpha" / "src" / "linked.py").symlink_to(elsewhere)
    watch = TreeWatch()
    vouched(watch, output, *FOLDERS)
    assert vouched(watch, output, *FOLDERS) == {"python/beta", "ts/gamma"}
    (output / "ts" / "gamma" / "link").symlink_to(elsewhere)  # made while watched
    assert vouched(watch, output, *FOLDERS) == {"python/beta"}
    watch.close()


def test_without_an_output_folder_nothing_is_vouched_for(tmp_path: Path) -> None:
    watch = TreeWatch()
    assert vouched(watch, tmp_path / "missing", *FOLDERS) == set()
    assert vouched(watch, tmp_path / "missing", *FOLDERS) == set()
