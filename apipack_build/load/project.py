"""Finding the project, its settings and its explicit spec files for a command's arguments."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..settings import PROJECT_FILES, Effective, find_project_file, resolve


def _is_project_file(path: Path) -> bool:
    return path.name in PROJECT_FILES or path.name.endswith(".apipack.yml")


def resolve_targets(
    targets: Sequence[str | Path], cwd: Path, overrides: Mapping[str, Any] | None = None
) -> tuple[Effective, list[Path]]:
    """Settings and explicit spec files for ``apipack CMD [SPEC|PROJECT|DIR ...]``."""
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
        folder = target if target.is_dir() else target.parent
        project_file = None if target.is_dir() else target
        return resolve(folder, project_file=project_file, overrides=overrides), []
    folder = cwd
    if (
        specs
        and find_project_file(cwd) is None
        and not all(s.resolve().is_relative_to(cwd.resolve()) for s in specs)
    ):
        folder = specs[0].resolve().parent  # a spec elsewhere is its own project
    return resolve(folder, overrides=overrides), specs
