"""Where LLM replies are kept: the response cache and the lock file.

The cache is a diskcache holding JSON text (never pickles), safe across processes, keyed by cache
key, with a request-key index for builds that cannot learn the model digest. The lock,
``apipack.lock``, is committed YAML: sorted, stable, fields in reading order, code as block text.

Parsing and writing YAML costs seconds for a lock of ten thousand functions, so beside the lock
``.apipack/lock.json`` keeps its entries, one JSON line per package with its entries' YAML
texts, for the lock bytes whose hash its first line names (with the hash of the lines below): a
build reads the lock from there while the bytes match, parsing only the packages it looks up,
and writes the lock from the packages' kept texts and the index from their kept lines, dumping
only entries that changed. It is only an index; the lock stays what is committed and trusted.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import diskcache
import yaml

from ..base.fsio import ParsedFiles, stat_signature, write_atomic
from ..base.hashing import bytes_hash, chunks_hash, content_hash
from ..base.lookup import STATE_DIR
from ..errors import ApipackError
from ..load.yamlsrc import refuse_aliases

CACHE_ARCHIVE_VERSION = 1
LOCK_VERSION = 1
LOCK_INDEX = "lock.json"  # in STATE_DIR beside the lock
LOCK_INDEX_VERSION = 3
Ident = tuple[str, str, str]  # package, function, language
#: the order of fields in a lock entry: what a reviewer reads first comes first
LOCK_FIELDS = (
    "package",
    "function",
    "language",
    "provider",
    "model",
    "digest",
    "request",
    "key",
    "code",
)


class _TextOnlyDisk(diskcache.Disk):  # type: ignore[misc]
    """diskcache's storage, refusing pickles: a shared cache must not run code when read.

    apipack stores text keys and JSON text values only, which diskcache keeps unpickled; a
    pickled key or value can only have been put there by someone else, and reads as missing.
    """

    def get(self, key: Any, raw: bool) -> Any:
        return super().get(key, raw) if raw else None

    def fetch(self, mode: int, filename: str | None, value: Any, read: bool) -> Any:
        return (
            None
            if mode == diskcache.core.MODE_PICKLE
            else super().fetch(mode, filename, value, read)
        )


class ResponseCache:
    """Validated replies in diskcache, as JSON text (never pickles); safe across processes.

    Each value carries ``hash``, the ``content_hash`` of the rest of the value: an entry damaged
    on disk (or written by hand) reads as missing and is dropped with a warning. A cache whose
    database is damaged is set aside as ``<folder>.damaged`` and started afresh: it only ever
    saves time. Warnings are queued in ``warnings`` for the caller to show.
    """

    def __init__(self, folder: Path):
        self.folder = folder
        self._cache: diskcache.Cache | None = None
        self.warnings: list[str] = []

    @property
    def cache(self) -> diskcache.Cache:
        if self._cache is None:
            self.folder.mkdir(parents=True, exist_ok=True)
            try:
                self._cache = diskcache.Cache(str(self.folder), disk=_TextOnlyDisk)
            except sqlite3.DatabaseError as exc:
                self._set_aside(str(exc))
                self._cache = diskcache.Cache(str(self.folder), disk=_TextOnlyDisk)
        return self._cache

    def _set_aside(self, problem: str) -> None:
        damaged = self.folder.with_name(self.folder.name + ".damaged")
        shutil.rmtree(damaged, ignore_errors=True)
        self.folder.replace(damaged)
        self.folder.mkdir(parents=True)
        self.warnings.append(
            f"the LLM response cache {self.folder.name} was damaged ({problem}); set it aside "
            f"as {damaged.name} and starting a new one"
        )

    def get(self, key: str, label: str = "") -> dict[str, Any] | None:
        """The value stored under *key*, or None; a damaged value is dropped (and warned of,
        naming *label*, the function it was looked up for)."""
        try:
            raw = self.cache.get(key)
        except sqlite3.DatabaseError as exc:  # damaged past its header: found only now
            self.close()
            self._set_aside(str(exc))
            return None
        if raw is None:
            return None
        value = _intact(raw)
        if value is None:
            self.cache.delete(key)
            if not _before_hashes(raw):  # an older apipack's entry is simply replaced
                self.warnings.append(
                    f"dropped the cached reply for {label or key}: the cache entry is damaged"
                )
        return value

    def put(self, key: str, request: str, value: dict[str, Any]) -> None:
        body = {k: v for k, v in value.items() if k != "hash"}
        body["request"] = request
        self.cache.set(key, json.dumps({**body, "hash": content_hash(body)}, sort_keys=True))
        if request:
            self.cache.set(f"request:{request}", key)

    def drop(self, key: str) -> None:
        self.cache.delete(key)

    def by_request(self, request: str, label: str = "") -> tuple[str, dict[str, Any]] | None:
        key = self.cache.get(f"request:{request}")
        value = self.get(key, label) if isinstance(key, str) else None
        return (key, value) if isinstance(key, str) and value is not None else None

    def items(self) -> list[tuple[str, dict[str, Any]]]:
        """Every stored reply, sorted by key (request-key index entries left out)."""
        found = []
        for key in sorted(k for k in self.cache.iterkeys() if not k.startswith("request:")):
            value = self.get(key)
            if value is not None:
                found.append((key, value))
        return found

    def volume(self) -> int:
        return int(self.cache.volume())

    def export(self, path: Path) -> int:
        items = self.items()
        text = json.dumps(
            {"version": CACHE_ARCHIVE_VERSION, "entries": dict(items)}, sort_keys=True, indent=1
        )
        write_atomic(path, (text + "\n").encode("utf-8"))
        return len(items)

    def import_(self, path: Path) -> int:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("version") != CACHE_ARCHIVE_VERSION:
                raise ValueError(
                    f"archive version {data.get('version')!r} is not {CACHE_ARCHIVE_VERSION}"
                )
            entries = data["entries"]
            valid = {
                k: v
                for k, v in entries.items()
                if isinstance(v, dict) and isinstance(v.get("code"), str) and k.startswith("xxh3:")
            }
        except (OSError, ValueError, KeyError, AttributeError) as exc:
            raise ApipackError(f"{path}: not an apipack cache archive ({exc})") from None
        for key, value in sorted(valid.items()):
            self.put(key, str(value.get("request", "")), value)
        return len(valid)

    def prune(self, keep_requests: set[str]) -> int:
        """Drop replies to requests no spec makes any more (and their index entries)."""
        dropped = 0
        for key, value in self.items():
            if value.get("request") not in keep_requests:
                self.cache.delete(key)
                dropped += 1
        for key in list(self.cache.iterkeys()):
            if key.startswith("request:") and key[len("request:") :] not in keep_requests:
                self.cache.delete(key)
        return dropped

    def close(self) -> None:
        if self._cache is not None:
            self._cache.close()
            self._cache = None


def _intact(raw: Any) -> dict[str, Any] | None:
    """A stored value if it is JSON text of a mapping whose ``hash`` matches the rest."""
    try:
        value = json.loads(raw) if isinstance(raw, str) else None
    except ValueError:
        return None
    if not isinstance(value, dict) or not isinstance(value.get("code"), str):
        return None
    body = {k: v for k, v in value.items() if k != "hash"}
    return body if value.get("hash") == content_hash(body) else None


def _before_hashes(raw: Any) -> bool:
    """Whether *raw* is an entry as apipack wrote them before values carried their hash."""
    try:
        value = json.loads(raw) if isinstance(raw, str) else None
    except ValueError:
        return False
    return isinstance(value, dict) and "hash" not in value and isinstance(value.get("code"), str)


def read_lock(path: Path) -> Mapping[Ident, dict[str, Any]]:
    """The entries of ``apipack.lock`` by (package, function, language); {} if there is none.

    A lock that cannot be read is an error naming the file and what to do, never a guess: the
    lock is committed, so version control has a good copy. What an entry holds is trusted no
    more than a cache entry: the LLM step checks each before use. Read through its index, a
    package's entries are parsed when first looked up: an edit looks up one package's.
    """
    if not path.is_file():
        return {}
    shown = path.name
    advice = "restore it from version control, or delete it to ask the model again"
    try:
        data = path.read_bytes()
        indexed = _read_index(path, bytes_hash(data))
        if indexed is not None:
            return indexed
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ApipackError(
            f"{shown}: cannot read the lock: not UTF-8 text (byte {exc.start}); {advice}"
        ) from None
    except OSError as exc:
        raise ApipackError(f"{shown}: cannot read the lock ({exc.strerror}); {advice}") from None
    refuse_aliases(text, shown)
    try:
        # libyaml when present: a lock of a thousand functions loads ten times faster
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        parsed = yaml.load(text, Loader=loader)
    except yaml.YAMLError as exc:
        raise ApipackError(f"{shown}: cannot read the lock ({exc}); {advice}") from None
    if parsed is None:
        return {}
    version = parsed.get("version") if isinstance(parsed, dict) else None
    if version != LOCK_VERSION:
        raise ApipackError(
            f"{shown}: lock version {version!r} is not {LOCK_VERSION}, the one this apipack "
            f"reads; a newer apipack wrote it (upgrade apipack), or {advice}"
        )
    entries = parsed.get("entries") or []
    return _by_ident(entries if isinstance(entries, list) else [None], shown, advice)


def _by_ident(entries: list[Any], shown: str, advice: str) -> dict[Ident, dict[str, Any]]:
    found = {}
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict) or not all(
            isinstance(entry.get(name), str) for name in LOCK_FIELDS
        ):
            raise ApipackError(
                f"{shown}: cannot read the lock (entry {index} is not a mapping of "
                f"{', '.join(LOCK_FIELDS)} to strings); {advice}"
            )
        found[(entry["package"], entry["function"], entry["language"])] = entry
    return found


def _index_path(lock: Path) -> Path:
    return lock.parent / STATE_DIR / LOCK_INDEX


_Indexed = tuple[dict[str, Any], str]  # a lock entry, its YAML text


class LockIndex(Mapping[Ident, dict[str, Any]]):
    """The lock's entries as its index keeps them: one line per package (tab-separated: its
    name, how many entries it has, where its text starts and ends in the lock's bytes, and JSON
    of its entries with their YAML texts), each parsed when first asked for."""

    def __init__(self, lines: dict[str, bytes]):
        self.lines = lines  # package -> its index line
        self._parsed: dict[str, dict[Ident, _Indexed]] = {}

    def package(self, name: str) -> dict[Ident, _Indexed]:
        """The entries of package *name*, each with its YAML text ({} if it has none)."""
        found = self._parsed.get(name)
        if found is None:
            line = self.lines.get(name)
            pairs = json.loads(line.split(b"\t", 4)[4]) if line is not None else []
            found = self._parsed[name] = {_ident(e): (dict(e), str(t)) for e, t in pairs}
        return found

    def __getitem__(self, ident: Ident) -> dict[str, Any]:
        return self.package(ident[0])[ident][0]

    def __iter__(self) -> Iterator[Ident]:
        return (ident for name in sorted(self.lines) for ident in sorted(self.package(name)))

    def __len__(self) -> int:
        return sum(len(self.package(name)) for name in self.lines)

    def span(self, name: str) -> tuple[int, int, int]:
        """Package *name*'s count of entries, and where its text starts and ends in the lock."""
        count, start, end = self.lines[name].split(b"\t", 4)[1:4]
        return int(count), int(start), int(end)


#: the last index read: the lock hash it was made for, its entries
_INDEX_READ: ParsedFiles[tuple[str, LockIndex]] = ParsedFiles()


def _read_index(lock: Path, digest: str) -> LockIndex | None:
    """The index of the lock whose bytes hash to *digest*, if kept. Read once per version of
    the index (a build reads the lock, then writes it); its first line holds the hash of the
    lines below, so a damaged line is found before any package is parsed."""
    path = _index_path(lock)
    signature = stat_signature(path)
    known = _INDEX_READ.get(str(path), signature)
    if known is None:
        try:
            first, _, rest = path.read_bytes().partition(b"\n")
            header = json.loads(first)
            if header.get("version") != LOCK_INDEX_VERSION or header.get("body") != bytes_hash(
                rest
            ):
                return None
            lines = rest.split(b"\n")
            if lines[-1:] != [b""]:
                return None
            by_package = {json.loads(line.split(b"\t", 1)[0]): line for line in lines[:-1]}
            if not all(isinstance(name, str) for name in by_package):
                return None
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None  # missing, damaged or of other bytes: the lock itself is read
        index = (str(header.get("lock")), LockIndex(by_package))
        known = _INDEX_READ.keep(str(path), signature, index)
    return known[1] if known[0] == digest else None


def _str_presenter(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


# libyaml when present: the same bytes, seven times faster for a lock of a thousand functions
_LockDumper: Any = type("_LockDumper", (getattr(yaml, "CSafeDumper", yaml.SafeDumper),), {})


_LockDumper.add_representer(str, _str_presenter)


LOCK_HEADER = (
    "# apipack.lock: the LLM responses this project's build uses. Written by apipack from real\n"
    "# responses; commit it so clean machines and CI rebuild with no LLM calls.\n"
)


def _entry_yaml(entry: dict[str, Any]) -> str:
    """One entry as the lock holds it: an item of the top-level ``entries`` list."""
    return str(
        yaml.dump([entry], Dumper=_LockDumper, sort_keys=False, allow_unicode=True, width=100)
    )


def write_lock(
    path: Path, entries: Mapping[Ident, dict[str, Any]], same: frozenset[str] = frozenset()
) -> bool:
    """Write the lock if its bytes change; sorted and stable so it reviews well in a PR.

    Sorted by package first, the lock is its packages' texts one after another, so a package
    whose entries the index holds unchanged keeps its text and index line. *same*: packages
    whose entries the caller knows are the lock's own (those of spec files the plan reused):
    their text is copied from the lock's bytes, unparsed; another package's entries are
    compared with the index's."""
    old = path.read_bytes() if path.is_file() else None
    index = _read_index(path, bytes_hash(old or b""))
    by_package: dict[str, list[Ident]] = {}
    for ident in sorted(entries):
        by_package.setdefault(ident[0], []).append(ident)
    body = (
        f"version: {LOCK_VERSION}\nentries:\n"
        if entries
        else f"version: {LOCK_VERSION}\nentries: []\n"
    )
    chunks = [(LOCK_HEADER + body).encode("utf-8")]
    size = len(chunks[0])
    lines: list[bytes] = []
    for name, idents in by_package.items():
        text, pairs = _package_text(index, old or b"", name, idents, entries, name in same)
        chunks.append(text)
        fields = [_compact(name), b"%d" % len(idents), b"%d" % size, b"%d" % (size + len(text))]
        lines.append(b"\t".join([*fields, pairs]))
        size += len(text)
    data = b"".join(chunks)
    if old != data:
        write_atomic(path, data)
    if index is None or old != data:
        rest = [chunk for line in lines for chunk in (line, b"\n")]  # not joined: 8 MB
        digest = bytes_hash(data)
        header = {"version": LOCK_INDEX_VERSION, "lock": digest, "body": chunks_hash(rest)}
        index_path = _index_path(path)
        write_atomic(index_path, [_compact(header) + b"\n", *rest])
        # kept as reading it back would give it: a long-lived process's next build reads it
        # (8 MB at N = 10,000); its lines are in the order of *by_package*
        written = LockIndex(dict(zip(by_package, lines, strict=True)))
        _INDEX_READ.keep(str(index_path), stat_signature(index_path), (digest, written))
    return old != data


def _package_text(
    index: LockIndex | None,
    old: bytes,
    name: str,
    idents: list[Ident],
    entries: Mapping[Ident, dict[str, Any]],
    same: bool,
) -> tuple[bytes, bytes]:
    """Package *name*'s text in the lock and its entries' JSON in the index: kept from the
    old lock and index when its entries are theirs, dumped anew when not."""
    if index is not None and name in index.lines:
        count, start, end = index.span(name)
        kept = index.package(name) if not same and count == len(idents) else {}
        if count == len(idents) and (
            same
            or entries is index
            or all(
                (found := kept.get(ident)) is not None and _row(entries[ident]) == found[0]
                for ident in idents
            )
        ):
            return old[start:end], index.lines[name].split(b"\t", 4)[4]
    indexed = [_entry_text(entries[ident]) for ident in idents]
    text = "".join(text for _, text in indexed).encode("utf-8")
    return text, _compact([list(pair) for pair in indexed])


def _row(entry: dict[str, Any]) -> dict[str, Any]:
    """*entry* with the lock's fields only, to compare with the index's (itself when it has
    just those)."""
    if len(entry) == len(LOCK_FIELDS) and all(name in entry for name in LOCK_FIELDS):
        return entry
    return {name: entry.get(name, "") for name in LOCK_FIELDS}


#: entries this process dumped, by their JSON (at most ``DUMPS_KEPT``): a long-lived process
#: (``apipack daemon``, ``watch``) writes the lock after each edit, where the edited spec file's
#: package is dumped anew, and all its entries but the edited function's are the same again
_DUMPED: dict[bytes, str] = {}
DUMPS_KEPT = 4096


def _entry_text(entry: dict[str, Any]) -> _Indexed:
    row = {name: entry.get(name, "") for name in LOCK_FIELDS}
    known = _compact(row)  # its fields always in the same order: the JSON names the text
    text = _DUMPED.get(known)
    if text is None:
        if len(_DUMPED) >= DUMPS_KEPT:
            _DUMPED.clear()
        text = _DUMPED[known] = _entry_yaml(row)
    return row, text


def _compact(data: object) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _ident(entry: dict[str, Any]) -> Ident:
    return (str(entry.get("package")), str(entry.get("function")), str(entry.get("language")))
