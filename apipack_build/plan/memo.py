"""What each spec file yielded, remembered by the content of what it was made from.

After a successful ``generate``, ``.apipack/plan.json`` holds per spec file: the hash of its bytes
and of each implementation file it names, the tasks planned from it (name, rule, key, and each
file with the hash it holds), its package folders, the lock entries of its LLM-written bodies
and the templates its plan read (each name with the hash of its text, includes followed);
beside them ``globals`` (the hash of settings, rules, engine code and the template folders'
files but the templates' texts: ``load.inputs.globals_key``) and the lock's hash as that build
left it.

The next build re-reads only the spec files whose entry does not match — other bytes, another
implementation file, a template it read whose text changed, or an output that no longer holds
its bytes — and takes every other spec's tasks from here, without loading, rendering or handing
them to doit: their keys are content hashes of inputs that did not change. Anything else that
changed (``globals``, the lock) makes every spec fresh. The format is JSON with sorted keys; a
damaged or older file is ignored.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ..base.fsio import FileHasher, joined_str, stat_signature, write_atomic
from ..base.hashing import bytes_hash

MEMO_VERSION = 2
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
    templates: Mapping[str, str]  # the templates its plan read -> the hash of each one's text

    def current(
        self,
        hasher: FileHasher,
        root: Path,
        output: Path,
        template_hash: Callable[[str], str | None],
        outputs_hold: bool = False,
    ) -> bool:
        """Its implementation files, the templates it read and its outputs still hold the
        recorded bytes (*template_hash*: a template's hash as this build finds it). With
        *outputs_hold*, the caller knows its outputs do (``KnownTree``): they are not hashed."""
        if any(hasher.hash(root / rel) != digest for rel, digest in self.implementations.items()):
            return False
        if any(template_hash(name) != digest for name, digest in self.templates.items()):
            return False
        out = str(output)
        if outputs_hold:  # they exist: the stat cache need not look for them when it is saved
            hasher.seen.update(f"{out}/{path}" for task in self.tasks for path in task.files)
            return True
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
    digest: str = "-"  # of the file's bytes, as read


@dataclass(frozen=True)
class KnownTree:
    """The generated tree as the last build (or no-op) took it: whether a package folder's
    files still look as then (stat signatures), and the digest of the memo that build wrote
    with it. A folder that does is known to hold the bytes the manifest gave it then, which are
    the memo's when the memo is that one."""

    memo: str
    holds: Callable[[str], bool]


#: the memo last read or written, by path, with the file's stat signature then: a process that
#: builds again and again (``apipack watch``) plans each time from the memo it wrote last, and
#: parsing it costs more than the rest of a small edit's plan
_known: dict[str, tuple[list[int], Memo]] = {}


def read(path: Path) -> Memo | None:
    signature = stat_signature(path)  # before reading: a write meanwhile moves it
    known = _known.get(str(path))
    if signature is not None and known is not None and known[0] == signature:
        return known[1]
    try:
        raw = path.read_bytes()
        data = json.loads(raw)
        if data.get("version") != MEMO_VERSION:
            return None
        memo = Memo(
            str(data["output"]),
            str(data["globals"]),
            str(data["lock"]),
            {str(spec): _spec_yield(entry) for spec, entry in data["specs"].items()},
            bytes_hash(raw),
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None  # damaged or unknown: plan every spec
    _remember(path, signature, memo)
    return memo


def _remember(path: Path, signature: list[int] | None, memo: Memo) -> None:
    _known.clear()  # one project per process, as a rule: keep only the last
    if signature is not None:
        _known[str(path)] = (signature, memo)


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
        {str(name): str(digest) for name, digest in entry["templates"].items()},
    )


def write(path: Path, memo: Memo) -> str:
    """Write *memo*; the digest of the bytes written."""
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
                "templates": dict(found.templates),
            }
            for spec, found in memo.specs.items()
        },
    }
    text = json.dumps(data, sort_keys=True, separators=(",", ":"))
    raw = (text + "\n").encode("utf-8")
    write_atomic(path, raw)
    digest = bytes_hash(raw)
    _remember(path, stat_signature(path), replace(memo, digest=digest))
    return digest


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
    template_hash: Callable[[str], str | None],
    tree: KnownTree | None = None,
) -> dict[str, SpecYield]:
    """The remembered yields of the spec files (relative path, path) that did not change.
    Given the *tree* the memo was written with, the outputs of a package folder whose files
    still look as then are not hashed again."""
    if memo is None or (memo.globals, memo.lock, memo.output) != (globals_key, lock, output_id):
        return {}
    known = tree if tree is not None and tree.memo == memo.digest else None
    found = {}
    for rel, path in specs:
        entry = memo.specs.get(rel)
        if entry is None or hasher.hash(path) != entry.hash:
            continue
        hold = known is not None and all(known.holds(folder) for folder, _ in entry.folders)
        if entry.current(hasher, root, output, template_hash, hold):
            found[rel] = entry
    return found
