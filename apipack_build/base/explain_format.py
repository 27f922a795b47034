"""The format of ``.apipack/explain.json``, shared by the build that writes it
(``run.explain_record``) and the command that reads it (``explain``): what its statuses and
kinds of input are called, and how a record is read back.

The record is kept in shards, one per spec file, so that a build writes only the shards of the
spec files it planned: ``explain.json`` is one header line (the settings and model, the manifest
task, the tasks removed, which shards this build wrote (``fresh``) and the hash of each shard's
JSON by its key, the spec file: ``shards``); each shard — its tasks with the functions, rules,
templates and template sets they refer to (JSON) — is a file of ``explain/`` beside it, named by
that hash. A build writes the new shards first, then the header, then deletes the shards no
header names: a reader finds the record whole at any point (at 10,000 functions the record is
20 MB; an edit writes one shard of it and a header of 400 hashes)."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .fsio import FileHasher, write_atomic
from .hashing import bytes_hash

RECORD_FILE = "explain.json"
RECORD_FORMAT = 3
SHARDS = "explain"  # beside the record: its shards, each named by its hash
MANIFEST_TASK = "_manifest"  # as ``_build`` names it (not imported: that loads doit)

RAN, UP_TO_DATE, FAILED, NOT_RUN, REMOVED = "ran", "up to date", "failed", "not run", "removed"
WHOLE = "#"  # a function's entry: the hash of all its fields together
#: what reading a record that is well-formed JSON but not what a build wrote may raise
DAMAGE = (KeyError, TypeError, IndexError, AttributeError, ValueError)

#: what each kind of input is called, in the order causes are listed
KINDS = {
    "spec": "spec field",
    "implementation": "implementation file",
    "template": "template",
    "rule": "rule version",
    "rule-code": "rule code",
    "setting": "setting",
    "prompt": "prompt",
    "model": "model",
    "model-digest": "model digest",
    "llm-reply": "LLM reply",
    "outputs": "output list",
    "task-keys": "the keys of the tasks it records",
    "lock": "the entries of apipack.lock",
    # causes that are no input of their own
    "first-build": "first build",
    "new": "new task",
    "context": "template context",
    "cache-miss": "no cached reply",
    "unchanged": "inputs unchanged",
}
SHOWN_VALUES = ("rule", "model", "model-digest", "setting")  # kinds whose values are shown


def record_header(path: Path) -> dict[str, Any] | None:
    """The header of the record at *path*; None when there is none, or it is not JSON or of
    another format."""
    try:
        header = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None
    if not isinstance(header, dict) or header.get("format") != RECORD_FORMAT:
        return None
    return header


def shard_body(path: Path, header: Mapping[str, Any], key: str) -> bytes | None:
    """The JSON of shard *key* of the record at *path* as its *header* names it; None when it
    is missing or not what the header names (damaged)."""
    named = _named(path, header, key)
    if named is None:
        return None
    try:
        body = named[0].read_bytes()
    except OSError:
        return None
    return body if bytes_hash(body) == named[1] else None


def shard_kept(path: Path, header: Mapping[str, Any], key: str, hasher: FileHasher) -> bool:
    """Whether shard *key* is there as *header* names it: known by its stat signature to the
    build's *hasher*, which reads it only if not (a build keeps the shards of the spec files it
    did not plan: 20 MB at N = 10,000)."""
    named = _named(path, header, key)
    return named is not None and hasher.hash(named[0]) == named[1]


def _named(path: Path, header: Mapping[str, Any], key: str) -> tuple[Path, str] | None:
    """The file of shard *key* as *header* names it, and its hash; None if it names none."""
    shards = header.get("shards")
    digest = shards.get(key) if isinstance(shards, dict) else None
    try:
        return (_shard_path(path, digest), digest) if isinstance(digest, str) else None
    except ValueError:
        return None


def write_record(
    path: Path,
    header: Mapping[str, Any],
    bodies: Mapping[str, bytes],
    kept: Mapping[str, str],
    hasher: FileHasher,
) -> None:
    """Write the record of *header* (without its ``shards``), the shards' *bodies* by key and
    the shards *kept* (by key, the hash of each, there as the last record named it): the new
    shards (their hashes told to *hasher*), then the header naming them all, then forget the
    others."""
    digests = {key: bytes_hash(body) for key, body in bodies.items()}
    for key, digest in digests.items():
        shard = _shard_path(path, digest)
        write_atomic(shard, bodies[key])
        hasher.remember(shard, digest)
    digests.update(kept)
    head = header_line({**header, "shards": dict(sorted(digests.items()))})
    write_atomic(path, head.encode("utf-8") + b"\n")
    names = {_shard_path(path, digest).name for digest in digests.values()}
    folder = path.parent / SHARDS
    for name in os.listdir(folder) if folder.is_dir() else ():
        if name.endswith(".json") and name not in names:
            (folder / name).unlink(missing_ok=True)


def _shard_path(path: Path, digest: str) -> Path:
    name = digest.split(":", 1)[-1]
    if not name.isalnum():  # a header's hash names a file of the shards' folder, nothing else
        raise ValueError(f"not a shard's hash: {digest!r}")
    return path.parent / SHARDS / f"{name}.json"


def compact(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def header_line(header: Mapping[str, Any]) -> str:
    return compact({**header, "format": RECORD_FORMAT})


def merged(header: Mapping[str, Any], shards: Mapping[str, bytes | None]) -> dict[str, Any]:
    """One record of a *header* and the *shards* given (``shard_body``), as one table of each kind;
    the tasks of a shard the last build did not write (``fresh``) are up to date. Raises one
    of ``DAMAGE`` if it is not what a build wrote."""
    tasks: dict[str, Any] = {MANIFEST_TASK: dict(header["manifest"])}
    found: dict[str, Any] = {
        "format": RECORD_FORMAT,
        "settings": dict(header["settings"]),
        "llm": dict(header["llm"]),
        "removed": list(header["removed"]),
        "functions": {},
        "rules": {},
        "templates": {},
        "template_sets": [],
        "tasks": tasks,
    }
    fresh = set(header["fresh"])
    for key, body in sorted(shards.items()):
        if body is None:
            raise ValueError(f"shard {key!r} is missing or not as its build wrote it")
        shard = json.loads(body)
        offset = len(found["template_sets"])
        found["template_sets"].extend(list(names) for names in shard["template_sets"])
        for table in ("functions", "rules", "templates"):
            found[table].update(shard[table])
        for name, task in shard["tasks"].items():
            task = dict(task)
            if "templates" in task:
                task["templates"] = int(task["templates"]) + offset
            if key not in fresh:  # carried over from an earlier build: up to date in this one
                task.pop("causes", None)
                task["status"] = UP_TO_DATE
            tasks[name] = task
    return found


def read_record(path: Path) -> dict[str, Any] | None:
    """The record at *path*, whole; None when there is none, or it is of another format.
    Raises one of ``DAMAGE`` if it is damaged."""
    for _ in range(3):  # a build that wrote meanwhile may have deleted a shard of the header read
        header = record_header(path)
        if header is None:
            return None
        shards = {key: shard_body(path, header, key) for key in header["shards"]}
        if None not in shards.values() or record_header(path) == header:
            return merged(header, shards)
    raise ValueError("the record kept changing while read")
