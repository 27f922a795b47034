"""apipack's scenarios on one synthetic project: each a change, then one timed ``generate``.

They run in this order, each starting from a fully built project: the first build (the LLM is
asked for every function), no-op (also ``--offline``, as CI runs it), ``check``, touch, one
function edited, ``explain``, the no-op and the edit served by the daemon a command started,
``apipack watch``, one template edited (in its own process, then served), the prompt edit, and
last the cold build from a warm LLM cache (see the comment there). Every command runs in its
own process (``APIPACK_NO_DAEMON``) except in ``Apipack.daemon``'s blocks.
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path

from . import _synth, _watching
from ._measure import (
    BenchError,
    Measurement,
    Repeats,
    Sample,
    clean_env,
    launch,
    peak_rss_mb,
)

#: scenario id → how the docs and the terminal name it
LABELS = {
    "first": "first build, LLM asked for every function",
    "cold": "cold build, warm LLM cache",
    "noop": "no-op",
    "noop_offline": "no-op, --offline (as CI runs)",
    "check_noop": "`apipack check`, nothing changed",
    "touch": "touch every spec, no change",
    "edit_one": "one function edited, in its own process (CI, `APIPACK_NO_DAEMON=1`)",
    "explain": "`apipack explain` of that edit",
    "noop_served": "no-op, served by the daemon the first command started",
    "edit_one_served": "one function edited, served (the default on a developer's machine)",
    "watch": "`apipack watch`: a saved edit to its files written",
    "edit_template": "one template edited, in its own process",
    "edit_template_served": "one template edited, served (the default)",
    "edit_prompt": "prompt edited (every function asked again)",
    "two_languages": "no-op, 2 languages (Python + TypeScript)",
}
#: the size from which only ``LARGE_SCENARIOS`` run besides the first build (``--large-from``):
#: the scenarios with goals at that size
LARGE_N = 10_000
LARGE_SCENARIOS = frozenset(
    {"noop", "noop_offline", "check_noop", "edit_one", "noop_served", "edit_one_served"}
)
#: the counts of ``--summary-json`` each sample keeps
COUNTS = (
    "tasks_total",
    "tasks_run",
    "llm_calls",
    "files_written",
    "llm_seconds",
    "seconds",
    "fast_path",  # 1 when the build answered "nothing changed" without planning
)


@dataclass
class Apipack:
    """``apipack generate`` in one project, measured."""

    project: _synth.SynthProject
    llm_url: str
    logs: Path
    #: the process id of the project's ``apipack daemon`` while one runs (``daemon``)
    daemon_pid: int | None = None
    #: commands may go to a daemon, and start one, as on a developer's machine (``daemon``)
    served: bool = False

    def generate(self, label: str, *options: str) -> Sample:
        summary = self.logs / f"{label}.summary.json"
        summary.unlink(missing_ok=True)
        env = self._env()
        run = launch(
            [
                sys.executable,
                "-m",
                "apipack_build.cli",
                "generate",
                "--summary-json",
                summary,
                *options,
            ],
            cwd=self.project.root,
            env=env,
            log=self.logs / f"{label}.log",
        )
        if run.returncode != 0 or not summary.is_file():
            raise BenchError(
                f"apipack generate ({label}, N={self.project.functions}) exited "
                f"{run.returncode}:\n{run.tail()}"
            )
        data = json.loads(summary.read_text(encoding="utf-8"))
        counts = {name: float(data[name]) for name in COUNTS if name in data}
        counts["apipack_seconds"] = counts.pop("seconds", 0.0)  # the time doit's run took
        # served, the build's memory is the daemon's: its peak so far counts, with the client's
        daemon = peak_rss_mb(self.daemon_pid) if self.daemon_pid is not None else 0.0
        if daemon:
            counts["daemon_peak_rss_mb"] = round(daemon, 1)
        return Sample(run.seconds, max(run.max_rss_mb, daemon), counts)

    def check(self, label: str) -> Sample:
        """``apipack check`` of the project as the last build left it: it must be current."""
        log = self.logs / f"{label}.log"
        env = self._env()
        command = [sys.executable, "-m", "apipack_build.cli", "check"]
        run = launch(command, cwd=self.project.root, env=env, log=log)
        if run.returncode != 0:
            raise BenchError(f"apipack check exited {run.returncode}:\n{run.tail()}")
        return Sample(run.seconds, run.max_rss_mb)

    def _env(self) -> dict[str, str]:
        env = clean_env(self.logs.parent / "home", APIPACK_LLM_BASE_URL=self.llm_url)
        if self.served:  # as on a developer's machine
            for name in ("APIPACK_NO_DAEMON", "CI"):
                env.pop(name, None)
        return env

    @contextlib.contextmanager
    def daemon(self) -> Iterator[None]:
        """The project's daemon for the block, started as a user's first command starts it (a
        ``generate`` in its own process launches it); ``generate`` is served there, and runs in
        its own process again once it is stopped (even on failure)."""
        self.served = True
        env = self._env()
        command = [sys.executable, "-m", "apipack_build.cli", "daemon"]
        try:
            self.generate("served-start")
            started = launch(  # returns once the daemon answers
                [*command, "start"],
                cwd=self.project.root,
                env=env,
                log=self.logs / "daemon-start.log",
            )
            if started.returncode != 0:
                raise BenchError(
                    f"apipack daemon start exited {started.returncode}:\n{started.tail()}"
                )
            record = json.loads((self.project.root / ".apipack" / "daemon.json").read_bytes())
            self.daemon_pid = int(record["pid"])
            yield
        finally:
            self.daemon_pid, self.served = None, False
            launch(
                [*command, "stop"],
                cwd=self.project.root,
                env=env,
                log=self.logs / "daemon-stop.log",
            )

    def explain(self, label: str) -> Sample:
        """``apipack explain --json`` of the last build; counts the tasks it says ran."""
        log = self.logs / f"{label}.log"
        env = clean_env(self.logs.parent / "home")
        command = [sys.executable, "-m", "apipack_build.cli", "explain", "--json"]
        run = launch(command, cwd=self.project.root, env=env, log=log)
        if run.returncode != 0:
            raise BenchError(f"apipack explain exited {run.returncode}:\n{run.tail()}")
        tasks = json.loads(log.read_text(encoding="utf-8"))["tasks"]
        return Sample(
            run.seconds, run.max_rss_mb, {"tasks_run": sum(t["status"] == "ran" for t in tasks)}
        )


def _step(
    apipack: Apipack,
    scenario: str,
    change: Callable[[int], None] | None = None,
    options: tuple[str, ...] = (),
) -> Callable[[int], Sample]:
    def run_once(index: int) -> Sample:
        if change is not None:
            change(index)
        return apipack.generate(f"{scenario}-{index}", *options)

    return run_once


def languages_with_rules() -> list[str]:
    return sorted({ep.name for ep in entry_points(group="apipack.rules")})


def run_scenarios(
    apipack: Apipack,
    repeats: Callable[[str], Repeats],
    progress: Callable[[str], None],
    only: frozenset[str] | None = None,
) -> list[Measurement]:
    """The first build, then every scenario, or those in *only* (``LARGE_SCENARIOS``)."""
    project, n = apipack.project, apipack.project.functions
    results: list[Measurement] = []

    def wanted(scenario: str) -> bool:
        return only is None or scenario in only

    def measure(scenario: str, change: Callable[[int], None] | None = None, *options: str) -> None:
        if not wanted(scenario):
            return
        progress(f"N={n}: {LABELS[scenario]}")
        samples = repeats(scenario).take(_step(apipack, scenario, change, options))
        results.append(Measurement(scenario, n, samples))

    def measure_command(scenario: str, run: Callable[[str], Sample]) -> None:
        if not wanted(scenario):
            return
        progress(f"N={n}: {LABELS[scenario]}")
        samples = repeats(scenario).take(lambda index: run(f"{scenario}-{index}"))
        results.append(Measurement(scenario, n, samples))

    if only is not None:  # a large N: verifying would start a process per function
        _synth.skip_verification(project)
    progress(f"N={n}: {LABELS['first']}")
    first = apipack.generate("first")
    if first.counts.get("llm_calls") != n:
        raise BenchError(
            f"the first build asked the LLM {first.counts.get('llm_calls')} times, not {n}"
        )
    results.append(Measurement("first", n, [first]))

    measure("noop")
    # offline, a build may answer "nothing changed" without asking whether the model moved
    measure("noop_offline", None, "--offline")
    measure_command("check_noop", apipack.check)
    measure("touch", lambda index: _synth.touch_specs(project, index))
    measure("edit_one", lambda index: _synth.edit_one_function(project, index))
    measure_command("explain", apipack.explain)
    if wanted("noop_served") or wanted("edit_one_served"):
        progress(f"N={n}: the daemon started by a command")
        with apipack.daemon():
            apipack.generate("served-warm-up")  # its first build reads what a daemon keeps
            measure("noop_served")
            # other revisions than edit_one's: each edit asks the LLM, as there
            measure("edit_one_served", lambda index: _synth.edit_one_function(project, 100 + index))
    if only is not None:
        return results
    progress(f"N={n}: {LABELS['watch']}")
    results.append(
        _watching.measure_watch(project, apipack.llm_url, apipack.logs, repeats("watch"))
    )
    apipack.generate("watch-restore")  # function 0 written by the LLM again, as before
    measure("edit_template", lambda index: _synth.override_template(project, index))
    if wanted("edit_template_served"):
        progress(f"N={n}: the daemon started by a command")
        with apipack.daemon():
            apipack.generate("served-warm-up")
            measure(
                "edit_template_served",
                lambda index: _synth.override_template(project, 100 + index),
            )
    _synth.remove_overrides(project)
    apipack.generate("edit_template-restore")
    measure("edit_prompt", lambda index: _synth.override_prompt(project, index))
    _synth.remove_overrides(project)
    # after the rows that write: removing the whole output once per run leaves ext4 finding new
    # inodes slowly (perf: find_inode_bit, recently_deleted), which doubled the system time of
    # the edits measured after it (a template edit's 0.6 s became 1.1-1.5 s)
    measure("cold", lambda _: _synth.forget_build(project))

    if "typescript" not in languages_with_rules():
        note = f"not available: no typescript rules ({', '.join(languages_with_rules())})"
        results.append(Measurement("two_languages", n, note=note))
        return results
    progress(f"N={n}: typescript added (the LLM asked for every function once more)")
    _synth.add_language(project, "typescript")
    setup = apipack.generate("two_languages-setup")
    if setup.counts.get("llm_calls") != n:
        raise BenchError(
            f"adding typescript asked the LLM {setup.counts.get('llm_calls')} times, not {n}"
        )
    measure("two_languages")
    return results
