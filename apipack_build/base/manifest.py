"""``.apipack/manifest.json``: every generated file, its hash, and the task and key that made it.

One section per output folder, so builds into different folders never claim each other's files.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from .fsio import joined_str, stat_signature, write_atomic

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


class _Parsed:
    """The manifest as this process last read or wrote it, by its stat signature: a build
    reads it several times (fast path, lock, manifest task), and a process that builds again
    and again (``apipack watch``) parses a manifest of thousands of files once, not each time.
    Callers never change what it hands out."""

    def __init__(self) -> None:
        self.path = ""
        self.signature: list[int] | None = None
        self.data: Any = None
        self.sections: dict[str, dict[str, Entry]] = {}  # what ``read`` made of each output

    def load(self, path: Path) -> Any:
        """The parsed JSON at *path*; raises as ``json.loads(path.read_text())`` would."""
        signature = stat_signature(path)
        if signature is None or str(path) != self.path or signature != self.signature:
            data = json.loads(path.read_text(encoding="utf-8"))
            self.remember(path, data, signature)
        return self.data

    def remember(self, path: Path, data: Any, signature: list[int] | None) -> None:
        self.path, self.signature, self.data, self.sections = str(path), signature, data, {}


_PARSED = _Parsed()


def read(path: Path, output: str) -> dict[str, Entry]:
    """The files recorded for *output*; {} if the manifest is missing or damaged (``damage``)."""
    try:
        data = _PARSED.load(path)
        known = _PARSED.sections.get(output)
        if known is not None:
            return dict(known)
        if data.get("version") != MANIFEST_VERSION:
            return {}
        files = data["outputs"].get(output, {})
        found = {name: Entry(**entry) for name, entry in files.items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}
    if any(_outside(name) for name in found):
        return {}
    _PARSED.sections[output] = found
    return dict(found)


def damage(path: Path) -> str | None:
    """What is wrong with the manifest at *path*, if it exists and is not what apipack writes.
    A manifest is only a record of what was generated: a damaged one is set aside, never
    obeyed (a path in it that leads outside the output folder is never deleted)."""
    if not path.is_file():
        return None
    try:
        data = _PARSED.load(path)
        if data.get("version") != MANIFEST_VERSION:
            return None  # another version's manifest: read as empty, rewritten by this build
        for files in data["outputs"].values():
            for name, entry in files.items():
                Entry(**entry)
                if _outside(name):
                    return f"it names '{name}', a path outside the output folder"
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        return f"it cannot be read ({type(exc).__name__})"
    return None


def _outside(name: str) -> bool:
    try:
        joined_str("", name)
    except ConfigError:
        return True
    return False


def write(path: Path, output: str, files: dict[str, Entry]) -> None:
    try:
        data = _PARSED.load(path)
        outputs = dict(data["outputs"]) if data.get("version") == MANIFEST_VERSION else {}
        if damage(path) is not None:
            outputs = {}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        outputs = {}
    outputs[output] = {name: vars(files[name]) for name in sorted(files)}
    data = {"version": MANIFEST_VERSION, "outputs": outputs}
    text = json.dumps(data, indent=1, sort_keys=True)
    write_atomic(path, (text + "\n").encode("utf-8"))
    _PARSED.remember(path, data, stat_signature(path))
    # what ``read`` would make of it, made now: the next build's fast path reads it first
    ordered = {name: files[name] for name in sorted(files)}  # as the JSON holds them
    _PARSED.sections[output] = {} if any(_outside(name) for name in files) else ordered
