"""``.apipack/manifest.json``: every generated file, its hash, and the task and key that made it.

One section per output folder, so builds into different folders never claim each other's files.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError
from .fsio import joined_str, write_atomic

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


def read(path: Path, output: str) -> dict[str, Entry]:
    """The files recorded for *output*; {} if the manifest is missing or damaged (``damage``)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("version") != MANIFEST_VERSION:
            return {}
        files = data["outputs"].get(output, {})
        found = {name: Entry(**entry) for name, entry in files.items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}
    return {} if any(_outside(name) for name in found) else found


def damage(path: Path) -> str | None:
    """What is wrong with the manifest at *path*, if it exists and is not what apipack writes.
    A manifest is only a record of what was generated: a damaged one is set aside, never
    obeyed (a path in it that leads outside the output folder is never deleted)."""
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
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
        data = json.loads(path.read_text(encoding="utf-8"))
        outputs = dict(data["outputs"]) if data.get("version") == MANIFEST_VERSION else {}
        if damage(path) is not None:
            outputs = {}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        outputs = {}
    outputs[output] = {name: vars(files[name]) for name in sorted(files)}
    text = json.dumps({"version": MANIFEST_VERSION, "outputs": outputs}, indent=1, sort_keys=True)
    write_atomic(path, (text + "\n").encode("utf-8"))
