"""``.apipack/manifest.json``: every generated file, its hash, and the task and key that made it.

One section per output folder, so builds into different folders never claim each other's files.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .fsio import stat_signature, write_atomic

MANIFEST_VERSION = 1


@dataclass(frozen=True)
class Entry:
    hash: str
    task: str
    key: str


def output_id(output: Path, root: Path) -> str:
    """How the manifest names an output folder: relative to the project when inside it."""
    try:
        return output.relative_to(root).as_posix() or "."
    except ValueError:
        return output.as_posix()


#: the last manifest read, by path: its stat signature and what was derived from its text
_seen: dict[str, tuple[list[int], dict[str, Any]]] = {}


def _once(path: Path, what: str, derive: Callable[[Any], Any]) -> Any:
    """``derive`` of the manifest's parsed JSON, computed once per version of the file: one
    build reads it several times (fast path, damage check, the manifest task, the write), which
    costs at N = 10,000. Raises what reading and parsing raise."""
    signature = stat_signature(path)
    if signature is None:
        raise FileNotFoundError(path)
    known = _seen.get(str(path))
    if known is None or known[0] != signature:
        _seen.clear()  # one manifest per project: keep only the last
        known = _seen[str(path)] = (signature, {})
    derived = known[1]
    if "json" not in derived:
        derived["json"] = json.loads(path.read_text(encoding="utf-8"))
    if what not in derived:
        derived[what] = derive(derived["json"])
    return derived[what]


def read(path: Path, output: str) -> dict[str, Entry]:
    """The files recorded for *output*; {} if the manifest is missing or damaged (``damage``)."""
    try:
        found: dict[str, Entry] = _once(path, f"read:{output}", lambda data: _entries(data, output))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}
    return dict(found)


def _entries(data: Any, output: str) -> dict[str, Entry]:
    if data.get("version") != MANIFEST_VERSION:
        return {}
    return _checked(
        {name: Entry(**entry) for name, entry in data["outputs"].get(output, {}).items()}
    )


def damage(path: Path) -> str | None:
    """What is wrong with the manifest at *path*, if it exists and is not what apipack writes.
    A manifest is only a record of what was generated: a damaged one is set aside, never
    obeyed (a path in it that leads outside the output folder is never deleted)."""
    if not path.is_file():
        return None
    try:
        found: str | None = _once(path, "damage", _damage)
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        return f"it cannot be read ({type(exc).__name__})"
    return found


def _damage(data: Any) -> str | None:
    if data.get("version") != MANIFEST_VERSION:
        return None  # another version's manifest: read as empty, rewritten by this build
    for files in data["outputs"].values():
        for name, entry in files.items():
            Entry(**entry)
            if _outside(name):
                return f"it names '{name}', a path outside the output folder"
    return None


def _outside(name: str) -> bool:
    """Would ``fsio.joined_str`` refuse *name*? (Asked of every entry: without the exception.)"""
    if "\\" in name or name.startswith("/"):
        return True
    parts = name.split("/")
    return ".." in parts or all(part in ("", ".") for part in parts)


def write(path: Path, output: str, files: dict[str, Entry]) -> None:
    try:
        data = _once(path, "json", lambda data: data)
        outputs = dict(data["outputs"]) if data.get("version") == MANIFEST_VERSION else {}
        if damage(path) is not None:
            outputs = {}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        outputs = {}
    outputs[output] = {name: vars(files[name]) for name in sorted(files)}
    data = {"version": MANIFEST_VERSION, "outputs": outputs}
    # compact: json's C encoder writes nothing else, and the manifest grows with the project
    text = json.dumps(data, sort_keys=True, separators=(",", ":"))
    write_atomic(path, (text + "\n").encode("utf-8"))
    # what reading it back would give, without parsing it again (the build reads it next)
    signature = stat_signature(path)
    if signature is not None:
        _seen.clear()
        _seen[str(path)] = (signature, {"json": data, f"read:{output}": _checked(dict(files))})


def _checked(files: dict[str, Entry]) -> dict[str, Entry]:
    return {} if any(_outside(name) for name in files) else files
