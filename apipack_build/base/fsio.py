"""File system primitives: confined paths, atomic writes, and content hashes that survive touches.

``FileHasher`` hashes file contents (never trusts a timestamp alone to mean "unchanged"), and
remembers each hash with the file's full stat signature — nanosecond mtime and ctime, size and
inode. A later run re-hashes a file only when that signature moved: a ``touch`` costs one hash,
once, and rebuilds nothing. ctime cannot be set by tools, which closes the "same mtime, new
content" hole of plain timestamp checks.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from pathlib import Path

from ..errors import ConfigError
from .hashing import bytes_hash

_STAT_CACHE_VERSION = 1


def joined(root: Path, relative: str) -> Path:
    """``root / relative`` for a relative POSIX path that cannot climb out of *root* by its
    spelling (enough for reading; writes and deletes use ``confined``)."""
    return Path(joined_str(str(root), relative))


def joined_str(root: str, relative: str) -> str:
    """``joined`` on strings: no path objects, for checks over thousands of files."""
    segments = relative.split("/")
    if "\\" not in relative and not {"", ".", ".."} & set(segments):
        return root + "/" + relative  # already in its plain form: the usual case, made quick
    parts = [part for part in segments if part and part != "."]
    if not parts or relative.startswith("/") or "\\" in relative or ".." in parts:
        raise ConfigError(f"refusing to write '{relative}': outside the output folder")
    return root + "/" + "/".join(parts)


def confined(root: Path, relative: str, resolved_root: Path | None = None) -> Path:
    """``root / relative``, refusing anything that could land outside *root*, links included
    (*resolved_root*: ``root.resolve()``, if the caller knows it)."""
    target = joined(root, relative)
    resolved_root = resolved_root or root.resolve()
    if not target.resolve().is_relative_to(resolved_root):
        raise ConfigError(f"refusing to write '{relative}': a link leads outside the output folder")
    return target


#: ``write_atomic``'s temporary files: ``.NAME.`` + 8 random characters + ``.tmp`` (as mkstemp
#: names them; ``tempfile`` itself costs the fast path more to import than its one write)
TEMPORARY = re.compile(r"\..+\.[a-z0-9_]{8}\.tmp\Z")
_RANDOM_CHARACTERS = "abcdefghijklmnopqrstuvwxyz0123456789_"


def _create_temporary(path: Path) -> tuple[int, str]:
    """A new file beside *path*, named as ``TEMPORARY``, open for writing (mode 0600)."""
    for _ in range(100):
        name = "".join(_RANDOM_CHARACTERS[b % 37] for b in os.urandom(8))
        tmp = os.path.join(path.parent, f".{path.name}.{name}.tmp")
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name beside {path}")


def write_atomic(path: Path, data: bytes) -> None:
    """Write via a temporary file in the same folder and rename: readers never see half a file.

    A process killed between the two leaves the temporary file (named as ``TEMPORARY``) behind;
    ``sweep_temporaries`` removes them while the build lock is held."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = _create_temporary(path)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def is_temporary(name: str) -> bool:
    return TEMPORARY.match(name) is not None


def sweep_temporaries(folder: Path, *, recursive: bool = True, of: str = "") -> int:
    """Delete the temporary files an interrupted ``write_atomic`` left in *folder* (only those
    of the file named *of*, if given: a folder that is not apipack's own)."""
    if not folder.is_dir():
        return 0
    swept = 0
    walk = os.walk(folder) if recursive else [(str(folder), [], os.listdir(folder))]
    for parent, _, files in walk:
        for name in files:
            if is_temporary(name) and name.startswith(f".{of}." if of else "."):
                Path(parent, name).unlink(missing_ok=True)
                swept += 1
    return swept


_STORED: dict[str, tuple[list[int], dict[str, tuple[list[int], str]]]] = {}


def _stored_entries(cache_file: Path) -> dict[str, tuple[list[int], str]]:
    """The entries of a stat cache file, parsed once per version of the file: a build makes
    two hashers of it (the fast path's, then the build's), and at N = 10,000 it is 14 MB."""
    signature = _signature(os.stat(cache_file))
    known = _STORED.get(str(cache_file))
    if known is None or known[0] != signature:
        stored = json.loads(cache_file.read_text(encoding="utf-8"))
        entries = {}
        if stored.get("version") == _STAT_CACHE_VERSION:
            entries = {k: (v[0], v[1]) for k, v in stored["files"].items()}
        _STORED.clear()  # one project per process, as a rule: keep only the last
        known = _STORED[str(cache_file)] = (signature, entries)
    return known[1]


def _signature(stat: os.stat_result) -> list[int]:
    return [stat.st_mtime_ns, stat.st_ctime_ns, stat.st_size, stat.st_ino]


def stat_signature(path: Path) -> list[int] | None:
    """What ``FileHasher`` trusts to say a file is unchanged (its ctime cannot be set back);
    None if there is no such file."""
    try:
        return _signature(os.stat(path))
    except (FileNotFoundError, NotADirectoryError):
        return None


class FileHasher:
    """Content hashes of files, cached on disk by stat signature. With a *parent*, a file it
    does not know is hashed by the parent, and the entry kept: what a few hashes of a big
    hasher were is then known on its own (the fast path's fingerprint keeps its inputs')."""

    def __init__(self, cache_file: Path | None = None, *, parent: FileHasher | None = None):
        self.cache_file = cache_file
        self.parent = parent
        self.entries: dict[str, tuple[list[int], str]] = {}
        self.dirty = False
        self.seen: set[str] = set()  # files found by this hasher: ``save`` need not look again
        if cache_file is not None and cache_file.is_file():
            try:
                self.entries = dict(_stored_entries(cache_file))
            except (OSError, ValueError, KeyError, TypeError, IndexError, AttributeError):
                self.entries = {}  # a damaged cache only costs re-hashing

    def hash(self, path: Path | str) -> str | None:
        """The content hash of *path*, or None if it does not exist."""
        key = str(path)
        try:
            stat = os.stat(key)
        except (FileNotFoundError, NotADirectoryError):
            return None
        signature = _signature(stat)
        self.seen.add(key)
        known = self.entries.get(key)
        if known is not None and known[0] == signature:
            return known[1]
        if self.parent is not None:
            digest = self.parent.hash(key)
            if digest is not None:
                self.entries[key] = (signature, digest)
                self.dirty = True
            return digest
        with open(key, "rb") as handle:
            digest = bytes_hash(handle.read())
        self.entries[key] = (signature, digest)
        self.dirty = True
        return digest

    def to_json(self) -> dict[str, list[object]]:
        return {
            key: [signature, digest] for key, (signature, digest) in sorted(self.entries.items())
        }

    @classmethod
    def from_json(cls, data: object) -> FileHasher:
        """A hasher that knows *data* (``to_json``), kept nowhere; damaged data is not known."""
        hasher = cls()
        if isinstance(data, dict):
            with contextlib.suppress(TypeError, ValueError, IndexError):
                hasher.entries = {
                    str(k): ([int(n) for n in v[0]], str(v[1])) for k, v in data.items()
                }
        return hasher

    def remember(self, path: Path, digest: str) -> None:
        """Record the hash of bytes we just wrote, sparing a re-read."""
        self.entries[str(path)] = (_signature(path.stat()), digest)
        self.seen.add(str(path))
        self.dirty = True

    def save(self) -> None:
        if self.cache_file is None or not self.dirty:
            return
        files = {
            k: [sig, digest]
            for k, (sig, digest) in self.entries.items()
            if k in self.seen or os.path.exists(k)  # strings: thousands of entries per build
        }
        payload = json.dumps({"version": _STAT_CACHE_VERSION, "files": files}, sort_keys=True)
        write_atomic(self.cache_file, payload.encode("utf-8"))
        self.dirty = False
