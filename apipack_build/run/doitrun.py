"""One doit run over one or several apipack projects: a reporter and a file checker for the run.

doit allows one reporter and one file checker per run, but a run may hold several projects
(a monorepo's ``dodo.py``) and hand-written tasks beside them. ``RunReporter`` sends each task's
events to the ``Reporter`` of the project whose namespace (doit basename) it carries, and shows
any other task exactly as doit's console reporter does. ``ContentChecker`` decides ``file_dep``
freshness by content hash, through the stat-signature cache of the project that holds the file.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import fields
from pathlib import Path
from typing import IO, Any

from doit.dependency import FileChangedChecker
from doit.reporter import ConsoleReporter

from ..base.fsio import FileHasher, write_atomic
from ..base.summary import Summary, summary_bytes
from .graph import DEFAULT_NAMESPACE, TaskGraph
from .progress import Progress
from .report import Reporter


def combine(summaries: Iterable[Summary], seconds: float) -> Summary:
    """The sum of several projects' summaries (``seconds`` is the run's wall time)."""
    total = Summary()
    for summary in summaries:
        for item in fields(Summary):
            if item.name in ("seconds", "failures"):
                continue
            setattr(total, item.name, getattr(total, item.name) + getattr(summary, item.name))
        total.failures.extend(summary.failures)
    total.seconds = seconds
    return total


class RunReporter:
    """doit's reporter for a run: per-project accounting, doit's own display for other tasks."""

    def __init__(
        self,
        builds: Mapping[str, TaskGraph],
        outstream: IO[str],
        options: Mapping[str, Any],
        *,
        summary_json: Path | None = None,
        on_complete: Callable[[], None] | None = None,
        progress: Progress | None = None,
    ):
        self.builds = dict(builds)
        self.progress = progress
        self.projects = {
            name: Reporter(build, outstream, label="" if name == DEFAULT_NAMESPACE else name)
            for name, build in self.builds.items()
        }
        self.others = ConsoleReporter(outstream, dict(options))
        self.out = outstream
        self.met: dict[str, Reporter] = {}  # projects with a task in this run, in order met
        self.errors: list[str] = []
        self.summary_json = summary_json
        self.on_complete = on_complete
        self.started = time.perf_counter()

    def _project(self, task: Any) -> Reporter | None:
        namespace = task.subtask_of or task.name.split(":", 1)[0]
        reporter = self.projects.get(namespace)
        if reporter is not None:
            self.met.setdefault(namespace, reporter)
        return reporter

    def initialize(self, tasks: Any, selected_tasks: Any) -> None:
        for reporter in self.projects.values():
            reporter.initialize(tasks, selected_tasks)
        self.others.initialize(tasks, selected_tasks)
        if self.progress is not None:
            self.progress.initialize([n for n, t in tasks.items() if t.actions])

    def get_status(self, task: Any) -> None:
        (self._project(task) or self.others).get_status(task)

    def execute_task(self, task: Any) -> None:
        if self.progress is not None and task.actions:
            self.progress.started_task(task.name)
        (self._project(task) or self.others).execute_task(task)

    def _finished(self, task: Any, values: Any, failed: bool = False) -> None:
        if self.progress is not None and task.actions:
            self.progress.finished_task(task.name, values, failed)

    def add_success(self, task: Any) -> None:
        self._finished(task, task.values)
        (self._project(task) or self.others).add_success(task)

    def add_failure(self, task: Any, fail: Any) -> None:
        self._finished(task, getattr(fail, "values", None), failed=True)
        (self._project(task) or self.others).add_failure(task, fail)

    def skip_uptodate(self, task: Any) -> None:
        self._finished(task, None)
        (self._project(task) or self.others).skip_uptodate(task)

    def skip_ignore(self, task: Any) -> None:
        self._finished(task, None)
        (self._project(task) or self.others).skip_ignore(task)

    def teardown_task(self, task: Any) -> None:
        (self._project(task) or self.others).teardown_task(task)

    def cleanup_error(self, exception: Any) -> None:
        self.others.cleanup_error(exception)

    def runtime_error(self, msg: str) -> None:
        self.errors.append(msg.strip())

    def complete_run(self) -> None:
        if self.progress is not None:
            self.progress.close()  # before anything else is printed
        for reporter in self.met.values():
            reporter.complete_run()
        for build in self.builds.values():  # the checker may have hashed files of any of them
            build.hasher.save()
        if self.on_complete is not None:
            self.on_complete()
        self.others.complete_run()  # failures of hand-written tasks, as doit shows them
        for error in self.errors:
            self.out.write(f"apipack: doit stopped: {error}\n")
        if self.summary_json is not None:
            seconds = time.perf_counter() - self.started
            total = combine((r.build.summary for r in self.met.values()), seconds)
            total.failures.extend(self.errors)
            write_atomic(self.summary_json, summary_bytes(total))


def reporter_class(
    builds: Mapping[str, TaskGraph],
    *,
    summary_json: Path | None = None,
    on_complete: Callable[[], None] | None = None,
    progress: Progress | None = None,
) -> type:
    """A reporter class for ``DOIT_CONFIG`` (doit instantiates it with (outstream, options))."""

    class BoundRunReporter(RunReporter):
        def __init__(self, outstream: IO[str], options: Mapping[str, Any]) -> None:
            super().__init__(
                builds,
                outstream,
                options,
                summary_json=summary_json,
                on_complete=on_complete,
                progress=progress,
            )

    return BoundRunReporter


class ContentChecker(FileChangedChecker):  # type: ignore[misc]
    """doit ``file_dep`` checking by content hash: a touch is not a change, an edit always is.

    doit records the checker's class name with each task and reruns the task when it changes,
    so every run (``apipack generate``, any ``dodo.py``) uses this one class."""

    def __init__(self, hasher_for: Callable[[Path], FileHasher]):
        self.hasher_for = hasher_for

    def _hash(self, path: str) -> str | None:
        absolute = Path.cwd() / path
        return self.hasher_for(absolute).hash(absolute)

    def check_modified(self, file_path: str, file_stat: Any, state: Any) -> bool:
        return bool(state != self._hash(file_path))

    def get_state(self, dep: str, current_state: Any) -> Any:
        digest = self._hash(dep)
        return None if digest == current_state else digest


def checker_factory(hasher_for: Callable[[Path], FileHasher]) -> Callable[[], ContentChecker]:
    """What ``DOIT_CONFIG["check_file_uptodate"]`` needs: doit calls it without arguments."""
    return functools.partial(ContentChecker, hasher_for)
