"""What each spec file yielded, remembered by the content of what it was made from.

After a successful ``generate``, ``.apipack/plan.json`` holds per spec file: the hash of its bytes
and of each implementation file it names, the tasks planned from it (name, rule, key, and each
file with the hash it holds), its package folders and the lock entries of its LLM-written
bodies; beside them ``globals`` (the hash of settings, templates, rules and engine code:
``load.inputs.globals_key``) and the lock's hash as that build left it.

The next build re-reads only the spec files whose entry does not match — other bytes, another
implementation file, or an output that no longer holds its bytes — and takes every other spec's
tasks from here, without loading, rendering or handing them to doit: their keys are content
hashes of inputs that did not change. Anything else that changed (``globals``, the lock) makes
every spec fresh. The format is JSON with sorted keys; a damaged or older file is ignored.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..base.fsio import FileHasher, joined_str, write_atomic

MEMO_VERSION = 1
MEMO_FILE = "plan.json"  # in STATE_DIR

Ident = tuple[str, str, str]  # package, function, language


@dataclass(frozen=True)
class MemoTask:
    name: str
    rule: str
    key: str
    files: Mapping[str, str]  # path in the output folder -> hash of its bytes


@dataclass(frozen=True)
class SpecYield:
    """What one spec file yielded, and the hashes of what it was made from."""

    hash: str
    implementations: Mapping[str, str]  # project-relative path -> hash
    tasks: tuple[MemoTask, ...]
    folders: tuple[tuple[str, tuple[str, ...]], ...]  # package folder, its ignore globs
    lock: tuple[Mapping[str, Any], ...]  # the lock entries of its LLM-written bodies

    def current(self, hasher: FileHasher, root: Path, output: Path) -> bool:
        """Its implementation files and its outputs still hold the recorded bytes."""
        if any(hasher.hash(root / rel) != digest for rel, digest in self.implementations.items()):
            return False
        out = str(output)
        return all(
            hasher.hash(joined_str(out, path)) == digest
            for task in self.tasks
            for path, digest in task.files.items()
        )


@dataclass(frozen=True)
class Memo:
    output: str  # the manifest's name of the output folder
    globals: str
    lock: str  # hash of apipack.lock after the build, "-" without one
    specs: Mapping[str, SpecYield]  # by project-relative spec path


def read(path: Path) -> Memo | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("version") != MEMO_VERSION:
            return None
        return Memo(
            str(data["output"]),
            str(data["globals"]),
            str(data["lock"]),
            {str(spec): _spec_yield(entry) for spec, entry in data["specs"].items()},
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None  # damaged or unknown: plan every spec


def _spec_yield(entry: Mapping[str, Any]) -> SpecYield:
    return SpecYield(
        str(entry["hash"]),
        {str(k): str(v) for k, v in entry["implementations"].items()},
        tuple(
            MemoTask(str(name), str(rule), str(key), {str(p): str(h) for p, h in files.items()})
            for name, rule, key, files in entry["tasks"]
        ),
        tuple((str(folder), tuple(map(str, ignore))) for folder, ignore in entry["folders"]),
        tuple(dict(lock) for lock in entry["lock"]),
    )


def write(path: Path, memo: Memo) -> None:
    data = {
        "version": MEMO_VERSION,
        "output": memo.output,
        "globals": memo.globals,
        "lock": memo.lock,
        "specs": {
            spec: {
                "hash": found.hash,
                "implementations": dict(found.implementations),
                "tasks": [[t.name, t.rule, t.key, dict(t.files)] for t in found.tasks],
                "folders": [[folder, list(ignore)] for folder, ignore in found.folders],
                "lock": list(found.lock),
            }
            for spec, found in memo.specs.items()
        },
    }
    text = json.dumps(data, sort_keys=True, separators=(",", ":"))
    write_atomic(path, (text + "\n").encode("utf-8"))


def reusable(
    memo: Memo | None,
    *,
    globals_key: str,
    lock: str,
    output_id: str,
    specs: Iterable[tuple[str, Path]],
    hasher: FileHasher,
    root: Path,
    output: Path,
) -> dict[str, SpecYield]:
    """The remembered yields of the spec files (relative path, path) that did not change."""
    if memo is None or (memo.globals, memo.lock, memo.output) != (globals_key, lock, output_id):
        return {}
    found = {}
    for rel, path in specs:
        entry = memo.specs.get(rel)
        same = entry is not None and hasher.hash(path) == entry.hash
        if same and entry is not None and entry.current(hasher, root, output):
            found[rel] = entry
    return found
