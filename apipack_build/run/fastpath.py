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
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..base import manifest
from ..base.fsio import FileHasher, joined_str, write_atomic
from ..base.lookup import FINGERPRINT_FILE, LAST_BUILD, LOCK_FILE, STATE_DIR
from ..base.summary import Summary, summary_bytes
from ..load.inputs import FINGERPRINT_VERSION, SettingsView, fingerprint, template_folders
from ..load.project import locate, resolve_targets, settings_source
from ..plan import memo
from .diff import unknown_files

if TYPE_CHECKING:
    from .graph import TaskGraph


def _outputs_intact(output: Path, files: dict[str, manifest.Entry], hasher: FileHasher) -> bool:
    root = str(output)
    return all(hasher.hash(joined_str(root, path)) == entry.hash for path, entry in files.items())


def record(
    path: Path,
    key: str,
    *,
    source: str = "-",
    view: SettingsView | None = None,
    tasks: int,
    implementations: list[str],
    llm_functions: int,
    digest: str = "",
    lock: str = "-",
    packages: dict[str, list[str]] | None = None,
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
            "packages": packages or {},  # package folder -> its ignore globs, for `check`
            # the settings and what they were read from: equal sources, equal settings
            "source": source,
            "settings": view.settings if view else None,
            "command_line": view.command_line if view else [],
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


def spec_paths(view: SettingsView, explicit: list[Path]) -> list[Path]:
    """The spec files a build would read, as the planner finds them (no error if none)."""
    if explicit:
        return sorted({p.resolve() for p in explicit})
    found: set[Path] = set()
    for pattern in view.settings["specs"]:
        for match in glob.glob(pattern, root_dir=view.root, recursive=True):
            path = view.root / match
            if path.suffix in (".yml", ".yaml") and path.is_file():
                found.add(path.resolve())
    return sorted(found)


@dataclass(frozen=True)
class Taken:
    """A fingerprint taken before a build runs, and the hash of its settings' inputs."""

    key: str
    source: str


def build_fingerprint(
    build: TaskGraph, targets: Sequence[str | Path], cwd: Path, overrides: Mapping[str, Any]
) -> Taken:
    """The fingerprint of a planned build, taken before it runs: an input edited while it runs
    then fails the next comparison instead of passing for what the build saw. *targets*,
    *cwd* and *overrides* are those the build was prepared with."""
    plan = build.plan
    view = SettingsView.of(plan.effective)
    key = fingerprint(
        view,
        build.hasher,
        plan.specs,
        plan.implementation_files,
        template_folders(view),
        plan.partial,
    )
    return Taken(key, settings_source(locate(targets, cwd), overrides))


def record_build(build: TaskGraph, taken: Taken) -> None:
    """After a successful build: remember its fingerprint for the next one."""
    record(
        build.state / FINGERPRINT_FILE,
        taken.key,
        source=taken.source,
        view=SettingsView.of(build.plan.effective),
        tasks=build.summary.tasks_total,
        implementations=list(build.plan.implementation_files),
        llm_functions=build.plan.llm.bodies,
        digest=build.plan.llm.digest,
        # the build writes the lock, so its hash is taken after the build, not before
        lock=build.hasher.hash(build.plan.llm.lock_path) or "-",
        packages={d.path: list(d.ignore) for d in build.plan.packages},
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


@dataclass(frozen=True)
class LastBuild:
    """What the fingerprint and the manifest say of the last successful build."""

    tasks: int
    files: dict[str, manifest.Entry]
    llm_functions: int
    packages: dict[str, list[str]]  # package folder -> ignore globs


def up_to_date(
    view: SettingsView,
    explicit: list[Path],
    *,
    offline: bool,
    output: Path,
    save: bool = True,
    hasher: FileHasher | None = None,
) -> LastBuild | None:
    """The last build if nothing it depends on has changed since, else None. With *save*, the
    file hashes it learnt are kept for next time (``check`` writes nothing). *hasher* is the
    project's, when a long-lived process keeps it (``apipack watch``)."""
    state = view.root / STATE_DIR
    recorded = read(state / FINGERPRINT_FILE)
    if recorded is None:
        return None
    files = manifest.read(state / "manifest.json", manifest.output_id(output, view.root))
    if not files:
        return None
    hasher = hasher or FileHasher(state / "filestat.json")
    key = fingerprint(
        view,
        hasher,
        spec_paths(view, explicit),
        recorded.get("implementations", []),
        template_folders(view),
        bool(explicit),
    )
    lock = hasher.hash(view.root / LOCK_FILE) or "-"
    if key != recorded.get("key") or lock != recorded.get("lock"):
        return None
    if not _outputs_intact(output, files, hasher):
        return None
    if recorded.get("llm_functions") and not offline and not _same_model(view, recorded):
        return None
    if save:
        hasher.save()
    packages = recorded.get("packages")
    return LastBuild(
        int(recorded.get("tasks", 0)),
        files,
        int(recorded.get("llm_functions", 0)),
        {str(k): [str(p) for p in v] for k, v in packages.items()}
        if isinstance(packages, dict)
        else {},
    )


def _same_model(view: SettingsView, recorded: dict[str, Any]) -> bool:
    """Does the server still serve the model the last build's answers were keyed on?"""
    from ..errors import LLMError
    from ..llm import make_provider
    from ..settings import LLMSettings

    probe = LLMSettings.model_validate({**view.settings["llm"], "retries": 0})
    provider = make_provider(probe)
    try:
        return bool(recorded.get("digest")) and provider.model_digest() == recorded["digest"]
    except LLMError:
        return False  # unreachable or no such model: the full build says what to do
    finally:
        provider.close()


def settings_view(
    targets: Sequence[str | Path], cwd: Path, overrides: Mapping[str, Any]
) -> tuple[SettingsView, list[Path]]:
    """The settings of a command and its explicit spec files: as the last build recorded them
    while what they are read from is unchanged (no validation, no pydantic), else resolved."""
    target = locate(targets, cwd)
    recorded = read(target.root / STATE_DIR / FINGERPRINT_FILE)
    if (
        recorded is not None
        and isinstance(recorded.get("settings"), dict)
        and recorded.get("source") == settings_source(target, overrides)
    ):
        command_line = [str(name) for name in recorded.get("command_line") or []]
        return SettingsView(target.root, recorded["settings"], command_line), target.specs
    effective, specs = resolve_targets(targets, cwd, overrides)
    return SettingsView.of(effective), specs


def _last_build(
    targets: Sequence[str | Path],
    cwd: Path,
    overrides: Mapping[str, Any],
    offline: bool | None,
    save: bool,
    hasher: FileHasher | None = None,
) -> tuple[SettingsView, LastBuild | None]:
    view, specs = settings_view(targets, cwd, overrides)
    if not view.settings["templates"]["cache_enabled"]:
        return view, None  # `templates.cache_enabled: false`: plan and check every task
    offline = bool(view.settings["offline"]) if offline is None else offline
    try:
        found = up_to_date(
            view, specs, offline=offline, output=view.output, save=save, hasher=hasher
        )
        return view, found
    except (ValueError, TypeError, KeyError, AttributeError, OSError):
        return view, None  # damaged state: the full path checks, and repairs, everything


def answer(
    targets: Sequence[str | Path],
    cwd: Path,
    overrides: Mapping[str, Any],
    *,
    offline: bool | None,
    summary_json: Path | None,
    echo: bool,
    hasher: FileHasher | None = None,
) -> Summary | None:
    """The fast path of ``generate`` (command line and API alike): if nothing the last build
    depended on has changed, its summary — printed if *echo*, and saved like a build's."""
    started = time.perf_counter()
    view, found = _last_build(targets, cwd, overrides, offline, save=True, hasher=hasher)
    if found is None:
        return None
    summary = Summary(
        tasks_total=found.tasks,
        tasks_up_to_date=found.tasks,
        files_unchanged=len(found.files),
        llm_cache_hits=found.llm_functions,  # every LLM-written body reused, none asked for
        seconds=time.perf_counter() - started,
        fast_path=True,
    )
    if echo:
        print(summary.line())
    text = summary_bytes(summary)
    write_atomic(view.root / STATE_DIR / LAST_BUILD, text)
    if summary_json is not None:
        write_atomic(summary_json, text)
    return summary


def current(targets: Sequence[str | Path], cwd: Path, overrides: Mapping[str, Any]) -> int | None:
    """The fast path of ``check`` and ``--dry-run``: with nothing changed since the last build
    (the same fingerprint a no-op ``generate`` compares) and no file beside the generated ones,
    how many generated files there are, all current; else None. Writes nothing, asks no model."""
    view, found = _last_build(targets, cwd, overrides, True, save=False)
    if found is None or not found.packages:
        return None
    if unknown_files(view.output, found.packages, set(found.files)):
        return None  # the full check names them
    return len(found.files)
