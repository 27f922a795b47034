"""Which package folders of the generated tree are unchanged since a long-lived process
(``_session.Session``: the daemon, ``apipack watch``) last checked them: Bazel's ``--watchfs``,
answered from the kernel's own record of changes (Linux inotify).

A build that reuses a spec file's tasks first checks that its package folders still hold the
files the last build left, by the stat signature of each file (``run.treestate``): 7,964 stats
at N = 1000, the largest part of a served edit's plan. A folder checked once, by those same
stats, holds until something changes in it; and every change to a file or folder below the
output folder — a write, a truncation, a chmod, a file made, removed or renamed — is queued by
the kernel on the inotify descriptor before the call that made it returns. So at the start of
each build (``new_build``) the queue is read to the end when the plan first asks, without
waiting: a folder named in it is checked again; the others answer as last checked (``holds``).

Anything it cannot follow exactly drops everything it knows, and every folder is checked again:
the queue overflowing, the output folder itself moved or removed, a folder moved away (its watch
would follow it under the old name). A package folder holding a symbolic link is always checked:
a change to what the link points at is queued nowhere here. The process's own writes go through
the same queue, so the folders a build wrote into are checked again (``Session.check_tree``,
between builds). Where inotify is missing (not Linux, or no watch left), nothing is vouched
for: every folder is checked, as a fresh process does.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

#: the shard of everything outside package folders (``run.treestate.TOP``): every event is
#: taken to concern it too
TOP = ""


class TreeWatch:
    """The folders of one output tree known to hold what a stat check found in them."""

    def __init__(self) -> None:
        self._output: Path | None = None
        self._notify: Any = None  # ``inotify_simple.INotify``, or None: nothing vouched for
        self._folders: dict[int, str] = {}  # watch descriptor -> folder relative to the output
        self._checked: dict[str, str] = {}  # package folder -> its signature when checked
        self._linked: set[str] = set()  # package folders with a symbolic link: always checked
        self._looked = False  # at the queue, in this build

    def new_build(self) -> None:
        """A build begins: the next question reads the queue first."""
        self._looked = False

    def holds(self, output: Path, folder: str, signature: str, check: Callable[[], bool]) -> bool:
        """Does package *folder* of *output* still have *signature*? Known if a check found it
        since the last change seen there; else *check* (the stat signatures) says, and is
        remembered."""
        if not self._looked:
            self._look(output)
            self._looked = True
        if folder not in self._linked and self._checked.get(folder) == signature:
            return True
        held = check()
        if held and self._notify is not None:
            self._checked[folder] = signature
        else:
            self._checked.pop(folder, None)
        return held

    def _look(self, output: Path) -> None:
        """Forget what changed in *output* since the last look."""
        if output != self._output or self._notify is None:
            self._start(output)
            return
        for event in self._notify.read(timeout=0):
            if not self._take(event):
                self._start(output)
                return

    def close(self) -> None:
        if self._notify is not None:
            self._notify.close()
        self._notify, self._folders, self._checked, self._linked = None, {}, {}, set()

    # -- the inotify side --

    def _start(self, output: Path) -> None:
        """Watch every folder of *output* afresh, knowing nothing checked yet."""
        self.close()
        self._output = output
        if sys.platform != "linux" or not output.is_dir():
            return
        from inotify_simple import INotify

        try:
            self._notify = INotify()
            self._watch_below(".")
        except OSError:  # no inotify instance or watch left (the user's limits): stat checks
            self.close()

    def _watch_below(self, folder: str) -> None:
        """Watch *folder* and every folder in it (each watched before it is listed, so that a
        file made meanwhile is either listed or queued)."""
        assert self._output is not None
        from inotify_simple import flags

        mask = (
            flags.MODIFY
            | flags.ATTRIB
            | flags.CREATE
            | flags.DELETE
            | flags.MOVED_FROM
            | flags.MOVED_TO
            | flags.DELETE_SELF
            | flags.MOVE_SELF
            | flags.ONLYDIR
            | flags.DONT_FOLLOW
        )
        pending = [folder]
        while pending:
            current = pending.pop()
            path = self._output if current == "." else self._output / current
            try:
                self._folders[self._notify.add_watch(path, mask)] = current
                entries = list(os.scandir(path))
            except (FileNotFoundError, NotADirectoryError):
                continue  # gone again: its parent's event already marked its package folder
            for entry in entries:
                name = entry.name if current == "." else f"{current}/{entry.name}"
                with contextlib.suppress(OSError):
                    if entry.is_symlink():
                        self._linked.update({_package_folder(name), TOP})
                    elif entry.is_dir(follow_symlinks=False):
                        pending.append(name)

    def _take(self, event: Any) -> bool:
        """Note one event; False when it cannot be followed exactly (start again)."""
        from inotify_simple import flags

        if event.mask & flags.Q_OVERFLOW:
            return False
        folder = self._folders.get(event.wd)
        if folder is None:
            return True  # a watch already removed (its folder went)
        if event.mask & flags.IGNORED:
            del self._folders[event.wd]
            return folder != "."
        if folder == "." and event.mask & (flags.DELETE_SELF | flags.MOVE_SELF):
            return False
        is_dir = bool(event.mask & flags.ISDIR)
        if is_dir and event.mask & flags.MOVED_FROM:
            return False  # its watches would report under the old names
        path = f"{folder}/{event.name}" if event.name and folder != "." else event.name or folder
        for changed in {_package_folder(folder), _package_folder(path), TOP}:
            self._checked.pop(changed, None)
        if event.mask & (flags.CREATE | flags.MOVED_TO):
            if is_dir:
                self._watch_below(path)
            elif os.path.islink(self._output / path):  # type: ignore[operator]
                self._linked.update({_package_folder(path), TOP})
        return True


def _package_folder(path: str) -> str:
    """The package folder (``language/package``) *path* is in or is, else ``TOP``."""
    parts = path.split("/")
    return "/".join(parts[:2]) if len(parts) >= 2 and path != "." else TOP
