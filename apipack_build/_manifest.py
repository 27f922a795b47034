"""``.apipack/manifest.json``: every generated file, its hash, and the task and key that made it.

One section per output folder, so builds into different folders never claim each other's files.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ._fsio import write_atomic

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
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("version") != MANIFEST_VERSION:
            return {}
        files = data["outputs"].get(output, {})
        return {name: Entry(**entry) for name, entry in files.items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}


def write(path: Path, output: str, files: dict[str, Entry]) -> None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        outputs = dict(data["outputs"]) if data.get("version") == MANIFEST_VERSION else {}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        outputs = {}
    outputs[output] = {name: vars(files[name]) for name in sorted(files)}
    text = json.dumps({"version": MANIFEST_VERSION, "outputs": outputs}, indent=1, sort_keys=True)
    write_atomic(path, (text + "\n").encode("utf-8"))
