"""Where things live in a project: its state folder and its template folders, in lookup order.

Kept apart from rendering so that code which only needs to find files loads no Jinja.
"""

from __future__ import annotations

import functools
import importlib.util
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from importlib.metadata import EntryPoints

STATE_DIR = ".apipack"
TEMPLATE_GROUP = "apipack.templates"  # entry points: name -> a package of template files
PROVIDER_GROUP = "apipack.providers"  # entry points: provider name -> provider class
LAST_BUILD = "last-build.json"  # the last build's summary, in STATE_DIR
FINGERPRINT_FILE = "fingerprint.json"  # what the last build depended on, in STATE_DIR
LOCK_FILE = "apipack.lock"  # the LLM lock, beside the project file
PROJECT_FILES = ("apipack.yml", "project.apipack.yml")


def find_project_file(folder: Path) -> Path | None:
    for name in PROJECT_FILES:
        if (folder / name).is_file():
            return folder / name
    return None


def builtin_template_dir() -> Path:
    from importlib.resources import files  # not on the fast path: see ``installed_template_dirs``

    return Path(str(files("apipack_templates")))


def entry_points_of(group: str) -> EntryPoints:
    """The entry points of *group*. Finding them reads the metadata of every installed
    distribution (tens of milliseconds), and a build looks up six groups (languages, rules,
    providers, templates, doit's plugins): one scan serves them all, per ``sys.path``."""
    return _installed_entry_points(tuple(sys.path)).select(group=group)


@functools.lru_cache(maxsize=4)
def _installed_entry_points(path: tuple[str, ...]) -> EntryPoints:
    from importlib.metadata import entry_points  # not on the fast path: see ``load.inputs``

    # Python 3.11's SelectableGroups selects as EntryPoints does
    return cast("EntryPoints", entry_points())


@functools.cache  # one scan of the installed distributions per process
def plugin_template_dirs() -> tuple[tuple[str, Path], ...]:
    """("plugin NAME", folder) of each ``apipack.templates`` entry point: the folder of the
    package it names, found through its import spec (that package itself is not imported)."""
    found: list[tuple[str, Path]] = []
    for point in sorted(entry_points_of(TEMPLATE_GROUP), key=lambda p: p.name):
        try:
            spec = importlib.util.find_spec(point.value)
        except (ImportError, ValueError):
            spec = None
        for folder in (spec.submodule_search_locations or []) if spec else []:
            found.append((f"plugin {point.name}", Path(folder)))
    return tuple(found)


def installed_template_dirs() -> list[tuple[str, Path]]:
    """The template folders of installed plugins, then the built-in one (see ``template_dirs``)."""
    return [*plugin_template_dirs(), ("builtin", builtin_template_dir())]


def template_dirs(
    project_root: Path,
    home: Path | None = None,
    *,
    auto_discover: bool = True,
    installed: Sequence[tuple[str, Path]] | None = None,
) -> list[tuple[str, Path]]:
    """(origin, folder) pairs, highest priority first: the project's ``templates/``, then
    ``~/.apipack/templates`` (both only with ``templates.auto_discover``), then those of
    installed plugins (``apipack.templates`` entry points, by name), then the built-in ones;
    folders that do not exist are skipped. *installed*: ``installed_template_dirs()`` if known."""
    home = home if home is not None else Path.home()
    discovered = [
        ("project", project_root / "templates"),
        ("user", home / ".apipack" / "templates"),
    ]
    candidates = [
        *(discovered if auto_discover else []),
        *(installed_template_dirs() if installed is None else installed),
    ]
    return [(origin, path) for origin, path in candidates if path.is_dir()]
