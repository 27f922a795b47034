"""One stat signature for a generated tree, so a no-op reads neither the manifest nor the hashes.

After a build, ``take`` records the names of the generated files, the folders where a file could
appear unignored (``diff.scan_output``), and one hash over the stat signatures of all of them
(nanosecond mtime and ctime, size, inode: what ``FileHasher`` trusts, with the content hashes
checked against the manifest as the signature is taken). While a later ``holds`` finds that hash
again, every generated file still holds its recorded bytes, and — if none was there when it was
taken (``clean``) — no file has appeared beside them: a file added to or removed from a folder
moves the folder's own signature. Anything else moved: the caller checks by content, as before.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import xxhash

from ..base import manifest
from ..base.fsio import FileHasher
from .diff import scan_output


@dataclass(frozen=True)
class TreeState:
    signature: str
    folders: list[str]  # relative to the output folder, "." for itself
    files: dict[str, list[str]]  # folder -> the names of the generated files in it
    clean: bool  # no unknown file when taken

    @property
    def count(self) -> int:
        return sum(len(names) for names in self.files.values())

    def names(self) -> set[str]:
        return {
            name if folder == "." else f"{folder}/{name}"
            for folder, names in self.files.items()
            for name in names
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "signature": self.signature,
            "folders": self.folders,
            "files": self.files,
            "clean": self.clean,
        }

    @classmethod
    def from_json(cls, data: Any) -> TreeState | None:
        if not isinstance(data, dict):
            return None
        try:
            return cls(
                str(data["signature"]),
                [str(folder) for folder in data["folders"]],
                {str(k): [str(n) for n in v] for k, v in data["files"].items()},
                bool(data["clean"]),
            )
        except (KeyError, TypeError, AttributeError):
            return None


def _signature(
    record: Path, output: Path, folders: Sequence[str], files: Mapping[str, list[str]]
) -> str:
    digest = xxhash.xxh3_128()
    root = str(output)
    paths = [str(record), *(root if f == "." else f"{root}/{f}" for f in folders)]
    for folder, names in sorted(files.items()):  # as JSON with sorted keys reads them back
        base = root if folder == "." else f"{root}/{folder}"
        paths += [f"{base}/{name}" for name in names]
    for path in paths:
        line = _stat_line(path)
        if line is None:
            return "-"
        digest.update(line)
    return "xxh3:" + digest.hexdigest()


def _stat_line(path: str) -> bytes | None:
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return b"%d %d %d %d\n" % (stat.st_mtime_ns, stat.st_ctime_ns, stat.st_size, stat.st_ino)


def take(
    record: Path,
    output: Path,
    output_id: str,
    ignores: Mapping[str, Sequence[str]],
    hasher: FileHasher,
) -> TreeState | None:
    """The state of *output* holding exactly the files the manifest at *record* lists for it
    (as *output_id*),
    by content; None if one does not, or the manifest names none (missing, damaged). The
    manifest's own signature is part of it: a manifest edited since is read again. The signature
    is taken before the contents are checked and between two walks that must agree, so that a
    file written meanwhile moves it instead of passing unseen."""
    before = _stat_line(str(record))
    files = manifest.read(record, output_id)
    if not files:
        return None
    scanned = scan_output(output, ignores, set(files))
    grouped: dict[str, list[str]] = {}
    for name in sorted(files):
        folder, _, base = name.rpartition("/")
        grouped.setdefault(folder or ".", []).append(base)
    signature = _signature(record, output, scanned[1], grouped)
    root = str(output)
    if any(hasher.hash(f"{root}/{name}") != entry.hash for name, entry in files.items()):
        return None
    if scan_output(output, ignores, set(files)) != scanned or before != _stat_line(str(record)):
        return None
    return TreeState(signature, scanned[1], grouped, not scanned[0])


def holds(record: Path, output: Path, state: TreeState) -> bool:
    """Does *output* (and the manifest at *record*) still look as when *state* was taken?"""
    return _signature(record, output, state.folders, state.files) == state.signature
