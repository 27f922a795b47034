"""The format of ``.apipack/explain.json``, shared by the build that writes it
(``run.explain_record``) and the command that reads it (``explain``): what its statuses and
kinds of input are called, and how a record is read back.

The record is kept in shards, one per spec file, so that a build rewrites only the shards of the
spec files it planned and copies the others' lines as they are: a header line (the settings and
model, the manifest task, the tasks removed, which shards this build wrote (``fresh``) and the
hash of each shard's JSON: ``shards``), then
one line per shard — its key (the spec file, JSON), a tab, and its tasks with the functions,
rules, templates and template sets they refer to (JSON)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .hashing import bytes_hash

RECORD_FILE = "explain.json"
RECORD_FORMAT = 2
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


def record_lines(path: Path) -> tuple[dict[str, Any], dict[str, bytes]] | None:
    """The record at *path* as written: its header, and each shard's line by its key, unparsed
    and undecoded (a build copies the shards of the spec files it reused as they are: at
    10,000 functions the record is 20 MB). None when there is none, or it is not JSON or of
    another format."""
    try:
        raw = path.read_bytes()
        head, _, rest = raw.partition(b"\n")
        header = json.loads(head)
        if not isinstance(header, dict) or header.get("format") != RECORD_FORMAT:
            return None
        shards = {}
        for line in rest.removesuffix(b"\n").split(b"\n") if rest else []:
            key, tab, body = line.partition(b"\t")
            shards[str(json.loads(key))] = body if tab else b"-"  # "-": damaged, not JSON
    except (OSError, ValueError):
        return None
    return header, shards


def shard_line(key: str, body: bytes) -> bytes:
    """One shard of the record: its key, a tab, its JSON (neither holds a tab or a newline)."""
    return compact(key).encode("utf-8") + b"\t" + body


def line_hash(body: bytes) -> str:
    """What the header records of each shard's JSON, so that a damaged line is found without
    parsing it (a build copies the lines of the spec files it reused)."""
    return bytes_hash(body)


def intact(header: Mapping[str, Any], key: str, body: bytes) -> bool:
    shards = header.get("shards")
    return isinstance(shards, dict) and shards.get(key) == line_hash(body)


def compact(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def header_line(header: Mapping[str, Any]) -> str:
    return compact({**header, "format": RECORD_FORMAT})


def merged(header: Mapping[str, Any], shards: Mapping[str, bytes]) -> dict[str, Any]:
    """One record of a *header* and the *shards* (lines) given, as one table of each kind;
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
    for key, line in sorted(shards.items()):
        if not intact(header, key, line):
            raise ValueError(f"shard {key!r} is not as its build wrote it")
        shard = json.loads(line)
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
    found = record_lines(path)
    return None if found is None else merged(*found)
