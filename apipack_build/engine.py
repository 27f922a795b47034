"""Finding the project, its settings and its specs for a command, and preparing its build."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import ConfigError
from .settings import PROJECT_FILES, Effective, find_project_file, resolve

if TYPE_CHECKING:
    from ._build import Build
    from .llm import Provider


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


def prepare(
    targets: Sequence[str | Path] = (),
    *,
    cwd: Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    summary_json: Path | None = None,
    quiet: bool = False,
    offline: bool | None = None,
    refresh: Sequence[str] = (),
    provider_factory: Callable[[], Provider] | None = None,
) -> Build:
    """Everything up to running: settings, specs, plan. Raises ApipackError on bad input.

    ``offline=None`` follows the settings (``offline:``, ``APIPACK_OFFLINE``)."""
    from ._build import Build  # the heavy part of the engine, loaded when a build is planned
    from ._plan import make_plan

    effective, specs = resolve_targets(targets, cwd or Path.cwd(), overrides)
    plan = make_plan(
        effective,
        specs,
        offline=offline,
        refresh=frozenset(refresh),
        provider_factory=provider_factory,
    )
    return Build(plan, summary_json=summary_json, quiet=quiet)
