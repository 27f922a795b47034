"""Turning a plan into doit tasks and accounting for what happened (``build`` runs them).

Each render task is up to date when its key equals the key of its last successful run *and*
every file it wrote still has the bytes it wrote (so a hand edit is repaired by the next build).
A final ``_manifest`` task records the files, deletes those no longer produced, and is itself
keyed on the plan, so a no-op build runs nothing at all.
"""

from __future__ import annotations

import contextlib
import inspect
import json
import sqlite3
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from doit.exceptions import TaskFailed
from filelock import FileLock, Timeout

from ..ask.step import Asker, Need
from ..ask.store import write_lock
from ..base import heap, manifest
from ..base.fsio import (
    Confined,
    FileHasher,
    WritePool,
    joined,
    joined_str,
    stat_signature,
    sweep_temporaries,
    write_atomic,
)
from ..base.hashing import bytes_hash, content_hash
from ..base.lookup import FINGERPRINT_FILE, LAST_BUILD, STATE_DIR
from ..base.summary import Summary, summary_bytes
from ..errors import ApipackError, BusyError
from ..load.registry import registry
from ..plan import memo
from ..plan.plan import Plan, PlannedFile, RenderTask
from .progress import Progress, metering

DEFAULT_NAMESPACE = "apipack"  # doit's basename of a project's tasks
MANIFEST_TASK = "_manifest"
#: the doit task that renders, as one, the tasks planned again of a spec file of which only
#: templates changed (``retemplate``): ``templates@`` + the spec file's path
BATCH_PREFIX = "templates@"
LOCK_TIMEOUT = 900.0
#: in STATE_DIR while a build writes its outputs: one killed then may have left temporary files
WRITING_FILE = "writing"


class TaskGraph:
    """One build of one project into one output folder: its doit tasks, their actions, its
    lock and its accounting."""

    def __init__(
        self,
        plan: Plan,
        *,
        hasher: FileHasher | None = None,
        summary_json: Path | None = None,
        quiet: bool = False,
        basename: str = DEFAULT_NAMESPACE,
    ):
        self.plan = plan
        self.basename = basename  # doit's name for the task group: the project's namespace
        self.root = plan.effective.root
        self.state = self.root / STATE_DIR
        self.output = plan.output
        self.output_id = manifest.output_id(self.output, self.root)
        self.manifest_path = self.state / "manifest.json"
        self.hasher = hasher or FileHasher(self.state / "filestat.json")
        self.summary_json = summary_json
        self.quiet = quiet
        self.summary = Summary()
        self._lock: FileLock | None = None
        self._resolved: dict[str, RenderTask] = {}
        self._targets: dict[str, str] = {}
        self._output_text = str(self.output)
        self._writable = Confined(self.output)  # where a file may be written or deleted
        self._plan_key: str | None = None
        self._yielded: dict[str, list[list[Any]]] | None = None
        self._recorded: manifest.Shards | bool | None = False  # False: not read yet
        self._recorded_folders: dict[str, dict[str, manifest.Entry]] = {}
        self._pool: WritePool | None = None  # the batches' writes (``_render_batch``)
        self.batches: dict[str, list[str]] = {}  # a batch's doit name -> its tasks' names
        self._memo: memo.Memo | None = None  # ``plan_memo``, once made
        self._outputs: dict[str, str] = {}  # file -> the hash of what this build rendered of it
        self.outcomes: dict[str, str] = {}  # task name -> how it ended, for `apipack explain`
        self.progress: Progress | None = None  # the live display, when the command line asks

    # -- locking --

    def lock(self, *, writing: bool = False) -> None:
        """Hold this project's build lock until the process ends (or ``unlock``); then, as no
        other build can be writing, clear what a killed one left: damaged state and the
        temporary files of interrupted writes.

        *writing*: this build is about to write its outputs. Only a build killed while writing
        leaves temporary files in the output folder, and such a build leaves ``WRITING_FILE``
        behind; without it, only the package folders this build will write into are swept
        (walking every folder costs seconds at N = 10,000)."""
        self._lock = acquire_state_lock(self.state)
        set_aside_damaged_state(self.state)
        marker = self.state / WRITING_FILE
        folders = self._fresh_folders() if writing and not marker.exists() else None
        for folder in [""] if folders is None else folders:
            sweep_temporaries(joined(self.output, folder) if folder else self.output)
        if writing:
            marker.touch()
        sweep_temporaries(self.state, recursive=False)
        lock_file = self.plan.llm.lock_path
        sweep_temporaries(lock_file.parent, recursive=False, of=lock_file.name)

    def _fresh_folders(self) -> list[str] | None:
        """The package folders of the spec files this build plans afresh; None if it does not
        remember its spec files (then any folder may be written)."""
        if not self.plan.parts:
            return None
        return sorted({f for part in self.plan.parts if part.reused is None for f in part.folders})

    def done_writing(self) -> None:
        """Every output is written: a later build need not sweep the whole output folder."""
        (self.state / WRITING_FILE).unlink(missing_ok=True)

    def unlock(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    # -- doit --

    def tasks(self) -> Iterator[dict[str, Any]]:
        """doit task dicts, all subtasks of ``basename``: LLM requests still to send, one task
        per render task, then the manifest."""
        for name, need in self.plan.llm.asks():
            yield {
                "basename": self.basename,
                "name": name,
                "actions": [(self._ask, (need,))],
                "uptodate": [False],  # it exists only because no answer is known
                "verbosity": 0,
            }
        batches = self._batches()
        batched = {task.name for tasks in batches.values() for task in tasks}
        names = []
        for task in self.plan.tasks:
            if task.reused:  # of a spec file re-planned for a template edit (``retemplate``)
                continue  # its files hold what its key makes: doit need not look at it
            if task.name in batched:
                continue
            names.append(task.name)
            yield {
                "basename": self.basename,
                "name": task.name,
                "actions": [(self._render, (task,))],
                "targets": [self._target(f.path) for f in task.files],
                "task_dep": [f"{self.basename}:{name}" for name in task.after],
                "uptodate": [_Current(self, task)],
                "clean": [(self._clean, (task,))],
                "verbosity": 0,
            }
        for spec, tasks in batches.items():
            names.append(BATCH_PREFIX + spec)
            self.batches[BATCH_PREFIX + spec] = [task.name for task in tasks]
            yield {
                "basename": self.basename,
                "name": BATCH_PREFIX + spec,
                "actions": [(self._render_batch, (tasks,))],
                "targets": [self._target(f.path) for task in tasks for f in task.files],
                "uptodate": [_BatchCurrent(self, tasks)],
                "clean": [(self._clean, (task,)) for task in tasks],
                "verbosity": 0,
            }
        yield {
            "basename": self.basename,
            "name": MANIFEST_TASK,
            "actions": [(self._finish, ())],
            "task_dep": [f"{self.basename}:{name}" for name in names],
            "uptodate": [_ManifestCurrent(self)],
            "verbosity": 0,
        }

    def _batches(self) -> dict[str, list[RenderTask]]:
        """The tasks planned again of each spec file of which only templates changed, by spec
        file: one doit task renders them (a template edit re-renders 1000s of files, and doit
        costs about 0.3 ms a task), writing in a pool. doit's record of each stays that of
        its last run on its own: the manifest's is read instead (``recorded``)."""
        retemplated = {part.spec: set(part.tasks) for part in self.plan.parts if part.retemplated}
        owner = {name: spec for spec, names in retemplated.items() for name in names}
        batches: dict[str, list[RenderTask]] = {}
        for task in self.plan.tasks:
            spec = owner.get(task.name)
            if spec is not None and not task.reused and not task.after and task.resolve is None:
                batches.setdefault(spec, []).append(task)
        return batches

    def recorded(self, task: RenderTask) -> bool:
        """The last build's manifest records each file of *task* as made by it with its key,
        and the file still holds those bytes: what doit's record of the task would say, for a
        task whose last run doit did not record (run in a batch, ``_batches``)."""
        if self._last_manifest() is None or not task.files:
            return False
        for planned in task.files:
            entry = self._last_entries(manifest.folder_of(planned.path)).get(planned.path)
            if entry is None or (entry.task, entry.key) != (task.name, task.key):
                return False
            if self.hasher.hash(self._target(planned.path)) != entry.hash:
                return False
        return True

    def _last_manifest(self) -> manifest.Shards | None:
        """The manifest as the last build left it, read once (until ``_finish`` writes it)."""
        if self._recorded is False:
            self._recorded = manifest.read_shards(self.manifest_path, self.output_id)
        return self._recorded if isinstance(self._recorded, manifest.Shards) else None

    def _last_entries(self, folder: str) -> dict[str, manifest.Entry]:
        """The entries the last build's manifest holds of a package folder, parsed once."""
        entries = self._recorded_folders.get(folder)
        if entries is None:
            last = self._last_manifest()
            shard = last.folders.get(folder) if last is not None else None
            entries = self._recorded_folders[folder] = shard.entries() if shard else {}
        return entries

    def _target(self, relative: str) -> str:
        """Where a generated file is, for reading (memoized: checked once per path per run); a
        string, not a ``Path``: a template edit names 1000s (doit's targets, the stat cache)."""
        found = self._targets.get(relative)
        if found is None:
            found = self._targets[relative] = joined_str(self._output_text, relative)
        return found

    def resolved(self, task: RenderTask) -> RenderTask:
        """The task with its real key and files (LLM-dependent tasks learn them late)."""
        if task.resolve is None:
            return task
        if task.name not in self._resolved:
            self._resolved[task.name] = task.resolve()
        return self._resolved[task.name]

    def _resolved_if_answered(self, task: RenderTask) -> RenderTask:
        try:
            return self.resolved(task)
        except ApipackError:  # its LLM reply never came (a failed build's explain record)
            return task

    def resolved_tasks(self) -> list[RenderTask]:
        return [self.resolved(task) for task in self.plan.tasks]

    def _ask(self, need: Need) -> dict[str, Any] | TaskFailed:
        asker = Asker(
            self.plan.llm.settings,
            self.plan.llm.provider,
            self.plan.llm.cache,
            self.state / "failed",
            registry().languages,
            remote=self.plan.llm.remote,
        )
        failed: TaskFailed | None = None
        name = f"{self.basename}:{self.plan.llm.task_name(need)}"  # as doit's reporter names it
        meter = metering(self.plan.llm.provider(), self.progress, name)
        try:
            with self._llm_slot(), meter:
                asker.ask(need, self.plan.llm.resolution.digest)
        except ApipackError as exc:
            failed = TaskFailed(str(exc))
        finally:
            self.plan.llm.cache.close()
            heap.after_request()  # its cyclic garbage, freed as the build goes
        # doit swallows what an action prints: the reporter shows the caches' warnings
        remote = self.plan.llm.remote
        warnings = [*self.plan.llm.cache.warnings, *(remote.take_warnings() if remote else [])]
        self.plan.llm.cache.warnings.clear()
        values = {"llm": vars(asker.stats), "warnings": warnings}
        if failed is not None:
            # doit keeps no values of a failed task: the requests it made travel with the
            # failure (pickled whole from a worker process), so the summary counts them too
            failed.values = values
            return failed
        return values

    @contextlib.contextmanager
    def _llm_slot(self) -> Iterator[None]:
        """At most ``llm.concurrency`` requests in flight, across doit's worker processes."""
        slots = self.plan.llm.settings.concurrency
        while True:
            for index in range(slots):
                lock = FileLock(str(self.state / f"llm-slot-{index}.lock"))
                try:
                    lock.acquire(timeout=0)
                except Timeout:
                    continue
                try:
                    yield
                finally:
                    lock.release()
                return
            time.sleep(0.05)

    def _render(self, task: RenderTask) -> dict[str, Any] | TaskFailed:
        made: list[tuple[str, str]] = []
        try:
            return self._render_files(task, self._write, made)
        except ApipackError as exc:
            return TaskFailed(str(exc))
        finally:
            self._remember(made)

    def _write(self, relative: str, data: bytes) -> None:
        write_atomic(self._writable(relative), data)

    def _render_batch(self, tasks: list[RenderTask]) -> dict[str, Any] | TaskFailed:
        """Render *tasks* (``_batches``), writing in a pool; each one's values as ``_render``
        gives them, under "members", and the error of each that failed under "failed"."""
        members: dict[str, dict[str, Any]] = {}
        failed: dict[str, str] = {}
        made: list[tuple[str, str]] = []
        if self._pool is None:  # one per build: its threads start once
            self._pool = WritePool(self._writable)
        try:
            for task in tasks:
                try:
                    members[task.name] = self._render_files(task, self._pool.write, made)
                except ApipackError as exc:  # the others are rendered, as doit would
                    failed[task.name] = str(exc)
        finally:
            unwritten = self._pool.wait()
            # once written: a file's stat signature is remembered with its hash
            self._remember([(path, digest) for path, digest in made if path not in unwritten])
        for task in tasks:  # a task one of whose files was not written failed
            errors = [
                _write_error(f.path, unwritten[f.path]) for f in task.files if f.path in unwritten
            ]
            if errors:
                members.pop(task.name, None)
                failed[task.name] = "; ".join(errors)
        values = {"members": members, "failed": failed}
        if not failed:
            return values
        result = TaskFailed("; ".join(f"{name}: {error}" for name, error in failed.items()))
        result.values = values  # the reporter counts each task, as if doit had run it
        return result

    def _render_files(
        self, task: RenderTask, write: Callable[[str, bytes], None], made: list[tuple[str, str]]
    ) -> dict[str, Any]:
        """Render *task*'s files and *write* those whose bytes changed; each file's hash goes to
        *made* (remembered once written). Its values for doit: key, outputs, written."""
        task = self.resolved(task)
        outputs, written = {}, []
        for planned in task.files:
            if planned.recorded:  # the plan found it holding what its template makes
                outputs[planned.path] = self._outputs[planned.path] = planned.recorded
                continue
            data = self.plan.renderer.render(
                planned.template, planned.context, planned.finish
            ).encode("utf-8")
            digest = bytes_hash(data)
            target = self._target(planned.path)
            # what it holds: as the plan found it, if it looked (then no stat before the write)
            if (planned.held or self.hasher.hash(target)) != digest:
                write(planned.path, data)  # (confined to the output folder by *write*)
                written.append(planned.path)
                made.append((planned.path, digest))
            outputs[planned.path] = self._outputs[planned.path] = digest
        return {"key": task.key, "outputs": outputs, "written": written}

    def _remember(self, made: list[tuple[str, str]]) -> None:
        for path, digest in made:
            with contextlib.suppress(FileNotFoundError, NotADirectoryError):  # gone since
                self.hasher.remember(self._target(path), digest)

    def _output_hash(self, planned: PlannedFile) -> str | None:
        """What a file of the plan holds after its task ran (or was up to date): what this
        build rendered of it, else what the plan found it holding, else its hash."""
        found = self._outputs.get(planned.path) or planned.recorded
        return found or self.hasher.hash(self._target(planned.path))

    def _clean(self, task: RenderTask) -> None:
        """``doit clean``: remove this task's files and the folders they leave empty."""
        for planned in task.files:
            target = self._writable(planned.path)
            if target.exists():
                target.unlink()
                _prune_empty_parents(target.parent, self.output)

    def plan_key(self) -> str:
        """What the manifest task records: every task key, and the LLM answers the lock holds.
        Asked when every task has run (its check, then its action): computed once."""
        if self._plan_key is None:
            self._plan_key = self._new_plan_key()
        return self._plan_key

    def _new_plan_key(self) -> str:
        return content_hash({"output": self.output_id, **self.yielded()})

    def yielded(self) -> dict[str, list[list[Any]]]:
        """Every task's key and lock entry, those of a spec file the plan remembers named by
        ``memo.yield_key``: the same whether it was taken from the memo or planned afresh.
        Asked when every task has run (``plan_key``, then the explain record): made once."""
        if self._yielded is None:
            self._yielded = self._new_yielded()
        return self._yielded

    def _new_yielded(self) -> dict[str, list[list[Any]]]:
        resolved = {task.name: self._resolved_if_answered(task) for task in self.plan.tasks}
        locked = self.lock_entries()
        specs: list[list[Any]] = []
        owned_tasks: set[str] = set()
        owned_packages: set[str] = set()
        for part in self.plan.groups:
            if part.reused is not None:
                specs.append([part.spec, part.reused.key])
                continue
            tasks = [(name, resolved[name].key) for name in part.tasks]
            lock = [entry for ident, entry in sorted(locked.items()) if ident[0] in part.packages]
            specs.append([part.spec, memo.yield_key(tasks, lock)])
            owned_tasks.update(part.tasks)
            owned_packages.update(part.packages)
        kept = self.plan.llm.kept
        return {
            "specs": specs,
            "tasks": [[n, t.key] for n, t in resolved.items() if n not in owned_tasks],
            "llm": [
                [*ident, entry]
                for ident, entry in sorted(locked.items())
                if ident not in kept and ident[0] not in owned_packages
            ],
        }

    def lock_entries(self) -> dict[tuple[str, str, str], dict[str, Any]]:
        """The lock as this build leaves it (packages outside a partial build keep theirs)."""
        return self.plan.llm.lock_entries(self.plan.partial, self._built())

    def _built(self) -> set[str]:
        """The packages this build writes (a partial build: those of its spec files)."""
        return {d.path.split("/")[1] for d in self.plan.packages}

    def _finish(self) -> dict[str, Any]:
        """Record the manifest and delete files that no build task produces any more."""
        self._write_lock()
        kept = self._last_manifest()
        shards, files = self._manifest_shards(kept)
        # the files the last build recorded in the package folders whose entries change
        old = {
            name: entry
            for folder, shard in (kept.folders.items() if kept is not None else ())
            if shards.get(folder) != shard
            for name, entry in self._last_entries(folder).items()
        }
        deleted, kept_files = self.delete_stale(old, files)
        manifest.write_shards(self.manifest_path, self.output_id, shards, kept)
        self._recorded, self._recorded_folders = False, {}  # read again if asked
        # The fast path's fingerprint describes the inputs of the outputs it saw; these differ
        # now. `apipack generate` records a new one after the run; plain doit leaves none.
        (self.state / FINGERPRINT_FILE).unlink(missing_ok=True)
        # the reporter tells the user: doit swallows what an action prints
        return {"plan_key": self.plan_key(), "deleted": deleted, "kept": kept_files}

    def _manifest_shards(
        self, kept: manifest.Shards | None
    ) -> tuple[dict[str, manifest.Shard], dict[str, manifest.Entry]]:
        """The manifest's shards after this build, and the entries of those not copied from
        *kept*: a package folder of a spec file the plan reused keeps its text while it was
        made from the same memo line."""
        made_from = {
            folder: part.reused.digest
            for part in self.plan.parts
            if part.reused is not None
            for folder, _ in part.reused.folders
        }
        shards: dict[str, manifest.Shard] = {}
        for folder, source in made_from.items():
            shard = kept.folders.get(folder) if kept is not None else None
            if shard is not None and shard.source == source:
                shards[folder] = shard
        by_folder: dict[str, dict[str, manifest.Entry]] = {}
        for found in self.plan.reused:
            if all(folder in shards for folder, _ in found.folders):
                continue
            for memo_task in found.tasks:  # its entries not all copied: from its memo line
                paths = sorted(memo_task.files)
                if not paths or manifest.folder_of(paths[0]) in shards:
                    continue
                for path in paths:
                    recorded = manifest.Entry(memo_task.files[path], memo_task.name, memo_task.key)
                    by_folder.setdefault(manifest.folder_of(path), {})[path] = recorded
        for task in self.resolved_tasks():  # planned afresh: in folders of no reused spec file
            for planned in task.files:
                entry = manifest.Entry(self._output_hash(planned) or "", task.name, task.key)
                by_folder.setdefault(manifest.folder_of(planned.path), {})[planned.path] = entry
        fresh = self._fresh_sources()
        for folder, entries in by_folder.items():
            source = made_from.get(folder, fresh.get(folder, "-"))
            shards[folder] = manifest.Shard(source, manifest.fragment(entries))
        files = {name: entry for entries in by_folder.values() for name, entry in entries.items()}
        return shards, files

    def _fresh_sources(self) -> dict[str, str]:
        """The package folders of the spec files planned afresh, each with the digest of the
        memo line this build writes for its spec file: the next build copies their manifest
        text while it reuses that line (else the first edit after a full build serializes the
        whole manifest again)."""
        if not self.plan.parts:
            return {}  # no memo: nothing to name
        made = self.plan_memo()
        return {
            folder: made.specs[part.spec].digest
            for part in self.plan.parts
            if part.reused is None
            for folder in part.folders
        }

    def plan_memo(self) -> memo.Memo:
        """What each spec file of this successful build yielded, for the next build's plan
        (made once: the manifest names the lines of the spec files planned afresh)."""
        if self._memo is None:
            self._memo = self._new_plan_memo()
        return self._memo

    def _new_plan_memo(self) -> memo.Memo:
        plan, hasher = self.plan, self.hasher
        resolved = {task.name: task for task in self.resolved_tasks()}
        ignores = {d.path: d.ignore for d in plan.packages}
        locked: dict[str, list[dict[str, Any]]] = {}  # by package, sorted
        for ident, entry in sorted(self.lock_entries().items()):
            locked.setdefault(ident[0], []).append(entry)
        specs = {}
        for part in plan.parts:
            if part.reused is not None:
                specs[part.spec] = part.reused
                continue
            tasks = tuple(
                memo.MemoTask(
                    name,
                    resolved[name].rule,
                    resolved[name].key,
                    {f.path: self._output_hash(f) or "-" for f in resolved[name].files},
                    resolved[name].templates,
                )
                for name in part.tasks
            )
            # sorted by ident, as one sort of the whole lock gives them
            lock = tuple(e for package in sorted(part.packages) for e in locked.get(package, []))
            folders = tuple((folder, ignores[folder]) for folder in part.folders)
            package = memo.keep_package(self.state, part.package) if part.package else ""
            found = memo.SpecYield.of(
                part.hash, part.implementations, tasks, folders, lock, part.templates, package
            )
            specs[part.spec] = replace(found, line=found.to_line(part.spec))  # named by its line
        lock_hash = hasher.hash(plan.llm.lock_path) or "-"
        return memo.Memo(self.output_id, plan.globals_key, lock_hash, specs)

    def _write_lock(self) -> None:
        llm = self.plan.llm
        if not llm.bodies and not llm.lock_path.is_file():
            return  # no LLM in this project: no lock file to keep
        same = llm.unchanged_packages(self.plan.partial, self._built())
        write_lock(llm.lock_path, self.lock_entries(), same)
        self.hasher.hash(llm.lock_path)  # now, so the stat cache is saved once, knowing it

    def delete_stale(
        self, old: dict[str, manifest.Entry], current: dict[str, Any]
    ) -> tuple[list[str], list[str]]:
        deleted, kept = [], []
        for path in sorted(set(old) - set(current)):
            target = self._writable(path)
            digest = self.hasher.hash(target)
            if digest is None:
                continue
            if digest != old[path].hash:
                kept.append(path)
                continue
            target.unlink()
            deleted.append(path)
            _prune_empty_parents(target.parent, self.output)
        return deleted, kept

    # -- accounting --

    def write_summary(self) -> None:
        """To ``--summary-json``, and always to ``.apipack/last-build.json`` (for cache stats)."""
        text = summary_bytes(self.summary)
        write_atomic(self.state / LAST_BUILD, text)
        if self.summary_json is not None:
            write_atomic(self.summary_json, text)


def acquire_state_lock(state: Path) -> FileLock:
    """The build lock of the project whose state folder is *state*; waits for another build."""
    state.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(state / "build.lock"))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        print(
            f"apipack: waiting for another build of this project ({STATE_DIR}/build.lock)",
            file=sys.stderr,
        )
        try:
            lock.acquire(timeout=LOCK_TIMEOUT)
        except Timeout:
            raise BusyError(
                f"another build of this project held {STATE_DIR}/build.lock "
                f"for {LOCK_TIMEOUT:.0f} s; giving up"
            ) from None
    return lock


def set_aside_damaged_state(state: Path) -> None:
    """doit would die with a traceback on a damaged database. Keys are content hashes and
    outputs are compared by content, so starting afresh loses nothing but time. A damaged
    manifest is set aside too: files it recorded are then left in place, never deleted."""
    recorded = state / "manifest.json"
    sound = _read_sound(state)
    # as the last build left it: apipack wrote it, so it is whole (read in full at N = 10,000)
    same = stat_signature(recorded) == sound.get(recorded.name)
    problem = None if same else manifest.damage(recorded)
    if problem is not None:
        recorded.replace(recorded.with_name("manifest.json.damaged"))
        print(
            f"apipack: {STATE_DIR}/manifest.json was damaged ({problem}); set it aside as "
            f"manifest.json.damaged",
            file=sys.stderr,
        )
    path = state / "doit.sqlite3"
    if not path.is_file() or stat_signature(path) == sound.get(path.name):
        return  # absent, or as the last build left it when doit closed it: not checked again
    try:
        with contextlib.closing(sqlite3.connect(path)) as db:
            healthy = db.execute("PRAGMA quick_check").fetchone() == ("ok",)
    except sqlite3.DatabaseError:
        healthy = False
    if not healthy:
        path.replace(path.with_name("doit.sqlite3.damaged"))
        print(
            f"apipack: {STATE_DIR}/doit.sqlite3 was damaged; set it aside as "
            f"doit.sqlite3.damaged and rebuilding the task state",
            file=sys.stderr,
        )


#: in STATE_DIR: the stat signatures of doit's database and the manifest as the last build
#: left them, once doit is done
SOUND_FILE = "state.sound"


def record_sound_state(state: Path) -> None:
    """After doit closed its database: its stat signature and the manifest's, so the next build
    need not check either whole (``PRAGMA quick_check`` reads all of the database: 0.5 s at
    N = 10,000; the manifest's check reads every entry)."""
    found = {name: stat_signature(state / name) for name in ("doit.sqlite3", "manifest.json")}
    text = json.dumps({name: sig for name, sig in found.items() if sig is not None})
    write_atomic(state / SOUND_FILE, text.encode("utf-8"))


def _read_sound(state: Path) -> dict[str, Any]:
    try:
        found = json.loads((state / SOUND_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


#: what doit asks of an ``uptodate`` callable to pass it the task and its values; stated, doit
#: does not work it out with ``inspect.signature`` for each task it checks (7 ms an edit)
_UPTODATE_SIGNATURE = inspect.Signature(
    [
        inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD)
        for name in ("task", "values")
    ]
)


class _Current:
    """doit ``uptodate``: same key as last time, and every output still holds what was written."""

    __signature__ = _UPTODATE_SIGNATURE

    def __init__(self, build: TaskGraph, task: RenderTask):
        self.build, self.task = build, task

    def __call__(self, task: Any, values: dict[str, Any]) -> bool:
        current = self.build.resolved(self.task)
        if not values:  # doit knows nothing of it (a new task, ``doit forget``): run it
            return False
        if values.get("key") != current.key:  # or a batch ran it since doit's last record
            return self.build.recorded(current)
        recorded = values.get("outputs") or {}
        if sorted(recorded) != sorted(f.path for f in current.files):
            return False
        hasher, target = self.build.hasher, self.build._target
        return all(hasher.hash(target(path)) == digest for path, digest in recorded.items())


class _BatchCurrent:
    """doit ``uptodate`` of a batch (``TaskGraph._batches``): each of its tasks as the manifest
    records it (planned again because a template changed, they seldom are)."""

    __signature__ = _UPTODATE_SIGNATURE

    def __init__(self, build: TaskGraph, tasks: list[RenderTask]):
        self.build, self.tasks = build, tasks

    def __call__(self, task: Any, values: dict[str, Any]) -> bool:
        return all(self.build.recorded(member) for member in self.tasks)


class _ManifestCurrent:
    __signature__ = _UPTODATE_SIGNATURE

    def __init__(self, build: TaskGraph):
        self.build = build

    def __call__(self, task: Any, values: dict[str, Any]) -> bool:
        if values.get("plan_key") != self.build.plan_key():
            return False
        recorded = manifest.read(self.build.manifest_path, self.build.output_id)
        planned = {f.path for t in self.build.resolved_tasks() for f in t.files}
        planned.update(path for y in self.build.plan.reused for t in y.tasks for path in t.files)
        lock_kept = not self.build.plan.llm.bodies or self.build.plan.llm.lock_path.is_file()
        return set(recorded) == planned and lock_kept


def _write_error(path: str, error: Exception) -> str:
    """What a failed write says: ours, or the system's reason, naming the file as planned."""
    if isinstance(error, ApipackError):
        return str(error)
    reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
    return f"cannot write {path}: {reason}"


def _prune_empty_parents(folder: Path, stop: Path) -> None:
    while folder != stop and folder.is_relative_to(stop):
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent
