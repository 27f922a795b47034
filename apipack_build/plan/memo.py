"""What each spec file yielded, remembered by the content of what it was made from.

After a successful ``generate``, ``.apipack/plan.json`` holds per spec file: the hash of its bytes
and of each implementation file it names, the tasks planned from it (name, rule, key, and each
file with the hash it holds), its package folders, the lock entries of its LLM-written bodies
and the templates its plan read (each name with the hash of its text, includes followed), the
templates each task renders (by name, includes not followed) and the hash of its normalized
package's JSON, which is kept by that hash in ``.apipack/packages/`` (read only when needed);
beside them ``globals`` (the hash of settings, rules, engine code and the template folders'
files but the templates' texts: ``load.inputs.globals_keys``) and the lock's hash as that build
left it.

The next build re-reads only the spec files whose entry does not match — other bytes, another
implementation file, a template it read whose text changed, or an output that no longer holds
its bytes — and takes every other spec's tasks from here, without loading, rendering or handing
them to doit: their keys are content hashes of inputs that did not change. A spec file of which
only templates changed is re-planned from its remembered package, and only its tasks that render
a changed template are keyed and rendered again (``plan.retemplate``). Anything else that
changed (``globals``, the lock) makes every spec fresh.

The file is one line per spec file, so that a spec reused unchanged costs a comparison of hashes,
not a parse: first a header (JSON: version, output, globals, lock, and the hash of the lines
below it, checked on reading), then per spec file, sorted, its path (a JSON string), the hash of
its bytes, what its check reads (JSON: implementations, templates, folders, its package's hash,
and how many tasks and files it yielded), its tasks and its lock entries (JSON), separated by
tabs. The last two are parsed only when asked for, and a build that reuses a spec copies its
line as it is; the hash of a line names what the spec yielded (``SpecYield.digest``: the
manifest keeps its files' entries by it). JSON is compact with sorted keys; a damaged or older
file is ignored.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any

from ..base.fsio import (
    FileHasher,
    ParsedFiles,
    joined_str,
    line_spans,
    stat_signature,
    write_atomic,
)
from ..base.hashing import bytes_hash, chunks_hash, content_hash

MEMO_VERSION = 4
MEMO_FILE = "plan.json"  # in STATE_DIR
PACKAGES = "packages"  # beside it: each spec file's normalized package, by its JSON's hash

Ident = tuple[str, str, str]  # package, function, language


@dataclass(frozen=True)
class MemoTask:
    name: str
    rule: str
    key: str
    files: Mapping[str, str]  # path in the output folder -> hash of its bytes
    templates: tuple[str, ...] = ()  # the templates its files render (includes not followed)


@dataclass(frozen=True)
class SpecYield:
    """What one spec file yielded, and the hashes of what it was made from. Read from the memo,
    its tasks and its lock entries are each parsed from *line* when first asked for."""

    hash: str
    implementations: Mapping[str, str]  # project-relative path -> hash
    folders: tuple[tuple[str, tuple[str, ...]], ...]  # package folder, its ignore globs
    templates: Mapping[str, str]  # the templates its plan read -> the hash of each one's text
    counts: tuple[int, int]  # of its tasks, of their files
    key: str  # ``yield_key`` of its tasks and lock entries
    #: the hash of its normalized package's JSON (``keep_package``); "" if not kept
    package: str = ""
    given: tuple[tuple[MemoTask, ...], tuple[Mapping[str, Any], ...]] | None = None
    line: bytes = field(default=b"", repr=False)  # as the memo holds it, when read from one

    @classmethod
    def of(
        cls,
        hash: str,
        implementations: Mapping[str, str],
        tasks: tuple[MemoTask, ...],
        folders: tuple[tuple[str, tuple[str, ...]], ...],
        lock: tuple[Mapping[str, Any], ...],
        templates: Mapping[str, str],
        package: str = "",
    ) -> SpecYield:
        counts = (len(tasks), sum(len(task.files) for task in tasks))
        key = yield_key([(task.name, task.key) for task in tasks], lock)
        return cls(
            hash, implementations, folders, templates, counts, key, package, given=(tasks, lock)
        )

    @cached_property
    def tasks(self) -> tuple[MemoTask, ...]:
        if self.given is not None:
            return self.given[0]
        return tuple(
            MemoTask(
                str(name),
                str(rule),
                str(key),
                {str(p): str(h) for p, h in files.items()},
                tuple(map(str, templates)),
            )
            for name, rule, key, files, templates in json.loads(self.line.split(b"\t")[3])
        )

    @cached_property
    def lock(self) -> tuple[Mapping[str, Any], ...]:
        """The lock entries of its LLM-written bodies."""
        if self.given is not None:
            return self.given[1]
        return tuple(dict(entry) for entry in json.loads(self.line.split(b"\t")[4]))

    @cached_property
    def digest(self) -> str:
        """Names what it yielded: the hash of its memo line."""
        return bytes_hash(self.line or self.to_line(""))

    def to_line(self, spec: str) -> bytes:
        """Its line in the memo, for spec file *spec* (the line it was read from, if any)."""
        if self.line:
            return self.line
        check = {
            "implementations": dict(self.implementations),
            "templates": dict(self.templates),
            "folders": [[folder, list(ignore)] for folder, ignore in self.folders],
            "counts": list(self.counts),
            "key": self.key,
            "package": self.package,
        }
        tasks = [[t.name, t.rule, t.key, dict(t.files), list(t.templates)] for t in self.tasks]
        parts = [json.dumps(spec), json.dumps(self.hash), _compact(check), _compact(tasks)]
        return "\t".join([*parts, _compact(list(self.lock))]).encode("utf-8")

    def current(
        self,
        hasher: FileHasher,
        root: Path,
        output: Path,
        template_hash: Callable[[str], str | None],
        outputs_hold: Callable[[], bool] | None = None,
        *,
        templates: bool = True,
    ) -> bool:
        """Its implementation files, the templates it read and its outputs still hold the
        recorded bytes (*template_hash*: a template's hash as this build finds it). When
        *outputs_hold* (asked last: it looks at every output) says the caller knows its outputs
        do (``KnownTree``), they are not hashed. Without *templates*, the templates are not
        looked at."""
        if any(hasher.hash(root / rel) != digest for rel, digest in self.implementations.items()):
            return False
        if templates and any(template_hash(n) != d for n, d in self.templates.items()):
            return False
        if outputs_hold is not None and outputs_hold():  # (stat cache shards not read nor saved)
            return True
        out = str(output)
        return all(
            hasher.hash(joined_str(out, path)) == digest
            for task in self.tasks
            for path, digest in task.files.items()
        )


def yield_key(tasks: Iterable[tuple[str, str]], lock: Iterable[Mapping[str, Any]]) -> str:
    """What a spec file yielded, named the same whether planned afresh or taken from the memo:
    the name and key of each of its tasks (in plan order) and its lock entries."""
    return content_hash({"tasks": [list(task) for task in tasks], "lock": list(lock)})


@dataclass(frozen=True)
class Memo:
    output: str  # the manifest's name of the output folder
    globals: str
    lock: str  # hash of apipack.lock after the build, "-" without one
    specs: Mapping[str, SpecYield]  # by project-relative spec path
    digest: str = "-"  # of the file's bytes, as read

    def holds_for(self, globals_key: str, lock: str, output_id: str) -> bool:
        """Whether what it remembers may be reused by a build of these globals, lock and
        output folder."""
        return (self.globals, self.lock, self.output) == (globals_key, lock, output_id)


@dataclass(frozen=True)
class KnownTree:
    """The generated tree as the last build (or no-op) took it: whether a package folder's
    files still look as then (stat signatures), and the digest of the memo that build wrote
    with it. A folder that does is known to hold the bytes the manifest gave it then, which are
    the memo's when the memo is that one."""

    memo: str
    holds: Callable[[str], bool]


#: the memo last read or written: a process that builds again and again (``apipack watch``)
#: plans each time from the memo it wrote last, and parsing it costs more than the rest of a
#: small edit's plan
_known: ParsedFiles[Memo] = ParsedFiles()


def read(path: Path) -> Memo | None:
    signature = stat_signature(path)  # before reading: a write meanwhile moves it
    known = _known.get(str(path), signature)
    if known is not None:
        return known
    try:
        raw = path.read_bytes()
        end = raw.index(b"\n")
        header = json.loads(raw[:end])
        # the lines are parsed when first asked for: checked whole now, by the hash of them all
        body = memoryview(raw)[end + 1 :]  # (17 MB at N = 10,000: not copied but by line)
        if header.get("version") != MEMO_VERSION or header.get("body") != chunks_hash([body]):
            return None  # another version's, cut short or damaged
        specs = dict(_spec_yield(raw[start:stop]) for start, stop in line_spans(raw, end + 1))
        output, globals_key, lock = header["output"], header["globals"], header["lock"]
        memo = Memo(str(output), str(globals_key), str(lock), specs, bytes_hash(raw))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None  # damaged or unknown: plan every spec
    return _known.keep(str(path), signature, memo)


def _spec_yield(line: bytes) -> tuple[str, SpecYield]:
    # only the fields read now are cut out: its tasks and lock entries are most of the line
    first = line.index(b"\t")
    second = line.index(b"\t", first + 1)
    third = line.index(b"\t", second + 1)
    if line.count(b"\t", third + 1) != 1:
        raise ValueError("not five fields")
    spec, digest, check = line[:first], line[first + 1 : second], line[second + 1 : third]
    data = json.loads(check)
    tasks, files = data["counts"]
    found = SpecYield(
        str(json.loads(digest)),
        {str(k): str(v) for k, v in data["implementations"].items()},
        tuple((str(folder), tuple(map(str, ignore))) for folder, ignore in data["folders"]),
        {str(name): str(digest) for name, digest in data["templates"].items()},
        (int(tasks), int(files)),
        str(data["key"]),
        str(data["package"]),
        line=line,
    )
    return str(json.loads(spec)), found


def write(path: Path, memo: Memo) -> str:
    """Write *memo*; the digest of the bytes written."""
    lines = {spec: memo.specs[spec].to_line(spec) for spec in sorted(memo.specs)}
    body = [chunk for line in lines.values() for chunk in (line, b"\n")]  # not joined: 17 MB
    header = {"version": MEMO_VERSION, "output": memo.output, "globals": memo.globals}
    first = _compact({**header, "lock": memo.lock, "body": chunks_hash(body)}).encode("utf-8")
    write_atomic(path, [first, b"\n", *body])
    _forget_packages(path.parent / PACKAGES, {found.package for found in memo.specs.values()})
    digest = chunks_hash([first, b"\n", *body])
    # remembered as reading it back would give it: each yield named by its line's hash; a
    # yield read from the last memo is kept as it is, with what it parsed of its line (the
    # next build's plan asks every reused spec's lock entries: 10,000 lines at N = 10,000)
    specs = {
        spec: found if found.line is lines[spec] else replace(found, line=lines[spec])
        for spec, found in memo.specs.items()
    }
    _known.keep(str(path), stat_signature(path), replace(memo, specs=specs, digest=digest))
    return digest


def _compact(data: object) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"))


def keep_package(state: Path, text: str) -> str:
    """Keep a normalized package's JSON *text* in *state*; the hash it is kept by."""
    raw = text.encode("utf-8")
    digest = bytes_hash(raw)
    path = state / PACKAGES / _package_file(digest)
    if not path.is_file():
        write_atomic(path, raw)
    return digest


def kept_package(state: Path, digest: str) -> str | None:
    """The normalized package's JSON kept by *digest*; None if it is not there as kept."""
    try:
        raw = (state / PACKAGES / _package_file(digest)).read_bytes()
    except OSError:
        return None
    return raw.decode("utf-8") if bytes_hash(raw) == digest else None


def _package_file(digest: str) -> str:
    return f"{digest.split(':', 1)[-1]}.json"


def _forget_packages(folder: Path, kept: set[str]) -> None:
    """Delete the packages no spec file of the memo names any more."""
    names = {_package_file(digest) for digest in kept if digest}
    try:
        found = os.listdir(folder)
    except OSError:
        return
    for name in found:
        if name.endswith(".json") and name not in names:
            (folder / name).unlink(missing_ok=True)


def reusable(
    memo: Memo | None,
    *,
    globals_key: str,
    lock: str,
    output_id: str,
    specs: Iterable[tuple[str, Path]],
    hasher: FileHasher,
    root: Path,
    output: Path,
    template_hash: Callable[[str], str | None],
    tree: KnownTree | None = None,
    templates: bool = True,
) -> dict[str, SpecYield]:
    """The remembered yields of the spec files (relative path, path) that did not change.
    Given the *tree* the memo was written with, the outputs of a package folder whose files
    still look as then are not hashed again. Without *templates*, those whose templates may
    have changed too, but whose normalized package is kept (``plan.retemplate``)."""
    if memo is None or not memo.holds_for(globals_key, lock, output_id):
        return {}
    found = {}
    for rel, path in specs:
        entry = memo.specs.get(rel)
        if entry is None or hasher.hash(path) != entry.hash:
            continue
        if not templates and not entry.package:
            continue
        # asked last: a spec file of which a template changed is asked about twice
        # (``plan._reusable``: with and without its templates), its outputs looked at once
        hold = functools.partial(_outputs_hold, memo, entry, tree)
        if entry.current(hasher, root, output, template_hash, hold, templates=templates):
            found[rel] = entry
    return found


def _outputs_hold(memo: Memo, entry: SpecYield, tree: KnownTree | None) -> bool:
    """Whether the *tree* the memo was written with shows *entry*'s package folders as then."""
    if tree is None or tree.memo != memo.digest:
        return False
    return all(tree.holds(folder) for folder, _ in entry.folders)
