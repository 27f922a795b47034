"""Answering "nothing changed" without planning: one fingerprint of every input and output.

After a successful build, ``.apipack/fingerprint.json`` records a hash over everything that build
depended on: the effective settings (and which came from the command line), the spec files the
globs find, the implementation files they name, every file in every template folder, the source
of the engine and of every installed language and rule, the versions of the libraries that
render; and the lock as the build left it. The next ``generate`` recomputes all that from stat
signatures (hashing only files that moved), checks that every generated file still holds its
recorded bytes, and if all agree reports an up-to-date build without loading the specs, Jinja or
doit.

A no-op reads that one file and stats what it names, nothing more: it carries the stat signature
and hash of every input it hashed (``inputs``), the generated tree's signature
(``run.treestate``), and what ``importlib.metadata`` said of the installed distributions
(``load.inputs.Environment``, kept while they have not moved). ``manifest.json`` and
``filestat.json`` are read only when a signature moved.

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
from ..base.fsio import FileHasher, ParsedFiles, resolved, stat_signature, write_atomic
from ..base.lookup import FINGERPRINT_FILE, LAST_BUILD, LOCK_FILE, PROVIDER_GROUP, STATE_DIR
from ..base.summary import Summary, summary_bytes
from ..load.inputs import (
    FINGERPRINT_VERSION,
    SettingsView,
    entry_point_names,
    environment,
    fingerprint,
    recall_environment,
    template_folders,
)
from ..load.project import locate, resolve_targets, settings_source
from . import treestate
from .diff import unknown_files
from .treestate import TreeState, Vouch

if TYPE_CHECKING:
    from .graph import TaskGraph


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
    tree: TreeState | None = None,
    inputs: FileHasher | None = None,
    memo: str = "-",
) -> None:
    data = {
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
        "environment": environment().to_json(),
        "tree": tree.to_json() if tree else None,  # the generated files' stat signature
        "memo": memo,  # the digest of the plan memo written with that tree ("-": none)
        # the stat signatures and hashes of the files the key hashed, and of the lock
        "inputs": inputs.to_json() if inputs else {},
    }
    write_atomic(path, _fingerprint_text(data))
    # kept as reading it back would give it (JSON's types): a long-lived process reads it
    # between builds and in the next one (1.8 MB at N = 10,000)
    _read.keep(str(path), stat_signature(path), data)


def _fingerprint_text(data: dict[str, Any]) -> bytes:
    return (json.dumps(data, sort_keys=True, separators=(",", ":")) + "\n").encode("utf-8")


#: the fingerprint last read (a build reads it up to three times: the fast path, the plan's
#: look at the tree, the new fingerprint's)
_read: ParsedFiles[dict[str, Any]] = ParsedFiles()


def read(path: Path) -> dict[str, Any] | None:
    """The fingerprint at *path* (not to be changed in place: it is kept for the next read)."""
    signature = stat_signature(path)
    known = _read.get(str(path), signature)
    if known is not None:
        return known
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("version") != FINGERPRINT_VERSION:
        return None
    return _read.keep(str(path), signature, data)


def spec_paths(view: SettingsView, explicit: list[Path]) -> list[Path]:
    """The spec files a build would read, as the planner finds them (no error if none)."""
    if explicit:
        return sorted({p.resolve() for p in explicit})
    found: set[Path] = set()
    for pattern in view.settings["specs"]:
        matches = glob.glob(pattern, root_dir=view.root, recursive=True)
        paths = [view.root / match for match in matches]
        found.update(resolved(p for p in paths if p.suffix in (".yml", ".yaml") and p.is_file()))
    return sorted(found)


@dataclass(frozen=True)
class Taken:
    """A fingerprint taken before a build runs, and the hash of its settings' inputs."""

    key: str
    source: str
    inputs: FileHasher  # the files the key hashed, by stat signature
    tree: TreeState | None = None  # the generated tree as the last build left it


def build_fingerprint(
    build: TaskGraph, targets: Sequence[str | Path], cwd: Path, overrides: Mapping[str, Any]
) -> Taken:
    """The fingerprint of a planned build, taken before it runs: an input edited while it runs
    then fails the next comparison instead of passing for what the build saw. *targets*,
    *cwd* and *overrides* are those the build was prepared with."""
    plan = build.plan
    view = SettingsView.of(plan.effective)
    inputs = FileHasher(parent=build.hasher)
    key = fingerprint(
        view,
        inputs,
        plan.specs,
        plan.implementation_files,
        template_folders(view),
        plan.partial,
    )
    last = read(build.state / FINGERPRINT_FILE) or {}  # the build unlinks it when it writes
    source = settings_source(locate(targets, cwd), overrides)
    return Taken(key, source, inputs, TreeState.from_json(last.get("tree")))


def record_build(build: TaskGraph, taken: Taken) -> None:
    """After a successful build: remember its fingerprint for the next one."""
    packages = {d.path: list(d.ignore) for d in build.plan.packages}
    written = "-"
    if build.plan.parts:
        from ..plan import memo  # after a full build only

        written = memo.write(build.state / memo.MEMO_FILE, build.plan_memo())
    tree = treestate.take(
        build.manifest_path,
        build.output,
        build.output_id,
        packages,
        build.hasher,
        keep=_untouched(build, taken.tree),
    )
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
        lock=taken.inputs.hash(build.plan.llm.lock_path) or "-",
        packages=packages,
        tree=tree,
        inputs=taken.inputs,
        memo=written,
    )
    build.hasher.save()


def _untouched(build: TaskGraph, tree: TreeState | None) -> dict[str, treestate.Shard]:
    """The shards of the last tree for the package folders of spec files this build reused
    from the memo: it wrote nothing there, and the memo found their files as recorded."""
    if tree is None:
        return {}
    folders = {f for part in build.plan.parts if part.reused for f, _ in part.reused.folders}
    return {name: shard for name, shard in tree.shards.items() if name in folders}


@dataclass(frozen=True)
class LastBuild:
    """What the fingerprint says of the last successful build."""

    tasks: int
    files: set[str]  # the generated files, relative to the output folder
    llm_functions: int
    packages: dict[str, list[str]]  # package folder -> ignore globs
    clean: bool  # known to hold no file beside the generated ones


def up_to_date(
    view: SettingsView,
    explicit: list[Path],
    *,
    offline: bool,
    output: Path,
    save: bool = True,
    recorded: dict[str, Any] | None = None,
    source: str | None = None,
    vouch: Vouch | None = None,
) -> LastBuild | None:
    """The last build if nothing it depends on has changed since, else None. With *save*, the
    file hashes it learnt are kept for next time (``check`` writes nothing). *recorded*: the
    fingerprint file, if already read. *source*: the settings' source (``settings_source``)
    when *view* was resolved afresh because the recorded one differs; with *save*, *view* is
    kept under it, so that the next no-op validates no settings either (an equal key means
    settings equal but for where the model is served: ``inputs.fingerprint``). *vouch*: what
    a long-lived process knows of the generated tree's package folders (``treestate.holds``)."""
    state = view.root / STATE_DIR
    recorded = recorded or read(state / FINGERPRINT_FILE)
    if recorded is None:
        return None
    recalled = recall_environment(recorded.get("environment"))
    hasher = FileHasher.from_json(recorded.get("inputs"))
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
    packages = recorded.get("packages")
    packages = (
        {str(k): [str(p) for p in v] for k, v in packages.items()}
        if isinstance(packages, dict)
        else {}
    )
    tree = TreeState.from_json(recorded.get("tree"))
    # an input touched (its signature learnt, its hash unchanged), or distributions rescanned
    moved = hasher.dirty or not recalled or source is not None
    record = state / "manifest.json"
    if tree is None or not treestate.holds(record, output, tree, vouch):
        # by content: each file whose stat signature moved is read again
        hasher_of_outputs = FileHasher(state / "filestat.json")
        output_id = manifest.output_id(output, view.root)
        tree = treestate.take(record, output, output_id, packages, hasher_of_outputs)
        if tree is None:
            return None
        moved = True
    if recorded.get("llm_functions") and not offline and not _same_model(view, recorded):
        return None
    if save and moved:  # the next no-op trusts the stat signatures again
        recorded = {
            **recorded,
            "tree": tree.to_json(),
            "inputs": hasher.to_json(),
            "environment": environment().to_json(),
        }
        if source is not None:
            recorded.update(source=source, settings=view.settings, command_line=view.command_line)
        write_atomic(state / FINGERPRINT_FILE, _fingerprint_text(recorded))
    return LastBuild(
        int(recorded.get("tasks", 0)),
        tree.names(),
        int(recorded.get("llm_functions", 0)),
        packages,
        tree.clean,
    )


def _same_model(view: SettingsView, recorded: dict[str, Any]) -> bool:
    """Does the server still serve the model the last build's answers were keyed on?"""
    from ..ask.digest import OLLAMA_PROVIDER, UNSUPPORTED, ollama_digest  # online only

    if not recorded.get("digest"):
        return False  # no digest to compare (an OpenAI-compatible server publishes none)
    llm = view.settings["llm"]
    if _provider_class(str(llm["provider"])) == OLLAMA_PROVIDER:
        found = ollama_digest(str(llm["base_url"]), str(llm["model"]), float(llm["timeout"]))
        if found != UNSUPPORTED:
            return found == str(recorded["digest"])
    return _same_model_by_provider(view, recorded["digest"])


def _provider_class(name: str) -> str | None:
    """The class ``llm.provider`` names, as the entry points the fingerprint covers say."""
    prefix = f"{PROVIDER_GROUP}:{name}="
    found = [point[len(prefix) :] for point in entry_point_names() if point.startswith(prefix)]
    return found[0] if len(found) == 1 else None


def _same_model_by_provider(view: SettingsView, digest: str) -> bool:
    """As ``_same_model``, through the provider itself (httpx, pydantic): a plugin's provider,
    or a server the standard library's client does not speak to as httpx would."""
    from ..errors import LLMError
    from ..llm import make_provider
    from ..settings import LLMSettings

    probe = LLMSettings.model_validate({**view.settings["llm"], "retries": 0})
    provider = make_provider(probe)
    try:
        return provider.model_digest() == digest
    except LLMError:
        return False  # unreachable or no such model: the full build says what to do
    finally:
        provider.close()


def settings_view(
    targets: Sequence[str | Path], cwd: Path, overrides: Mapping[str, Any]
) -> tuple[SettingsView, list[Path]]:
    """The settings of a command and its explicit spec files: as the last build recorded them
    while what they are read from is unchanged (no validation, no pydantic), else resolved."""
    return _settings_view(targets, cwd, overrides)[:2]


def _settings_view(
    targets: Sequence[str | Path], cwd: Path, overrides: Mapping[str, Any]
) -> tuple[SettingsView, list[Path], dict[str, Any] | None, str | None]:
    """``settings_view``, the fingerprint file it read, and the settings' source if they were
    resolved afresh (None if read from that file)."""
    target = locate(targets, cwd)
    recorded = read(target.root / STATE_DIR / FINGERPRINT_FILE)
    source = settings_source(target, overrides)
    if (
        recorded is not None
        and isinstance(recorded.get("settings"), dict)
        and recorded.get("source") == source
    ):
        command_line = [str(name) for name in recorded.get("command_line") or []]
        view = SettingsView(target.root, recorded["settings"], command_line)
        return view, target.specs, recorded, None
    effective, specs = resolve_targets(targets, cwd, overrides)
    return SettingsView.of(effective), specs, recorded, source


def _last_build(
    targets: Sequence[str | Path],
    cwd: Path,
    overrides: Mapping[str, Any],
    offline: bool | None,
    save: bool,
    vouch: Vouch | None,
) -> tuple[SettingsView, LastBuild | None]:
    view, specs, recorded, source = _settings_view(targets, cwd, overrides)
    if not view.settings["templates"]["cache_enabled"]:
        return view, None  # `templates.cache_enabled: false`: plan and check every task
    offline = bool(view.settings["offline"]) if offline is None else offline
    try:
        found = up_to_date(
            view,
            specs,
            offline=offline,
            output=view.output,
            save=save,
            recorded=recorded,
            source=source,
            vouch=vouch,
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
    vouch: Vouch | None = None,
) -> Summary | None:
    """The fast path of ``generate`` (command line and API alike): if nothing the last build
    depended on has changed, its summary — printed if *echo*, and saved like a build's.
    *vouch*: as for ``up_to_date``."""
    started = time.perf_counter()
    view, found = _last_build(targets, cwd, overrides, offline, save=True, vouch=vouch)
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


def current(
    targets: Sequence[str | Path],
    cwd: Path,
    overrides: Mapping[str, Any],
    vouch: Vouch | None = None,
) -> int | None:
    """The fast path of ``check`` and ``--dry-run``: with nothing changed since the last build
    (the same fingerprint a no-op ``generate`` compares) and no file beside the generated ones,
    how many generated files there are, all current; else None. Writes nothing, asks no model.
    *vouch*: as for ``up_to_date``."""
    view, found = _last_build(targets, cwd, overrides, True, save=False, vouch=vouch)
    if found is None or not found.packages:
        return None
    if not found.clean and unknown_files(view.output, found.packages, found.files):
        return None  # the full check names them
    return len(found.files)
