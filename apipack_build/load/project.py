"""Finding the project, its settings and its explicit spec files for a command's arguments.

``locate`` and ``settings_source`` read no settings (no pydantic, no YAML): the fast path uses
them to tell whether the settings can have changed since the last build.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..base.hashing import bytes_hash, content_hash
from ..base.lookup import PROJECT_FILES, find_project_file
from ..errors import ConfigError

if TYPE_CHECKING:
    from ..settings import Effective


@dataclass(frozen=True)
class Target:
    """Where a command's arguments point: a project folder, maybe its file, maybe spec files."""

    folder: Path
    project_file: Path | None
    specs: list[Path]

    @property
    def found_file(self) -> Path | None:
        return self.project_file or find_project_file(self.folder)

    @property
    def root(self) -> Path:
        found = self.found_file
        return found.parent if found else self.folder


def _is_project_file(path: Path) -> bool:
    return path.name in PROJECT_FILES or path.name.endswith(".apipack.yml")


def locate(targets: Sequence[str | Path], cwd: Path) -> Target:
    """The project and explicit spec files of ``apipack CMD [SPEC|PROJECT|DIR ...]``."""
    paths = [cwd / Path(t) for t in targets]
    for path in paths:
        if not path.exists():
            raise ConfigError(f"{path}: no such file or folder")
    projects = [p for p in paths if p.is_dir() or _is_project_file(p)]
    specs = [p for p in paths if p not in projects]
    if len(projects) > 1 or (projects and specs):
        raise ConfigError("give one project (folder or project file), or spec files, not both")
    if projects:
        target = projects[0]
        if target.is_dir():
            return Target(target, None, [])
        return Target(target.parent, target, [])
    folder = cwd
    if (
        specs
        and find_project_file(cwd) is None
        and not all(s.resolve().is_relative_to(cwd.resolve()) for s in specs)
    ):
        folder = specs[0].resolve().parent  # a spec elsewhere is its own project
    return Target(folder, None, specs)


def resolve_targets(
    targets: Sequence[str | Path], cwd: Path, overrides: Mapping[str, Any] | None = None
) -> tuple[Effective, list[Path]]:
    """Settings and explicit spec files for ``apipack CMD [SPEC|PROJECT|DIR ...]``."""
    from ..settings import resolve  # pydantic: loaded only when settings are validated

    target = locate(targets, cwd)
    effective = resolve(target.folder, project_file=target.project_file, overrides=overrides)
    return effective, target.specs


def settings_source(target: Target, overrides: Mapping[str, Any]) -> str:
    """The hash of everything ``settings.resolve`` reads for *target*: the project file and
    ``~/.apipack/config.yml`` (bytes), the ``APIPACK_*`` and ``OLLAMA_HOST`` variables, HOME,
    the command line. Equal hashes mean equal effective settings."""
    home = Path(os.environ.get("HOME", str(Path.home())))

    def file_hash(path: Path | None) -> str:
        return bytes_hash(path.read_bytes()) if path is not None and path.is_file() else "-"

    found = target.found_file
    return content_hash(
        {
            "folder": str(target.folder),
            "project_file": str(found),
            "project": file_hash(found),
            "home": str(home),
            "user": file_hash(home / ".apipack" / "config.yml"),
            "environment": sorted(
                [name, value]
                for name, value in os.environ.items()
                if name.startswith("APIPACK_") or name == "OLLAMA_HOST"
            ),
            "command_line": {k: v for k, v in sorted(overrides.items()) if v is not None},
        }
    )
