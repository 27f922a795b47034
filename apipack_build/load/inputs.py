"""The hash of what a build reads: settings, spec and implementation files, templates, code.

The fast path compares it whole with the last build's; the incremental plan compares it without
the specs (``globals_keys``), then each spec file on its own.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import os
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..base.fsio import FileHasher
from ..base.hashing import content_hash
from ..base.lookup import (
    PROVIDER_GROUP,
    entry_points_of,
    installed_template_dirs,
    template_dirs,
)

if TYPE_CHECKING:
    from importlib.metadata import EntryPoint

    from ..settings import Effective

FINGERPRINT_VERSION = 4
ENTRY_POINT_GROUPS = ("apipack.languages", "apipack.rules", PROVIDER_GROUP)
ENGINE = Path(__file__).resolve().parents[1]  # apipack_build/


@dataclass(frozen=True)
class SettingsView:
    """The effective settings as plain JSON, which is all a fingerprint needs: read back from
    the last build's fingerprint while the settings' own inputs are unchanged
    (``load.project.settings_source``), a no-op build validates no settings."""

    root: Path
    settings: dict[str, Any]  # ``Settings.model_dump(mode="json")``
    command_line: list[str]  # the settings given on the command line

    @classmethod
    def of(cls, effective: Effective) -> SettingsView:
        return cls(
            effective.root,
            effective.settings.model_dump(mode="json"),
            sorted(k for k, v in effective.origins.items() if v == "command line"),
        )

    @property
    def output(self) -> Path:
        return (self.root / str(self.settings["output"])).resolve()


def _files_below(folder: Path) -> list[Path]:
    """The files below *folder* as ``rglob("*")`` and ``is_file()`` find them (symbolic links to
    files included, links to folders not followed), outside ``__pycache__``: listed from the
    folders' entries, a fifth of the cost; every build takes it for each template folder."""
    if "__pycache__" in folder.parts:
        return []
    found: list[Path] = []
    pending = [str(folder)]
    while pending:
        try:
            with os.scandir(pending.pop()) as listing:
                entries = list(listing)
        except OSError:
            continue
        for entry in entries:
            with contextlib.suppress(OSError):
                if entry.name == "__pycache__":
                    continue
                if entry.is_dir(follow_symlinks=False):
                    pending.append(entry.path)
                elif entry.is_file():
                    found.append(Path(entry.path))
    return sorted(found)


def _code_files(root: Path) -> list[Path]:
    """The ``.py`` files below *root* (or *root* itself), as ``os.walk`` finds them: cheaper
    than ``rglob`` on the fast path."""
    if not root.is_dir():
        return [root] if root.suffix == ".py" else []
    found = []
    for parent, folders, names in os.walk(root):
        folders[:] = [name for name in folders if name != "__pycache__"]
        found += [Path(parent, name) for name in names if name.endswith(".py")]
    return sorted(found)


def _plugins() -> list[EntryPoint]:
    """Every registered language, rule and provider (one scan of the installed distributions)."""
    return sorted(
        (p for g in ENTRY_POINT_GROUPS for p in entry_points_of(g)),
        key=lambda p: (p.group, p.name, p.value),
    )


def _tool_versions(plugins: list[EntryPoint]) -> list[str]:
    """The versions of the distributions that provide plugins and of everything they require:
    a rule may run a tool (a compiler, a formatter) whose output changes with its version."""
    from importlib.metadata import PackageNotFoundError, version

    names = {"doit", "jinja2"}
    for point in plugins:
        if point.dist is not None:
            names.add(point.dist.name)
            for requirement in point.dist.requires or ():
                if "extra ==" not in requirement:
                    names.add(re.split(r"[\s\[<>=!~;(]", requirement, maxsplit=1)[0])
    found = []
    for name in sorted(names):
        try:
            found.append(f"{name}=={version(name)}")
        except PackageNotFoundError:
            found.append(f"{name} missing")
    return found


def _code_roots(plugins: list[EntryPoint]) -> list[Path]:
    """The engine and the package folder of every plugin, found without importing them."""
    roots = {ENGINE}
    for point in plugins:
        spec = importlib.util.find_spec(point.module)
        if spec is None or spec.origin is None:
            continue
        origin = Path(spec.origin)
        package = spec.submodule_search_locations or "." in point.module
        roots.add(origin.parent if package else origin)
    return sorted(roots)


_METADATA_FOLDERS = (".dist-info", ".egg-info")
_METADATA_FILES = ("entry_points.txt", "METADATA", "PKG-INFO", "requires.txt")


def site_signature(path: Sequence[str]) -> str:
    """The stat signatures of what ``importlib.metadata`` reads on *path* (``sys.path``): the
    distributions each entry holds, and their metadata and entry-point files. Installing,
    upgrading or removing a distribution, or editing its entry points, moves it; a folder with
    none (the script's or the current folder, first on ``sys.path``) does not count, so
    ``apipack`` and ``python -m apipack_build.cli`` agree."""
    rows: list[list[object]] = [[sys.version]]  # an interpreter upgraded in place
    for entry in path:
        try:
            children = os.scandir(entry or ".")
        except OSError:  # not a folder: a zip file's stat covers what it holds
            with contextlib.suppress(OSError):
                stat = os.stat(entry)
                rows.append([entry, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_size])
            continue
        with children:
            found = sorted(c.path for c in children if c.name.endswith(_METADATA_FOLDERS))
        for folder in found:
            rows.append([entry, folder])
            for name in ("", *_METADATA_FILES):
                with contextlib.suppress(OSError):
                    stat = os.stat(os.path.join(folder, name) if name else folder)
                    rows.append([name, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_size])
    return content_hash(rows)


@dataclass(frozen=True)
class Environment:
    """What a build reads of the installed engine and plugins besides their code's content: the
    folders their code lives in, the entry points, the versions of the libraries that render,
    the installed template folders. Finding it scans every distribution (slow:
    ``importlib.metadata``), so the fingerprint file keeps it under ``site_signature`` and the
    fast path takes it from there while that holds."""

    signature: str
    code_roots: tuple[str, ...]
    entry_points: tuple[str, ...]  # "group:name=value"
    versions: tuple[str, ...]
    template_dirs: tuple[tuple[str, str], ...]  # ``lookup.installed_template_dirs``

    @classmethod
    def scan(cls, path: tuple[str, ...]) -> Environment:
        plugins = _plugins()
        return cls(
            site_signature(path),
            tuple(str(root) for root in _code_roots(plugins)),
            tuple(f"{p.group}:{p.name}={p.value}" for p in plugins),
            (sys.version, *_tool_versions(plugins)),
            tuple((origin, str(folder)) for origin, folder in installed_template_dirs()),
        )

    def to_json(self) -> dict[str, Any]:
        """As JSON reads it back: lists, not tuples (the fingerprint keeps what it wrote)."""
        return {
            "signature": self.signature,
            "code_roots": list(self.code_roots),
            "entry_points": list(self.entry_points),
            "versions": list(self.versions),
            "template_dirs": [list(pair) for pair in self.template_dirs],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Environment:
        return cls(
            str(data["signature"]),
            tuple(map(str, data["code_roots"])),
            tuple(map(str, data["entry_points"])),
            tuple(map(str, data["versions"])),
            tuple((str(origin), str(folder)) for origin, folder in data["template_dirs"]),
        )

    @property
    def code(self) -> list[Path]:
        return _code_of(self.code_roots)

    @property
    def installed_template_dirs(self) -> list[tuple[str, Path]]:
        return [(origin, Path(folder)) for origin, folder in self.template_dirs]


@functools.lru_cache(maxsize=4)
def _code_of(roots: tuple[str, ...]) -> list[Path]:
    return [path for root in roots for path in _code_files(Path(root))]


#: the environment of this process, by ``sys.path``: one scan per process, for a process that
#: builds again and again (``apipack watch``, the API) runs the code it has loaded
_ENVIRONMENTS: dict[tuple[str, ...], Environment] = {}


def environment() -> Environment:
    path = tuple(sys.path)
    if path not in _ENVIRONMENTS:
        _ENVIRONMENTS[path] = Environment.scan(path)
    return _ENVIRONMENTS[path]


def recall_environment(recorded: object) -> bool:
    """Take the environment a fingerprint file recorded (``Environment.to_json``) as this
    process's, if the distributions on ``sys.path`` have not moved since; False if it is not
    (it is scanned when needed)."""
    if not isinstance(recorded, dict):
        return False
    try:
        found = Environment.from_json(recorded)
    except (KeyError, TypeError, ValueError):
        return False  # damaged: scanned again
    path = tuple(sys.path)
    if path in _ENVIRONMENTS:  # this process scanned already (``apipack watch``, the API)
        return _ENVIRONMENTS[path] == found
    if found.signature != site_signature(path):
        return False
    _ENVIRONMENTS[path] = found
    return True


def entry_point_names() -> tuple[str, ...]:
    """The registered languages, rules and providers, as "group:name=value"."""
    return environment().entry_points


def fingerprint(
    view: SettingsView,
    hasher: FileHasher,
    specs: Iterable[Path],
    implementations: Iterable[str],
    template_dirs: Iterable[Path],
    explicit: bool,
) -> str:
    """The hash of every input of a build (see the module docstring)."""
    return _key(
        view,
        _hashed(hasher, sorted(specs)),
        _hashed(hasher, (view.root / rel for rel in sorted(implementations))),
        [_hashed(hasher, _files_below(folder)) for folder in template_dirs],
        _hashed(hasher, environment().code),
        explicit,
    )


def _hashed(hasher: FileHasher, paths: Iterable[Path]) -> list[list[str]]:
    return [[str(p), hasher.hash(p) or "-"] for p in paths]


def _key(
    view: SettingsView,
    specs: list[list[str]],
    implementations: list[list[str]],
    templates: list[list[list[str]]],
    code: list[list[str]],
    explicit: bool,
) -> str:
    installed = environment()
    return content_hash(
        {
            "format": FINGERPRINT_VERSION,
            "settings": _keyed_settings(view.settings),
            "origins": view.command_line,
            "explicit": explicit,
            "specs": specs,
            "implementations": implementations,
            "templates": templates,
            "code": code,
            "entry_points": list(installed.entry_points),
            "versions": list(installed.versions),
        }
    )


def _keyed_settings(settings: dict[str, Any]) -> dict[str, Any]:
    """The settings a build's outputs can depend on: all but ``llm.base_url``, which only says
    where the model is served. What the model is, the LLM steps key on (its name and digest,
    asked of the server at that URL), so moving the server re-plans nothing."""
    llm = settings.get("llm")
    if not isinstance(llm, dict):
        return settings
    return {**settings, "llm": {k: v for k, v in llm.items() if k != "base_url"}}


def template_folders(view: SettingsView) -> list[Path]:
    """The template folders a build of this project looks in, highest priority first."""
    auto = bool(view.settings["templates"]["auto_discover"])
    installed = environment().installed_template_dirs
    return [
        folder for _, folder in template_dirs(view.root, auto_discover=auto, installed=installed)
    ]


#: settings that say how to reach the model or run the build, not what any task holds: a
#: remembered LLM-written body is reused only if the model, asked wherever it is, has its digest
UNPLANNED = frozenset({"jobs"})
UNPLANNED_LLM = frozenset({"base_url", "timeout", "retries", "concurrency", "stream"})


def globals_keys(view: SettingsView, hasher: FileHasher) -> tuple[str, str]:
    """The fingerprint without spec and implementation files, what every spec's plan reads:
    first without the templates' own texts (``*.j2``), then with them; one look at each file
    serves both.

    Without the texts, the key is the one the plan memo holds for: each spec file's plan names
    the templates it read, with their hashes (``plan.memo``), so a template edit re-plans only
    the spec files that read it. Nor are the template folders named: which folder a template is
    found in shows in its hash, so adding a project ``templates/`` folder re-plans only what
    reads a template it overrides. With them, it is what a kept renderer (its compiled
    templates) is valid for."""
    settings = {k: v for k, v in view.settings.items() if k not in UNPLANNED}
    if isinstance(settings.get("llm"), dict):
        settings["llm"] = {k: v for k, v in settings["llm"].items() if k not in UNPLANNED_LLM}
    command_line = [name for name in view.command_line if name not in UNPLANNED]
    planned = SettingsView(view.root, settings, command_line)
    listed = [_files_below(folder) for folder in template_folders(view)]
    templates = [_hashed(hasher, files) for files in listed]
    code = _hashed(hasher, environment().code)
    others = [  # what is not a template's text: template-only interfaces' definitions
        pair
        for files, pairs in zip(listed, templates, strict=True)
        for path, pair in zip(files, pairs, strict=True)
        if path.suffix != ".j2"
    ]
    without_texts = content_hash(
        {"key": _key(planned, [], [], [], code, False), "other files": others}
    )
    return without_texts, _key(planned, [], [], templates, code, False)
