"""The hash of what a build reads: settings, spec and implementation files, templates, code.

The fast path compares it whole with the last build's; the incremental plan compares it without
the specs (``globals_key``), then each spec file on its own.
"""

from __future__ import annotations

import functools
import importlib.util
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from importlib.metadata import EntryPoint, PackageNotFoundError, entry_points, version
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..base.fsio import FileHasher
from ..base.hashing import content_hash
from ..base.lookup import template_dirs

if TYPE_CHECKING:
    from ..settings import Effective

FINGERPRINT_VERSION = 3
ENTRY_POINT_GROUPS = ("apipack.languages", "apipack.rules", "apipack.providers")
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
    return sorted(p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts)


def _plugins() -> list[EntryPoint]:
    """Every registered language and rule (one scan of the installed distributions)."""
    found = entry_points()
    return sorted(
        (p for g in ENTRY_POINT_GROUPS for p in found.select(group=g)),
        key=lambda p: (p.group, p.name, p.value),
    )


def _tool_versions(plugins: list[EntryPoint]) -> list[str]:
    """The versions of the distributions that provide plugins and of everything they require:
    a rule may run a tool (a compiler, a formatter) whose output changes with its version."""
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


@functools.lru_cache(maxsize=4)
def _environment(path: tuple[str, ...]) -> tuple[list[Path], list[str], list[str]]:
    """The code files, entry points and library versions of the installed engine and plugins:
    one scan of the distributions on *path* (``sys.path``) per process, for a process that
    builds again and again (``apipack watch``, the API) runs the code it has loaded."""
    plugins = _plugins()
    code = [
        p
        for r in _code_roots(plugins)
        for p in (_files_below(r) if r.is_dir() else [r])
        if p.suffix == ".py"
    ]
    points = [f"{p.group}:{p.name}={p.value}" for p in plugins]
    return code, points, [sys.version, *_tool_versions(plugins)]


def fingerprint(
    view: SettingsView,
    hasher: FileHasher,
    specs: Iterable[Path],
    implementations: Iterable[str],
    template_dirs: Iterable[Path],
    explicit: bool,
) -> str:
    """The hash of every input of a build (see the module docstring)."""
    root = view.root

    def hashed(paths: Iterable[Path]) -> list[list[str]]:
        return [[str(p), hasher.hash(p) or "-"] for p in paths]

    code, points, versions = _environment(tuple(sys.path))
    return content_hash(
        {
            "format": FINGERPRINT_VERSION,
            "settings": view.settings,
            "origins": view.command_line,
            "explicit": explicit,
            "specs": hashed(sorted(specs)),
            "implementations": hashed(root / rel for rel in sorted(implementations)),
            "templates": [hashed(_files_below(folder)) for folder in template_dirs],
            "code": hashed(code),
            "entry_points": points,
            "versions": versions,
        }
    )


def template_folders(view: SettingsView) -> list[Path]:
    """The template folders a build of this project looks in, highest priority first."""
    auto = bool(view.settings["templates"]["auto_discover"])
    return [folder for _, folder in template_dirs(view.root, auto_discover=auto)]


#: settings that say how to reach the model or run the build, not what any task holds: a
#: remembered LLM-written body is reused only if the model, asked wherever it is, has its digest
UNPLANNED = frozenset({"jobs"})
UNPLANNED_LLM = frozenset({"base_url", "timeout", "retries", "concurrency", "stream"})


def globals_key(view: SettingsView, hasher: FileHasher) -> str:
    """The fingerprint without spec and implementation files: what every spec's plan reads."""
    settings = {k: v for k, v in view.settings.items() if k not in UNPLANNED}
    if isinstance(settings.get("llm"), dict):
        settings["llm"] = {k: v for k, v in settings["llm"].items() if k not in UNPLANNED_LLM}
    command_line = [name for name in view.command_line if name not in UNPLANNED]
    planned = SettingsView(view.root, settings, command_line)
    return fingerprint(planned, hasher, [], [], template_folders(view), False)
