"""One stat signature for a generated tree, so a no-op reads neither the manifest nor the hashes.

After a build, ``take`` records the names of the generated files, the folders where a file could
appear unignored (``diff.scan_output``), and hashes over the stat signatures of all of them
(nanosecond mtime and ctime, size, inode: what ``FileHasher`` trusts, with the content hashes
checked against the manifest as the signature is taken). While a later ``holds`` finds those
hashes again, every generated file still holds its recorded bytes, and — if none was there when
they were taken (``clean``) — no file has appeared beside them: a file added to or removed from a
folder moves the folder's own signature. Anything else moved: the caller checks by content.

The tree is kept in shards, one per package folder (``language/package``) and one for the
folders above them, so that a build which wrote into a few package folders takes those again
and keeps the others' shards as they were (``take(keep=...)``): a shard kept that no longer
holds fails the next ``holds``, which then checks by content as before.
"""

from __future__ import annotations

import functools
import os
from array import array
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import xxhash

from ..base import manifest
from ..base.fsio import FileHasher
from ..base.hashing import bytes_hash
from .diff import scan_output

TOP = ""  # the shard of the output folder itself and of every folder outside a package folder

#: ``vouch(output, folder, signature, check)``: whether shard *folder* of *output* still has the
#: stat *signature* the last build recorded, where something else may know it (``_treewatch``:
#: the kernel's record of changes in a long-lived process); *check* stats the shard's files
Vouch = Callable[[Path, str, str, Callable[[], bool]], bool]


@dataclass(frozen=True)
class Shard:
    signature: str
    folders: list[str]  # relative to the output folder, "." for itself
    files: dict[str, list[str]]  # folder -> the names of the generated files in it
    clean: bool  # no unknown file when taken
    #: the hash of the manifest's text of its files when taken (``manifest.Shard``), "-" if none
    manifest: str = "-"

    def to_json(self) -> dict[str, Any]:
        return {
            "signature": self.signature,
            "folders": self.folders,
            "files": self.files,
            "clean": self.clean,
            "manifest": self.manifest,
        }

    @classmethod
    def from_json(cls, data: Any) -> Shard:
        return cls(
            str(data["signature"]),
            [str(folder) for folder in data["folders"]],
            {str(k): [str(n) for n in v] for k, v in data["files"].items()},
            bool(data["clean"]),
            str(data.get("manifest", "-")),
        )


@dataclass(frozen=True)
class TreeState:
    record: str  # the manifest's stat line: a manifest edited since is read again
    shards: dict[str, Shard]  # package folder (or ``TOP``) -> its shard

    @property
    def clean(self) -> bool:
        return all(shard.clean for shard in self.shards.values())

    @property
    def count(self) -> int:
        return sum(len(names) for s in self.shards.values() for names in s.files.values())

    def names(self) -> set[str]:
        return {
            name if folder == "." else f"{folder}/{name}"
            for shard in self.shards.values()
            for folder, names in shard.files.items()
            for name in names
        }

    def to_json(self) -> dict[str, Any]:
        data = {
            "record": self.record,
            "shards": {name: shard.to_json() for name, shard in sorted(self.shards.items())},
        }
        _last_json[:] = [(data, self)]
        return data

    @classmethod
    def from_json(cls, data: Any) -> TreeState | None:
        """The tree *data* (``to_json``) describes; the same object for the JSON last made or
        parsed here (not to be changed in place): a long-lived process keeps the fingerprint it
        wrote (``fastpath.read``), and asks for its tree between builds and in the next one's
        plan and fingerprint (10,000 shards at N = 10,000)."""
        if _last_json and _last_json[0][0] is data:
            return _last_json[0][1]
        if not isinstance(data, dict):
            return None
        try:
            shards = {str(k): Shard.from_json(v) for k, v in data["shards"].items()}
            state = cls(str(data["record"]), shards)
        except (KeyError, TypeError, AttributeError):
            return None
        _last_json[:] = [(data, state)]
        return state


_last_json: list[tuple[dict[str, Any], TreeState]] = []  # see ``TreeState.from_json``


def _shard_of(folder: str, packages: Collection[str]) -> str:
    """The shard of a folder (relative, "." for the output folder)."""
    parts = folder.split("/", 2)
    top = "/".join(parts[:2])
    return top if len(parts) >= 2 and top in packages else TOP


def _signature(
    output: Path,
    folders: Sequence[str],
    files: Mapping[str, list[str]],
    seen: dict[str, tuple[int, int, int, int]] | None = None,
    listed: Mapping[str, os.stat_result] | None = None,
) -> str:
    """The hash of the stat signatures (``_stat_fields``) of *folders* and of the *files* in
    each folder, or "-" if one is gone. This is the no-op's and the plan's one pass over every
    generated file (73,600 at N = 10,000): their numbers are hashed in one call. *seen* gets
    each file's signature, by its path below *output*; *listed*: each folder's stat as taken
    before it was listed (``scan_output``), used instead of a new one."""
    values = array("q")
    root = str(output)
    try:
        for folder in folders:
            stat = listed.get(folder) if listed is not None else None
            if stat is None:
                stat = os.stat(root if folder == "." else f"{root}/{folder}")
            values.extend(_stat_fields(stat))
        for folder, names in sorted(files.items()):  # as JSON with sorted keys reads them back
            stats = _stats(root if folder == "." else f"{root}/{folder}", names)
            if seen is None:
                for stat in stats:
                    values.extend(_stat_fields(stat))
                continue
            prefix = "" if folder == "." else f"{folder}/"
            for name, stat in zip(names, stats, strict=True):
                fields = seen[prefix + name] = _stat_fields(stat)
                values.extend(fields)
    except OSError:
        return "-"
    return "xxh3:" + xxhash.xxh3_128_hexdigest(values)


def _stats(folder: str, names: list[str]) -> Iterator[os.stat_result]:
    """The stat of each of *names* in *folder*: by name from the folder's descriptor where the
    system can (the kernel walks the folder's path once, not once per file)."""
    if os.stat not in os.supports_dir_fd:  # Windows
        yield from (os.stat(f"{folder}/{name}") for name in names)
        return
    descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for name in names:
            yield os.stat(name, dir_fd=descriptor)
    finally:
        os.close(descriptor)


def _stat_fields(stat: os.stat_result) -> tuple[int, int, int, int]:
    """What a signature holds of a file: what ``FileHasher`` trusts."""
    return stat.st_mtime_ns, stat.st_ctime_ns, stat.st_size, stat.st_ino


def _stat_line(path: str) -> bytes | None:
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return b"%d %d %d %d\n" % _stat_fields(stat)


def _record_line(record: Path) -> str:
    line = _stat_line(str(record))
    return line.decode("ascii") if line is not None else "-"


def take(
    record: Path,
    output: Path,
    output_id: str,
    ignores: Mapping[str, Sequence[str]],
    hasher: FileHasher,
    keep: Mapping[str, Shard] | None = None,
) -> TreeState | None:
    """The state of *output* holding exactly the files the manifest at *record* lists for it
    (as *output_id*), by content; None if one does not, or the manifest names none (missing,
    damaged). *keep*: shards of package folders this build did not write into, kept as they
    were if they name the files the manifest lists there (neither walked nor checked again).
    Each folder's part of its shard's signature is the stat taken just before the folder was
    listed, and each file's content is checked by the stat the signature took of it, so that a
    file added or written meanwhile moves the signature instead of passing unseen (a second
    walk, to see that the listing still held, cost every build that writes as much again)."""
    before = _record_line(record)
    section = manifest.read_shards(record, output_id)
    if section is None or not any(shard.text for shard in section.folders.values()):
        return None
    texts = {folder: bytes_hash(shard.text) for folder, shard in section.folders.items()}
    # a kept shard whose files' entries are the same text names the same files
    kept = {
        name: shard
        for name, shard in (keep or {}).items()
        if name != TOP and name in ignores and shard.manifest == texts.get(name)
    }
    files = {
        name: entry
        for folder, shard in section.folders.items()
        if folder not in kept
        for name, entry in shard.entries().items()
    }
    if any(manifest.outside(name) for name in files):
        return None  # not a manifest apipack wrote
    by_folder: dict[str, list[str]] = {}
    for name in sorted(files):
        folder, _, base = name.rpartition("/")
        by_folder.setdefault(folder or ".", []).append(base)
    grouped: dict[str, dict[str, list[str]]] = {}  # shard -> folder -> names
    for folder, names in by_folder.items():
        grouped.setdefault(_shard_of(folder, ignores), {})[folder] = names
    listed: dict[str, os.stat_result] = {}
    scanned = scan_output(output, ignores, set(files), skip=kept.keys(), stats=listed)
    walked: dict[str, list[str]] = {}
    for folder in scanned[1]:
        walked.setdefault(_shard_of(folder, ignores), []).append(folder)
    unknown = {_shard_of(path.rpartition("/")[0] or ".", ignores) for path in scanned[0]}
    shards = dict(kept)
    seen: dict[str, tuple[int, int, int, int]] = {}  # each file's signature, as taken
    for name in (walked.keys() | grouped.keys()) - kept.keys():
        folders, named = walked.get(name, []), grouped.get(name, {})
        signature = _signature(output, folders, named, seen, listed)
        shards[name] = Shard(signature, folders, named, name not in unknown, texts.get(name, "-"))
    root = str(output)
    # each file's content as its signature vouches for it (the stat cache knows what a file
    # with that signature holds), else as hashing it finds it
    if any(
        not hasher.holds(f"{root}/{name}", seen.get(name), files[name].hash)
        for shard in grouped.keys() - kept.keys()
        for folder, names in grouped[shard].items()
        for name in (names if folder == "." else (f"{folder}/{n}" for n in names))
    ):
        return None
    if before != _record_line(record):
        return None
    return TreeState(before, shards)


def holds(record: Path, output: Path, state: TreeState, vouch: Vouch | None = None) -> bool:
    """Does *output* (and the manifest at *record*) still look as when *state* was taken? Each
    shard by its stat signatures, unless *vouch* knows it."""
    if _record_line(record) != state.record:
        return False
    if vouch is None:
        return all(shard_holds(output, shard) for shard in state.shards.values())
    return all(
        vouch(output, name, shard.signature, functools.partial(shard_holds, output, shard))
        for name, shard in sorted(state.shards.items())
    )


def shard_holds(output: Path, shard: Shard) -> bool:
    """Do the folders and files of *shard* in *output* still look as when it was taken?"""
    return _signature(output, shard.folders, shard.files) == shard.signature
