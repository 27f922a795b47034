"""File system primitives: confined paths, atomic writes, and content hashes that survive touches.

``FileHasher`` hashes file contents (never trusts a timestamp alone to mean "unchanged"), and
remembers each hash with the file's full stat signature — nanosecond mtime and ctime, size and
inode. A later run re-hashes a file only when that signature moved: a ``touch`` costs one hash,
once, and rebuilds nothing. ctime cannot be set by tools, which closes the "same mtime, new
content" hole of plain timestamp checks.

The cache is kept in shards, one per folder up to three levels below the project (a package
folder of the generated tree, ``specs``, ...), in ``filestat/`` beside the state files: a shard
is read when a file in it is first hashed and written only when one of its entries changed, so
an edit that touches a few folders of a project of 10,000 functions reads and writes those.
Each entry stands on its own (checked against the file's stat signature), so shards written by
different builds mix safely.

Files outside the project (templates, rules, the engine's source) share one shard, ``OUTSIDE``,
which keeps only the files its last saving build hashed: a copied or moved project would carry
every file of its old place there (its outputs, specs) and read them on every build.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Generic, TypeVar

from ..errors import ConfigError
from .hashing import bytes_hash

if TYPE_CHECKING:
    from concurrent.futures import Future

_STAT_CACHE_VERSION = 2
STAT_SHARDS = "filestat"  # the folder of the stat cache's shards, beside its file name
OUTSIDE = "/"  # the stat cache's shard of the files outside the project


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


class Confined:
    """``confined`` of many paths below one root: a folder found to lead nowhere outside is
    not resolved again for each of its files (only a file that is itself a link is)."""

    def __init__(self, root: Path):
        self.root = root
        self._resolved_root: Path | None = None
        self._folders: set[str] = set()  # of checked files that are not links

    def __call__(self, relative: str) -> Path:
        target = joined(self.root, relative)
        folder = os.path.dirname(target)
        if folder in self._folders and not os.path.islink(target):
            return target  # its folder resolves inside the root, and it is no link
        if self._resolved_root is None:
            self._resolved_root = self.root.resolve()
        target = confined(self.root, relative, self._resolved_root)
        if not os.path.islink(target):
            self._folders.add(folder)
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


def write_atomic(path: Path, data: bytes | Sequence[bytes]) -> None:
    """Write via a temporary file in the same folder and rename: readers never see half a file.
    *data*: the bytes, or chunks of them (a state file of many MB need not be joined first).

    A process killed between the two leaves the temporary file (named as ``TEMPORARY``) behind;
    ``sweep_temporaries`` removes them while the build lock is held."""
    try:
        fd, tmp = _create_temporary(path)
    except FileNotFoundError:  # a new folder (made only then: a build writes 1000s of files)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = _create_temporary(path)
    try:
        with os.fdopen(fd, "wb") as handle:
            if isinstance(data, bytes):
                handle.write(data)
            else:
                handle.writelines(data)
            os.fchmod(handle.fileno(), 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def line_spans(raw: bytes, start: int) -> Iterator[tuple[int, int]]:
    """Where each LF-ended line of *raw* from *start* on begins and ends: a state file of many
    MB cut into lines without copying it whole first."""
    while start < len(raw):
        stop = raw.index(b"\n", start)
        yield start, stop
        start = stop + 1


class WritePool:
    """``write_atomic`` of many files, overlapped in a few threads: a write waits on the disk
    (ext4 forces a file's blocks out when a rename replaces one) with the GIL released, while
    the caller renders the next file. Each write stays atomic; ``wait`` gives the failures,
    once every write has ended.

    A file is named as *place* takes it (``Confined``: where it may be written), and placed by
    the writing thread: looking a file up in a folder waits while a rename there forces
    blocks out, and the caller would wait so between two files it renders."""

    WORKERS = 4
    #: writes handed to a thread at once: each hand-over wakes a thread, which costs the
    #: caller the GIL for a while
    CHUNK = 8

    def __init__(self, place: Callable[[str], Path] = Path) -> None:
        from concurrent.futures import ThreadPoolExecutor  # only a build that writes many

        self._pool = ThreadPoolExecutor(self.WORKERS, thread_name_prefix="apipack-write")
        self._place = place
        self._queued: list[tuple[str, bytes]] = []
        self._pending: list[Future[dict[str, Exception]]] = []
        self.failed: set[str] = set()  # the files whose write failed: they hold what they held

    def write(self, name: str, data: bytes) -> None:
        self._queued.append((name, data))
        if len(self._queued) >= self.CHUNK:
            self._hand_over()

    def _hand_over(self) -> None:
        if self._queued:
            self._pending.append(self._pool.submit(_write_each, self._place, self._queued))
            self._queued = []

    def wait(self) -> dict[str, Exception]:
        """Wait for every write asked; the error of each that failed, in the order asked."""
        self._hand_over()
        pending, self._pending = self._pending, []
        failures: dict[str, Exception] = {}
        for future in pending:
            failures.update(future.result())
        self.failed.update(failures)
        return failures

    def close(self) -> None:
        """Wait for the writes begun, drop those not begun (none is left half done)."""
        self._queued = []
        self._pool.shutdown(cancel_futures=True)

    def __enter__(self) -> WritePool:
        return self

    def __exit__(self, exc_type: object, *rest: object) -> None:
        """Raise the first failure (in the order asked) of a block that raised nothing."""
        try:
            failures = self.wait() if exc_type is None else {}
        finally:
            self.close()
        if failures:
            raise next(iter(failures.values()))


def _write_each(
    place: Callable[[str], Path], writes: list[tuple[str, bytes]]
) -> dict[str, Exception]:
    """``write_atomic`` of each of *writes* where *place* puts it; the error of each that
    failed (given to the caller by ``WritePool.wait``)."""
    failed = {}
    for name, data in writes:
        try:
            write_atomic(place(name), data)
        except Exception as exc:
            failed[name] = exc
    return failed


def resolved(paths: Iterable[Path]) -> list[Path]:
    """``Path.resolve()`` of each of *paths*, each folder resolved once: a project's thousands
    of spec files share a few folders, and ``resolve`` costs two ``stat`` calls and a
    ``lstat`` per part of the path. A file that is a link is resolved whole."""
    folders: dict[str, str] = {}
    found = []
    for path in paths:
        text = str(path)
        folder, slash, name = text.rpartition("/")
        if not slash or name in ("", ".", "..") or os.path.islink(text):
            found.append(path.resolve())
            continue
        real = folders.get(folder)
        if real is None:
            real = folders[folder] = os.path.realpath(folder or "/")
        found.append(Path(real.rstrip("/") + "/" + name))
    return found


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


Parsed = TypeVar("Parsed")


class ParsedFiles(Generic[Parsed]):
    """What a module made of the state files it read, each kept while the file's stat signature
    holds (a build reads one file several times: the fast path, the plan, the write; a watch
    session, once per rebuild), for the *size* files read last: one project per process, as
    a rule. A value describes the file at its signature: a module that writes the file keeps
    what it wrote (``keep``) or forgets it (``clear``)."""

    def __init__(self, size: int = 1) -> None:
        self.size = size
        self._kept: OrderedDict[str, tuple[list[int], Parsed]] = OrderedDict()

    def get(self, path: str, signature: list[int] | None) -> Parsed | None:
        """What was kept of *path* while it had *signature* (None: there is no such file)."""
        known = self._kept.get(path)
        if signature is None or known is None or known[0] != signature:
            return None
        self._kept.move_to_end(path)
        return known[1]

    def keep(self, path: str, signature: list[int] | None, value: Parsed) -> Parsed:
        """Keep *value* for *path* as it is at *signature*; *value*."""
        self._kept.pop(path, None)
        if signature is not None:
            self._kept[path] = (signature, value)
            while len(self._kept) > self.size:
                self._kept.popitem(last=False)
        return value

    def clear(self) -> None:
        self._kept.clear()


class _FolderNames:
    """Whether a file is there, by the names of its folder, each folder listed once: a
    template edit saves shards of 10,000s of files it did not look at, most in a few hundred
    folders (one listing each, not one ``stat`` per file)."""

    def __init__(self) -> None:
        self._names: dict[str, frozenset[str]] = {}

    def __call__(self, path: str) -> bool:
        folder, sep, name = path.rpartition(os.sep)
        names = self._names.get(folder)
        if names is None:
            try:
                names = frozenset(os.listdir(folder or sep or "."))  # "/x": in "/"; "x": here
            except OSError:  # gone, or not a folder: nothing in it is there
                names = frozenset()
            self._names[folder] = names
        return name in names


Entries = dict[str, tuple[list[int], str]]  # path -> its stat signature, the hash of its bytes

#: the shards read by this process (a build makes two hashers of one cache: the fast path's,
#: then the build's); a project of 10,000 functions has about 400
_STORED: ParsedFiles[Entries] = ParsedFiles(size=4096)


def _stored_entries(shard_file: str, shard: str) -> Entries:
    """The entries of a stat cache shard, parsed once per version of the file; {} if there is
    none, or it is damaged or another shard's."""
    try:
        signature = _signature(os.stat(shard_file))
    except OSError:
        return {}
    known = _STORED.get(shard_file, signature)
    if known is not None:
        return known
    entries: Entries = {}
    try:
        with open(shard_file, encoding="utf-8") as handle:
            stored = json.load(handle)
        if stored.get("version") == _STAT_CACHE_VERSION and stored.get("shard") == shard:
            entries = {k: (v[0], v[1]) for k, v in stored["files"].items()}
    except (OSError, ValueError, KeyError, TypeError, IndexError, AttributeError):
        entries = {}  # a damaged shard only costs re-hashing
    return _STORED.keep(shard_file, signature, entries)


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
    """Content hashes of files, cached on disk by stat signature (in shards beside
    *cache_file*, whose name only says where). With a *parent*, a file it does not know is
    hashed by the parent, and the entry kept: what a few hashes of a big hasher were is then
    known on its own (the fast path's fingerprint keeps its inputs')."""

    def __init__(self, cache_file: Path | None = None, *, parent: FileHasher | None = None):
        self.cache_file = cache_file
        self.parent = parent
        self.entries: Entries = {}  # of the shards read so far, and what this hasher learnt
        # shard -> the files of it in ``entries``, in the order read or learnt (as saved: sorted)
        self._members: dict[str, dict[str, None]] = {}
        self.dirty = False
        self.seen: set[str] = set()  # files found by this hasher: ``save`` need not look again
        self._loaded: set[str] = set()
        self._changed: set[str] = set()  # the shards to save
        self._outside: set[str] = set()  # the files the ``OUTSIDE`` shard held when read
        self._base = f"{cache_file.parent.parent}/" if cache_file is not None else ""
        self._folder_shards: dict[str, str] = {}  # a folder (with its "/") -> its shard

    def _shard_of(self, key: str) -> str:
        """A file's shard: its folder up to three levels below the project (``OUTSIDE``);
        found once per folder (a build looks up thousands of files in a few hundred)."""
        folder = key.rpartition("/")[0] + "/"
        shard = self._folder_shards.get(folder)
        if shard is None:
            inside = folder.startswith(self._base)
            below = folder[len(self._base) : -1]
            shard = "/".join(below.split("/", 3)[:3]) if inside else OUTSIDE
            self._folder_shards[folder] = shard
        return shard

    def _shard_file(self, shard: str) -> str:
        assert self.cache_file is not None
        name = bytes_hash(shard.encode("utf-8")).split(":", 1)[-1][:20]
        return f"{self.cache_file.parent}/{STAT_SHARDS}/{name}.json"

    def _known(self, key: str, shard: str) -> tuple[list[int], str] | None:
        if self.cache_file is not None and shard not in self._loaded:
            self._loaded.add(shard)
            stored = _stored_entries(self._shard_file(shard), shard)
            for path, entry in stored.items():
                self.entries.setdefault(path, entry)
            self._members.setdefault(shard, {}).update(dict.fromkeys(stored))
            if shard == OUTSIDE:
                self._outside = set(stored)
        return self.entries.get(key)

    def _learn(self, key: str, shard: str, signature: list[int], digest: str) -> None:
        self.entries[key] = (signature, digest)
        self._members.setdefault(shard, {})[key] = None
        self._changed.add(shard)
        self.dirty = True

    def hash(self, path: Path | str) -> str | None:
        """The content hash of *path*, or None if it does not exist."""
        key = str(path)
        try:
            stat = os.stat(key)
        except (FileNotFoundError, NotADirectoryError):
            return None
        signature = _signature(stat)
        self.seen.add(key)
        shard = self._shard_of(key)
        known = self._known(key, shard)
        if known is not None and known[0] == signature:
            return known[1]
        if self.parent is not None:
            digest = self.parent.hash(key)
            if digest is not None:
                self._learn(key, shard, signature, digest)
            return digest
        with open(key, "rb") as handle:
            digest = bytes_hash(handle.read())
        self._learn(key, shard, signature, digest)
        return digest

    def holds(self, path: str, signature: Sequence[int] | None, digest: str) -> bool:
        """Whether *path* holds *digest*: known by the stat *signature* just taken of it (as
        ``_signature`` lists its fields), else as ``hash`` finds it."""
        shard = self._shard_of(path)
        known = self._known(path, shard)
        if signature is not None and known is not None and known[0] == list(signature):
            self.seen.add(path)
            return known[1] == digest
        return self.hash(path) == digest

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

    def knows(self, path: Path | str, digest: str) -> bool:
        """Whether *digest* is what this hasher last learnt *path* holds (the file unlooked at:
        ``hash`` still checks it by its stat signature)."""
        key = str(path)
        known = self._known(key, self._shard_of(key))
        return known is not None and known[1] == digest

    def remember(self, path: Path | str, digest: str) -> None:
        """Record the hash of bytes we just wrote, sparing a re-read."""
        key = str(path)
        shard = self._shard_of(key)
        self._known(key, shard)  # read its shard first, so that saving it keeps the others
        self._learn(key, shard, _signature(os.stat(key)), digest)
        self.seen.add(key)

    def save(self) -> None:
        """Write the shards whose entries changed, without the files that no longer exist, and
        the ``OUTSIDE`` shard without the files this hasher did not see."""
        if self._outside - self.seen:
            self._changed.add(OUTSIDE)
            self.dirty = True
        if self.cache_file is None or not self.dirty:
            return
        by_shard: dict[str, dict[str, list[object]]] = {}
        present = _FolderNames()
        for shard in self._changed:  # only theirs: the others' entries are not walked
            by_shard[shard] = {
                key: list(self.entries[key])
                for key in self._members.get(shard, ())
                if key in self.seen or (shard != OUTSIDE and present(key))
            }
        for shard, files in sorted(by_shard.items()):
            payload = {"version": _STAT_CACHE_VERSION, "shard": shard, "files": files}
            text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
            write_atomic(Path(self._shard_file(shard)), text.encode("utf-8"))
        self._changed.clear()
        self._outside &= self.seen
        self.dirty = False
        self.cache_file.unlink(missing_ok=True)  # an older apipack's whole cache, if any
