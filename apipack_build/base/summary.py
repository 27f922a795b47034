"""A build's summary: its counts, the one line every build ends with, and its JSON form.

Free of doit and every other heavy import, so the fast path can report with it.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

from ..errors import redact


@dataclass
class Summary:
    tasks_total: int = 0
    tasks_run: int = 0
    tasks_up_to_date: int = 0
    tasks_failed: int = 0
    tasks_skipped: int = 0  # not run because a task they need failed
    files_written: int = 0
    files_unchanged: int = 0
    files_deleted: int = 0
    llm_calls: int = 0
    llm_requests: int = 0  # calls, their retries, and the requests that failed
    llm_cache_hits: int = 0
    llm_remote_hits: int = 0
    llm_lock_hits: int = 0
    llm_prompt_tokens: int = 0
    llm_completion_tokens: int = 0
    llm_seconds: float = 0.0
    llm_verified: int = 0
    llm_repairs: int = 0
    seconds: float = 0.0
    #: answered by the fingerprint of the last build, without planning (see ``_fastpath``)
    fast_path: bool = False
    failures: list[str] = field(default_factory=list)

    def line(self, label: str = "") -> str:
        """One line; *label* names the project when a run builds several (``apipack billing:``)."""
        failed = f", {self.tasks_failed} failed" if self.tasks_failed else ""
        if self.tasks_skipped:
            failed += f", {self.tasks_skipped} not run"
        name = f"apipack {label}" if label else "apipack"
        return (
            f"{name}: {self.tasks_total} tasks: {self.tasks_run} run, "
            f"{self.tasks_up_to_date} up to date{failed}; files: {self.files_written} written, "
            f"{self.files_unchanged} unchanged, {self.files_deleted} deleted; "
            f"LLM: {self.llm_calls} calls, "
            + (f"{self.llm_requests} requests, " if self.llm_requests != self.llm_calls else "")
            + f"{self.llm_cache_hits} cache hits, "
            + (f"{self.llm_remote_hits} remote hits, " if self.llm_remote_hits else "")
            + f"{self.llm_lock_hits} lock hits"
            + (f", {self.llm_verified} verified" if self.llm_verified else "")
            + (f", {self.llm_repairs} repairs" if self.llm_repairs else "")
            + "; "
            f"{self.seconds:.2f} s"
        )


def summary_bytes(summary: Summary) -> bytes:
    data = asdict(summary)
    data["failures"] = [redact(failure) for failure in summary.failures]
    data["seconds"] = round(data["seconds"], 3)
    data["llm_seconds"] = round(data["llm_seconds"], 3)
    return (json.dumps(data, indent=2, sort_keys=True) + "\n").encode("utf-8")
