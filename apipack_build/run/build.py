"""Running a project's task graph through doit's own command line, in this process."""

from __future__ import annotations

import os
import sys
import threading
import time
from typing import IO, TYPE_CHECKING, Any

import doit.plugin
from doit.cmd_base import ModuleTaskLoader
from doit.doit_cmd import DoitMain

from ..base.lookup import entry_points_of
from ..base.summary import Summary
from ..errors import BuildError
from .doitrun import checker_factory, reporter_class
from .graph import TaskGraph

if TYPE_CHECKING:
    from importlib.metadata import EntryPoints


class Build(TaskGraph):
    """One build of one project into one output folder, run by doit."""

    def doit_config(self) -> dict[str, Any]:
        return {
            "dep_file": str(self.state / "doit.sqlite3"),
            "backend": "sqlite3",
            "check_file_uptodate": checker_factory(lambda path: self.hasher),
            "reporter": reporter_class({self.basename: self}, progress=self.progress),
            "default_tasks": [self.basename],
            "continue": True,  # one function's failure must not stop the others
            "verbosity": 0,
        }

    def run(
        self, jobs: int = 1, extra_args: list[str] | None = None, out: IO[str] | None = None
    ) -> Summary:
        """Run the graph in this process through doit's own command line; what it reports goes
        to *out* (default: the current ``sys.stdout``)."""
        self.lock(writing=True)
        if jobs > 1:
            _workers_exit_with_parent()
        doit.plugin.entry_points_impl = lambda: _doit_plugins
        try:
            config = {**self.doit_config(), "outfile": out or sys.stdout}
            namespace = {"task_apipack": lambda: self.tasks(), "DOIT_CONFIG": config}
            # doit's `-n 1` still forks a worker; one job runs in this process
            parallel = ["-n", str(jobs), "-P", "process"] if jobs > 1 else []
            args = ["run", "--continue", *parallel, *(extra_args or [])]
            code = DoitMain(ModuleTaskLoader(namespace), extra_config={"GLOBAL": {}}).run(args)
        finally:
            self.unlock()
        if self.summary.failures:  # the reporter has printed each one
            raise BuildError(f"{len(self.summary.failures)} task(s) failed")
        if code != 0:
            raise BuildError(f"doit stopped with exit code {code}")
        return self.summary


def _doit_plugins(group: str) -> EntryPoints:
    """doit's lookup of its plugins (its seam ``doit.plugin.entry_points_impl``) from the scan
    the engine's own lookups share: doit would scan the installed distributions once per kind
    of plugin on every run, and a watching process runs doit on every rebuild."""
    return entry_points_of(group)


_WATCHING = False
PARENT_POLL = 0.5  # seconds between a worker's looks at whether its parent still lives


def _workers_exit_with_parent() -> None:
    """doit's worker processes (``-n N``) wait on a queue their parent feeds: if the parent is
    killed they would wait, holding the state database open, forever. Each forked worker
    watches its parent and exits when it is gone."""
    global _WATCHING
    if _WATCHING:
        return
    _WATCHING = True

    def watch(parent: int) -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_POLL)
        os._exit(1)

    def in_child() -> None:
        threading.Thread(target=watch, args=(os.getppid(),), daemon=True).start()

    os.register_at_fork(after_in_child=in_child)
