"""The hash of what a build reads: settings, spec and implementation files, templates, code.

The fast path compares it whole with the last build's; the incremental plan compares it without
the specs (``globals_key``), then each spec file on its own.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from collections.abc import Iterable
from importlib.metadata import EntryPoint, PackageNotFoundError, entry_points, version
from pathlib import Path

from ..base.fsio import FileHasher
from ..base.hashing import content_hash
from ..base.lookup import template_dirs
from ..settings import Effective

FINGERPRINT_VERSION = 2
ENTRY_POINT_GROUPS = ("apipack.languages", "apipack.rules")
ENGINE = Path(__file__).resolve().parents[1]  # apipack_build/


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


def fingerprint(
    effective: Effective,
    hasher: FileHasher,
    specs: Iterable[Path],
    implementations: Iterable[str],
    template_dirs: Iterable[Path],
    explicit: bool,
) -> str:
    """The hash of every input of a build (see the module docstring)."""
    root = effective.root

    def hashed(paths: Iterable[Path]) -> list[list[str]]:
        return [[str(p), hasher.hash(p) or "-"] for p in paths]

    plugins = _plugins()
    code = [
        p
        for r in _code_roots(plugins)
        for p in (_files_below(r) if r.is_dir() else [r])
        if p.suffix == ".py"
    ]
    points = [f"{p.group}:{p.name}={p.value}" for p in plugins]
    return content_hash(
        {
            "format": FINGERPRINT_VERSION,
            "settings": effective.settings.model_dump(mode="json"),
            "origins": sorted(k for k, v in effective.origins.items() if v == "command line"),
            "explicit": explicit,
            "specs": hashed(sorted(specs)),
            "implementations": hashed(root / rel for rel in sorted(implementations)),
            "templates": [hashed(_files_below(folder)) for folder in template_dirs],
            "code": hashed(code),
            "entry_points": points,
            "versions": [sys.version, *_tool_versions(plugins)],
        }
    )


def template_folders(effective: Effective) -> list[Path]:
    """The template folders a build of this project looks in, highest priority first."""
    auto = effective.settings.templates.auto_discover
    return [folder for _, folder in template_dirs(effective.root, auto_discover=auto)]


def globals_key(effective: Effective, hasher: FileHasher) -> str:
    """The fingerprint without spec and implementation files: what every spec's plan reads."""
    return fingerprint(effective, hasher, [], [], template_folders(effective), False)
