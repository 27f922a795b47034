"""Answering "nothing changed" without planning: one fingerprint of every input and output.

After a successful build, ``.apipack/fingerprint.json`` records a hash over everything that build
depended on: the effective settings (and which came from the command line), the spec files the
globs find, the implementation files they name, every file in every template folder, the source
of the engine and of every installed language and rule, the versions of the libraries that
render; and the lock as the build left it. The next ``generate`` recomputes all that from stat
signatures (hashing only files that moved), checks that every generated file still holds its
recorded bytes, and if all agree reports an up-to-date build without loading the specs, Jinja or
doit.

A build whose functions the LLM writes also records the model's digest: online, the fast path
asks the server for it (one small request) and takes the full path if it moved or the server
cannot say — a re-pulled model changes answers, and only the server can tell.
"""

from __future__ import annotations

import glob
import json
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..base import manifest
from ..base.fsio import FileHasher, joined_str, write_atomic
from ..base.lookup import FINGERPRINT_FILE, LAST_BUILD, LOCK_FILE, STATE_DIR
from ..base.summary import Summary, summary_bytes
from ..load.inputs import FINGERPRINT_VERSION, fingerprint, template_folders
from ..load.project import resolve_targets
from ..plan import memo
from ..settings import Effective

if TYPE_CHECKING:
    from .graph import TaskGraph


def _outputs_intact(output: Path, files: dict[str, manifest.Entry], hasher: FileHasher) -> bool:
    root = str(output)
    return all(hasher.hash(joined_str(root, path)) == entry.hash for path, entry in files.items())


def record(
    path: Path,
    key: str,
    *,
    tasks: int,
    implementations: list[str],
    llm_functions: int,
    digest: str = "",
    lock: str = "-",
) -> None:
    text = json.dumps(
        {
            "version": FINGERPRINT_VERSION,
            "key": key,
            "tasks": tasks,
            "implementations": implementations,
            "llm_functions": llm_functions,
            "digest": digest,
            "lock": lock,
        },
        sort_keys=True,
    )
    write_atomic(path, (text + "\n").encode("utf-8"))


def read(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("version") != FINGERPRINT_VERSION:
        return None
    return data


def spec_paths(effective: Effective, explicit: list[Path]) -> list[Path]:
    """The spec files a build would read, as the planner finds them (no error if none)."""
    if explicit:
        return sorted({p.resolve() for p in explicit})
    found: set[Path] = set()
    for pattern in effective.settings.specs:
        for match in glob.glob(pattern, root_dir=effective.root, recursive=True):
            path = effective.root / match
            if path.suffix in (".yml", ".yaml") and path.is_file():
                found.add(path.resolve())
    return sorted(found)


def build_fingerprint(build: TaskGraph) -> str:
    """The fingerprint of a planned build, taken before it runs: an input edited while it runs
    then fails the next comparison instead of passing for what the build saw."""
    plan = build.plan
    return fingerprint(
        plan.effective,
        build.hasher,
        plan.specs,
        plan.implementation_files,
        template_folders(plan.effective),
        plan.partial,
    )


def record_build(build: TaskGraph, key: str) -> None:
    """After a successful build: remember its fingerprint for the next one."""
    record(
        build.state / FINGERPRINT_FILE,
        key,
        tasks=build.summary.tasks_total,
        implementations=list(build.plan.implementation_files),
        llm_functions=build.plan.llm.bodies,
        digest=build.plan.llm.digest,
        # the build writes the lock, so its hash is taken after the build, not before
        lock=build.hasher.hash(build.plan.llm.lock_path) or "-",
    )
    if build.plan.parts:
        memo.write(build.state / memo.MEMO_FILE, plan_memo(build))
    build.hasher.save()


def plan_memo(build: TaskGraph) -> memo.Memo:
    """What each spec file of a successful build yielded, for the next build's plan."""
    plan, hasher = build.plan, build.hasher
    tasks = {task.name: task for task in build.resolved_tasks()}
    ignores = {d.path: d.ignore for d in plan.packages}
    locked = build.lock_entries()
    specs = {}
    for part in plan.parts:
        if part.reused is not None:
            specs[part.spec] = part.reused
            continue
        specs[part.spec] = memo.SpecYield(
            part.hash,
            part.implementations,
            tuple(
                memo.MemoTask(
                    name,
                    tasks[name].rule,
                    tasks[name].key,
                    {f.path: hasher.hash(build._target(f.path)) or "-" for f in tasks[name].files},
                )
                for name in part.tasks
            ),
            tuple((folder, ignores[folder]) for folder in part.folders),
            tuple(entry for ident, entry in sorted(locked.items()) if ident[0] in part.packages),
        )
    return memo.Memo(
        build.output_id,
        plan.globals_key,
        hasher.hash(plan.llm.lock_path) or "-",
        specs,
    )


def up_to_date(
    effective: Effective, explicit: list[Path], *, offline: bool, output: Path
) -> tuple[int, int, int] | None:
    """(tasks, files, LLM-written functions) of the last build if nothing it depends on has
    changed since, else None."""
    state = effective.root / STATE_DIR
    recorded = read(state / FINGERPRINT_FILE)
    if recorded is None:
        return None
    files = manifest.read(state / "manifest.json", manifest.output_id(output, effective.root))
    if not files:
        return None
    hasher = FileHasher(state / "filestat.json")
    key = fingerprint(
        effective,
        hasher,
        spec_paths(effective, explicit),
        recorded.get("implementations", []),
        template_folders(effective),
        bool(explicit),
    )
    lock = hasher.hash(effective.root / LOCK_FILE) or "-"
    if key != recorded.get("key") or lock != recorded.get("lock"):
        return None
    if not _outputs_intact(output, files, hasher):
        return None
    if recorded.get("llm_functions") and not offline and not _same_model(effective, recorded):
        return None
    hasher.save()
    return int(recorded.get("tasks", 0)), len(files), int(recorded.get("llm_functions", 0))


def _same_model(effective: Effective, recorded: dict[str, Any]) -> bool:
    """Does the server still serve the model the last build's answers were keyed on?"""
    from ..errors import LLMError
    from ..llm import make_provider

    probe = effective.settings.llm.model_copy(update={"retries": 0})
    provider = make_provider(probe)
    try:
        return bool(recorded.get("digest")) and provider.model_digest() == recorded["digest"]
    except LLMError:
        return False  # unreachable or no such model: the full build says what to do
    finally:
        provider.close()


def answer(
    targets: Sequence[str | Path],
    cwd: Path,
    overrides: Mapping[str, Any],
    *,
    offline: bool | None,
    summary_json: Path | None,
    echo: bool,
) -> Summary | None:
    """The fast path of ``generate`` (command line and API alike): if nothing the last build
    depended on has changed, its summary — printed if *echo*, and saved like a build's."""
    started = time.perf_counter()
    effective, specs = resolve_targets(targets, cwd, overrides)
    output = (effective.root / effective.settings.output).resolve()
    if not effective.settings.templates.cache_enabled:
        return None  # `templates.cache_enabled: false`: plan and check every task
    offline = effective.settings.offline if offline is None else offline
    try:
        found = up_to_date(effective, specs, offline=offline, output=output)
    except (ValueError, TypeError, KeyError, AttributeError, OSError):
        found = None  # damaged state: the full path checks, and repairs, everything
    if found is None:
        return None
    tasks, files, llm_functions = found
    summary = Summary(
        tasks_total=tasks,
        tasks_up_to_date=tasks,
        files_unchanged=files,
        llm_cache_hits=llm_functions,  # every LLM-written body reused, none asked for
        seconds=time.perf_counter() - started,
        fast_path=True,
    )
    if echo:
        print(summary.line())
    text = summary_bytes(summary)
    write_atomic(effective.root / STATE_DIR / LAST_BUILD, text)
    if summary_json is not None:
        write_atomic(summary_json, text)
    return summary
