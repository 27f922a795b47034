"""``.apipack/manifest.json``: every generated file, its hash, and the task and key that made it.

One section per output folder, so builds into different folders never claim each other's files.

At N = 10,000 the manifest is 13 MB of JSON: parsing and writing it whole cost seconds per
build. So beside it ``manifest.shards`` keeps, for the bytes it was written with, the text of
each package folder's entries (``Shard``), and which memo line they were made from: a build
copies the text of the folders it did not plan afresh and serializes only the others, and the
manifest it writes is their concatenation, byte for byte what one ``json.dumps`` of the whole
would give (entries are sorted by path, and a folder's paths sort together). A missing,
damaged or stale ``manifest.shards`` (of other bytes than the manifest's) is rebuilt from the
manifest itself. Its first line holds the hash of the manifest's bytes and the manifest's stat
signature when written (the manifest is hashed again only when that moved), and the hash of the
lines below (a damaged line is found before it is used); both files are read and written as
bytes, in chunks, each folder's text copied once.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .fsio import ParsedFiles, line_spans, stat_signature, write_atomic
from .hashing import bytes_hash, chunks_hash

MANIFEST_VERSION = 1
SHARDS_FILE = "manifest.shards"  # beside the manifest
SHARDS_VERSION = 1


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


#: the last manifest read: what was derived from its text
_seen: ParsedFiles[dict[str, Any]] = ParsedFiles()


def _once(path: Path, what: str, derive: Callable[[Any], Any]) -> Any:
    """``derive`` of the manifest's parsed JSON, computed once per version of the file: one
    build reads it several times (fast path, damage check, the manifest task, the write), which
    costs at N = 10,000. Raises what reading and parsing raise."""
    signature = stat_signature(path)
    if signature is None:
        raise FileNotFoundError(path)
    derived = _seen.get(str(path), signature)
    if derived is None:
        derived = _seen.keep(str(path), signature, {})
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
            if outside(name):
                return f"it names '{name}', a path outside the output folder"
    return None


def outside(name: str) -> bool:
    """Would ``fsio.joined_str`` refuse *name*? (Asked of every entry: without the exception.)"""
    if "\\" in name or name.startswith("/"):
        return True
    parts = name.split("/")
    return ".." in parts or all(part in ("", ".") for part in parts)


def write(path: Path, output: str, files: dict[str, Entry]) -> None:
    """Record *files* as the section of *output*, none of them known from an earlier build."""
    by_folder: dict[str, dict[str, Entry]] = {}
    for name in sorted(files):
        by_folder.setdefault(folder_of(name), {})[name] = files[name]
    shards = {folder: Shard("-", fragment(found)) for folder, found in by_folder.items()}
    write_shards(path, output, shards, read_shards(path, output))


def folder_of(name: str) -> str:
    """The package folder (``language/package``) of a generated file: what a shard holds."""
    return "/".join(name.split("/", 2)[:2])


def fragment(files: Mapping[str, Entry]) -> bytes:
    """The manifest's text of *files*: their entries sorted by path, without braces."""
    return _compact({name: vars(files[name]) for name in files})[1:-1].encode("ascii")


@dataclass(frozen=True)
class Shard:
    """The entries of one package folder, as the manifest's text holds them."""

    source: str  # what they were made from: the digest of a plan memo line, or "-"
    text: bytes  # ``fragment`` of them

    def entries(self) -> dict[str, Entry]:
        return {name: Entry(**found) for name, found in json.loads(b"{%s}" % self.text).items()}


@dataclass(frozen=True)
class Shards:
    """The manifest's section of one output folder, per package folder, and the text of the
    other outputs' sections before and after it."""

    before: str
    after: str
    folders: dict[str, Shard]


def read_shards(path: Path, output: str) -> Shards | None:
    """The manifest at *path* kept per package folder of *output*; None if there is no
    manifest or it is damaged. Read from ``SHARDS_FILE`` while that holds the manifest's
    bytes, else from the manifest itself."""
    kept = _kept_shards(path, output)
    if kept is not None:
        return kept
    if not path.is_file() or damage(path) is not None:
        return None
    try:
        data = _once(path, "json", lambda data: data)
        outputs = dict(data["outputs"]) if data.get("version") == MANIFEST_VERSION else {}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    files = read(path, output)
    by_folder: dict[str, dict[str, Entry]] = {}
    for name in sorted(files):
        by_folder.setdefault(folder_of(name), {})[name] = files[name]
    shards = {folder: Shard("-", fragment(found)) for folder, found in by_folder.items()}
    others = sorted(
        (name, _compact(name) + ":" + _compact(found))
        for name, found in outputs.items()
        if name != output
    )
    before = ",".join(text for name, text in others if name < output)
    after = ",".join(text for name, text in others if name > output)
    return Shards(before, after, shards)


#: the shards last read or written, with the output they are of: a build reads them before it
#: writes the manifest and again, to take the tree, after (27 MB at N = 10,000)
_shards_seen: ParsedFiles[tuple[str, Shards]] = ParsedFiles()


def _both_signatures(path: Path) -> list[int] | None:
    """The stat signatures of the manifest and of its shards file, as one."""
    manifest, shards = stat_signature(path), stat_signature(path.with_name(SHARDS_FILE))
    return None if manifest is None or shards is None else manifest + shards


def _kept_shards(path: Path, output: str) -> Shards | None:
    signature = _both_signatures(path)
    known = _shards_seen.get(str(path), signature)
    if known is not None and known[0] == output:
        return known[1]
    found = _read_kept_shards(path, output)
    if found is not None:
        _shards_seen.keep(str(path), signature, (output, found))
    return found


def _read_kept_shards(path: Path, output: str) -> Shards | None:
    try:
        raw = path.with_name(SHARDS_FILE).read_bytes()
        end = raw.index(b"\n")
        header = json.loads(raw[:end])
        body = memoryview(raw)[end + 1 :]
        if (
            header.get("version") != SHARDS_VERSION
            or header.get("output") != output
            # (an apipack that kept no hash of the lines wrote no "body": read as before)
            or ("body" in header and header["body"] != chunks_hash([body]))
            or not _holds_manifest(path, header)
            or not raw.endswith(b"\n")
        ):
            return None
        folders = {}
        for start, stop in line_spans(raw, end + 1):  # each text copied once, not line then field
            first = raw.index(b"\t", start, stop)
            second = raw.index(b"\t", first + 1, stop)
            if raw.find(b"\t", second + 1, stop) != -1:
                return None
            source = raw[first + 1 : second].decode("ascii")
            folders[str(json.loads(raw[start:first]))] = Shard(source, raw[second + 1 : stop])
        return Shards(str(header["before"]), str(header["after"]), folders)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None  # missing, damaged or of other bytes: the manifest itself is read


def _holds_manifest(path: Path, header: Mapping[str, Any]) -> bool:
    """Whether the manifest at *path* is the one the shards were written with: its stat
    signature as then (what ``FileHasher`` trusts), else the hash of its bytes."""
    signature = stat_signature(path)
    if signature is not None and header.get("signature") == signature:
        return True
    return header.get("manifest") == bytes_hash(path.read_bytes())


def write_shards(
    path: Path, output: str, folders: Mapping[str, Shard], kept: Shards | None
) -> None:
    """Write the manifest whose section of *output* holds *folders*, the other outputs'
    sections as *kept* has them, and ``SHARDS_FILE`` beside it. Both are written as chunks,
    neither joined in memory (13 MB each at N = 10,000)."""
    before, after = (kept.before, kept.after) if kept is not None else ("", "")
    order = sorted(folders, key=lambda folder: folder + "/")  # as their paths sort
    texts = [folders[f].text for f in order if folders[f].text]
    data = [b'{"outputs":{', *([before.encode(), b","] if before else [])]
    data += [_compact(output).encode(), b":{", *_separated(texts, b","), b"}"]
    data += [*([b",", after.encode()] if after else []), b'},"version":%d}\n' % MANIFEST_VERSION]
    write_atomic(path, data)
    body: list[bytes] = []
    for f in order:  # each folder's line: its name, its source, its text
        line = b"%s\t%s\t" % (_compact(f).encode(), folders[f].source.encode())
        body += [line, folders[f].text, b"\n"]
    header = {
        "version": SHARDS_VERSION,
        "output": output,
        "manifest": chunks_hash(data),
        "signature": stat_signature(path),
        "before": before,
        "after": after,
        "body": chunks_hash(body),
    }
    write_atomic(path.with_name(SHARDS_FILE), [_compact(header).encode() + b"\n", *body])
    _seen.clear()  # parsed again if asked for whole
    written = Shards(before, after, {f: folders[f] for f in order})  # as read back
    _shards_seen.keep(str(path), _both_signatures(path), (output, written))


def _separated(chunks: list[bytes], separator: bytes) -> list[bytes]:
    """*chunks* with *separator* between each two, as ``separator.join`` would join them."""
    return [
        part for i, chunk in enumerate(chunks) for part in ((separator, chunk) if i else (chunk,))
    ]


def _compact(data: object) -> str:
    # compact: json's C encoder writes nothing else, and the manifest grows with the project
    return json.dumps(data, sort_keys=True, separators=(",", ":"))


def _checked(files: dict[str, Entry]) -> dict[str, Entry]:
    return {} if any(outside(name) for name in files) else files
