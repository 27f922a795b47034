"""Accounting for a build: what doit ran, skipped and failed, files and LLM use, in one line.

The reporter runs in doit's main process whatever ``-n`` is: workers send it each task's values.
"""

from __future__ import annotations

import os
import sys
import time
from typing import IO, TYPE_CHECKING, Any

from doit.exceptions import UnmetDependency

from ..ask.remote import show_warnings
from ..base.explain_format import FAILED, RAN, UP_TO_DATE
from ..base.summary import Summary
from ..errors import redact
from .explain_record import record
from .graph import record_sound_state

if TYPE_CHECKING:
    from .graph import TaskGraph


class Reporter:
    """Counts what doit did; prints failures (no tracebacks) and one summary line."""

    def __init__(self, build: TaskGraph, outstream: IO[str], label: str = ""):
        self.build = build
        self.out = outstream
        self.label = label
        self.started = time.perf_counter()
        self.verbose = bool(os.environ.get("APIPACK_VERBOSE"))
        self.warned: set[str] = set()

    def initialize(self, tasks: Any, selected_tasks: Any) -> None:
        stats = self.build.plan.llm.resolution.stats
        reused = self.build.plan.reused_tasks  # counted as doit counts an up-to-date task
        self.build.summary = Summary(
            tasks_total=reused,
            tasks_up_to_date=reused,
            llm_cache_hits=stats.cache_hits + len(self.build.plan.llm.kept),
            llm_remote_hits=stats.remote_hits,
            llm_lock_hits=stats.lock_hits,
        )

    def get_status(self, task: Any) -> None:
        pass

    def execute_task(self, task: Any) -> None:
        if self.verbose:
            self.out.write(f". {task.name}\n")

    def add_success(self, task: Any) -> None:
        if not task.actions:  # doit's group task for the basename: not a unit of work
            return
        values = task.values or {}
        if "members" in values:  # a batch: each of its tasks counts as if doit had run it
            self._members(values)
        else:
            self._ran(task.name.split(":", 1)[-1], values)

    def _members(self, values: dict[str, Any]) -> None:
        """The tasks a batch ran (``TaskGraph._render_batch``), as doit would report each."""
        for name, ran in values.get("members", {}).items():
            self._ran(name, ran)
        summary = self.build.summary
        for name, error in values.get("failed", {}).items():
            self.build.outcomes[name] = FAILED
            summary.tasks_total += 1
            summary.tasks_failed += 1
            summary.failures.append(redact(f"task {self.build.basename}:{name} failed: {error}"))

    def _ran(self, name: str, values: dict[str, Any]) -> None:
        self.build.outcomes[name] = RAN
        summary = self.build.summary
        summary.tasks_total += 1
        summary.tasks_run += 1
        self._count(values)
        summary.files_deleted += len(values.get("deleted", ()))
        for path in values.get("kept", ()):
            print(
                f"apipack: kept {path}: it is no longer generated but was edited by hand",
                file=sys.stderr,
            )
        summary.files_written += len(values.get("written", ()))
        hasher = self.build.hasher
        for path, digest in (values.get("outputs") or {}).items():
            target = self.build._target(path)
            # learnt already, unless the task ran in another process (doit -n)
            if not hasher.knows(target, digest) and os.path.exists(target):
                hasher.remember(target, digest)

    def _count(self, values: dict[str, Any]) -> None:
        """The LLM use and warnings a task reports, whether it succeeded or failed."""
        summary = self.build.summary
        for warning in values.get("warnings", ()):
            if warning not in self.warned:  # each worker process may meet the same failure
                self.warned.add(warning)
                show_warnings([redact(warning)])
        llm = values.get("llm") or {}
        summary.llm_calls += llm.get("calls", 0)
        summary.llm_requests += llm.get("requests", 0)
        summary.llm_prompt_tokens += llm.get("prompt_tokens", 0)
        summary.llm_completion_tokens += llm.get("completion_tokens", 0)
        summary.llm_seconds += llm.get("seconds", 0.0)
        summary.llm_verified += llm.get("verified", 0)
        summary.llm_repairs += llm.get("repairs", 0)

    def add_failure(self, task: Any, fail: Any) -> None:
        values = getattr(fail, "values", None) or {}
        if "members" in values:
            self._members(values)
            return
        summary = self.build.summary
        names = self._names(task)
        summary.tasks_total += len(names)
        self._count(values)
        if isinstance(fail, UnmetDependency):  # not run: a task it needs failed (named already)
            summary.tasks_skipped += len(names)
            return
        for name in names:
            self.build.outcomes[name] = FAILED
        summary.tasks_failed += 1
        message = fail.get_msg().strip() if hasattr(fail, "get_msg") else str(fail)
        if not os.environ.get("APIPACK_DEBUG") and "Traceback" in message:
            message = message.strip().splitlines()[-1]
        summary.failures.append(redact(f"task {task.name} failed: {message}"))

    def skip_uptodate(self, task: Any) -> None:
        if not task.actions:
            return
        names = self._names(task)
        for name in names:
            self.build.outcomes[name] = UP_TO_DATE
        self.build.summary.tasks_total += len(names)
        self.build.summary.tasks_up_to_date += len(names)

    def _names(self, task: Any) -> list[str]:
        """The tasks of the plan a doit task stands for: itself, or a batch's."""
        name = task.name.split(":", 1)[-1]
        return self.build.batches.get(name) or [name]

    def skip_ignore(self, task: Any) -> None:
        self.build.summary.tasks_total += 1

    def cleanup_error(self, exception: Any) -> None:
        self.out.write(f"apipack: cleanup error: {exception}\n")

    def runtime_error(self, msg: str) -> None:
        self.build.summary.failures.append(msg.strip())

    def teardown_task(self, task: Any) -> None:
        pass

    def complete_run(self) -> None:
        summary = self.build.summary
        summary.seconds = time.perf_counter() - self.started
        summary.files_unchanged = self.build.plan.file_count - summary.files_written
        self.build.done_writing()
        self.build.plan.renderer.save()
        record_sound_state(self.build.state)  # doit has closed it
        for failure in summary.failures:
            self.out.write(f"apipack: {failure}\n")
        if not self.build.quiet:
            self.out.write(summary.line(self.label) + "\n")
        self.build.write_summary()
        record(self.build)
        self.build.hasher.save()  # after the record: it learns the hashes of its shards
