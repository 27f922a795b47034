"""Plain ``doit`` support, for one apipack project or for several in one ``dodo.py``.

One project, in its folder, is a two-line ``dodo.py``::

    from apipack_build.doit import DOIT_CONFIG, task_apipack  # noqa: F401

Several (a monorepo), each under its own namespace, beside hand-written tasks::

    from apipack_build.doit import apipack_tasks, doit_config, generated_files

    DOIT_CONFIG = doit_config()  # plus any doit options of your own

    def task_billing():
        \"\"\"The billing service's API package.\"\"\"
        yield from apipack_tasks("services/billing")   # tasks billing, billing:...

    def task_catalog():
        return {"file_dep": generated_files("services/billing", "*/README.md"), ...}

Relative paths are relative to the folder doit runs in: the dodo file's folder, or ``-d DIR``
(so the two-line ``dodo.py`` builds the project in ``DIR``). Each project keeps its own state
(``.apipack/``: manifest, LLM cache, lock file, stat cache) and its build lock is held until doit
exits; doit's own task database is the run folder's ``.apipack/doit.sqlite3``.

doit reads ``DOIT_CONFIG`` before it asks for tasks, and allows one reporter and one file checker
per run: the ones ``doit_config`` names find the projects through this module's session, which
the task creators fill.
"""

from __future__ import annotations

import fnmatch
import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, NoReturn

from filelock import FileLock

from .base.fsio import FileHasher
from .base.lookup import STATE_DIR
from .engine import prepare
from .errors import ApipackError, ConfigError, SpecError
from .run.build import Build
from .run.doitrun import ContentChecker, RunReporter
from .run.graph import DEFAULT_NAMESPACE, acquire_state_lock, set_aside_damaged_state

__all__ = ["DOIT_CONFIG", "apipack_tasks", "doit_config", "generated_files", "task_apipack"]

NAMESPACE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*\Z")


class _Session:
    """The projects of this doit process, the locks it holds, and the run folder's stat cache."""

    def __init__(self) -> None:
        self.builds: dict[str, Build] = {}  # by namespace
        self.by_folder: dict[Path, Build] = {}  # by the resolved path the dodo file named
        self.locks: dict[Path, FileLock] = {}  # by state folder
        self.run_folder: Path | None = None
        self.run_hasher: FileHasher | None = None

    def hold(self, state: Path) -> None:
        if state not in self.locks:
            self.locks[state] = acquire_state_lock(state)
            set_aside_damaged_state(state)

    def start_run(self) -> None:
        """Before doit opens its database (``.apipack/doit.sqlite3`` here): lock and check it."""
        self.run_folder = Path.cwd().resolve()
        self.hold(self.run_folder / STATE_DIR)

    def project(self, path: str | os.PathLike[str]) -> Build:
        """The build of the project at *path*, prepared and locked once per process."""
        key = (Path.cwd() / path).resolve()
        if key not in self.by_folder:
            try:
                build = prepare([Path(path)], cwd=Path.cwd(), incremental=False)
                self.hold(build.state)
            except ApipackError as exc:
                _exit(exc, Path(path))
            self.by_folder[key] = build
        return self.by_folder[key]

    def register(self, path: str | os.PathLike[str], basename: str | None) -> Build:
        build = self.project(path)
        name = basename or build.root.name
        problem = None
        if not NAMESPACE.match(name):
            problem = f"namespace '{name}' for {path}: use letters, digits, '_', '-' or '.'"
        elif self.builds.get(name, build) is not build:
            problem = (
                f"namespace '{name}' is taken by {self.builds[name].root}; "
                f"give {path} another with apipack_tasks(..., basename=...)"
            )
        elif build.basename != name and self.builds.get(build.basename) is build:
            problem = f"{path} is already built as '{build.basename}'"
        if problem is not None:
            _exit(ConfigError(problem))
        build.basename = name
        self.builds[name] = build
        return build

    def hasher_for(self, path: Path) -> FileHasher:
        """The stat cache of the innermost project holding *path*, else of the run folder."""
        owners = [b for b in self.builds.values() if path.is_relative_to(b.root)]
        if owners:
            return max(owners, key=lambda b: len(b.root.parts)).hasher
        if self.run_hasher is None:
            folder = self.run_folder or Path.cwd().resolve()
            self.run_hasher = FileHasher(folder / STATE_DIR / "filestat.json")
        return self.run_hasher

    def save(self) -> None:
        if self.run_hasher is not None:
            self.run_hasher.save()


_session = _Session()


def _exit(exc: ApipackError, project: Path | None = None) -> NoReturn:
    """Print one message (never a traceback) and stop doit with the error's exit code."""
    where = "" if project is None or project == Path(".") else project.as_posix()
    if where and isinstance(exc, SpecError):
        message = "\n".join(f"{where}/{problem}" for problem in exc.problems)
    else:
        message = f"{where}: {exc}" if where else str(exc)
    print(message, file=sys.stderr)
    raise SystemExit(exc.exit_code)


def apipack_tasks(
    project: str | os.PathLike[str] = ".", *, basename: str | None = None
) -> Iterator[dict[str, Any]]:
    """doit task dicts that build the apipack project in the folder (or project file)
    *project*, as subtasks of *basename* (default: the project folder's name)."""
    yield from _session.register(project, basename).tasks()


def generated_files(project: str | os.PathLike[str], *patterns: str) -> list[str]:
    """The files *project* generates, as paths for ``file_dep``; with *patterns*, only those
    whose path below the output folder matches one (shell-style, ``*`` also matches ``/``)."""
    build = _session.project(project)
    paths = sorted(build.plan.files)
    chosen = [p for p in paths if not patterns or any(fnmatch.fnmatch(p, x) for x in patterns)]
    return [os.path.relpath(build.output / p) for p in chosen]


def task_apipack() -> Iterator[dict[str, Any]]:
    """Render the apipack project in this folder."""
    yield from apipack_tasks(".", basename=DEFAULT_NAMESPACE)


def _summary_path() -> Path | None:
    value = os.environ.get("APIPACK_SUMMARY_JSON")
    return Path(value) if value else None


class _Reporter:
    def __new__(cls, outstream: IO[str], options: Any) -> Any:
        return RunReporter(
            _session.builds,
            outstream,
            options,
            summary_json=_summary_path(),
            on_complete=_session.save,
        )


def _checker() -> ContentChecker:
    """doit calls this before it opens its database: the moment to lock and check that."""
    try:
        _session.start_run()
    except ApipackError as exc:
        _exit(exc)
    return ContentChecker(_session.hasher_for)


def doit_config(**options: Any) -> dict[str, Any]:
    """A ``DOIT_CONFIG`` for a dodo file with apipack tasks: apipack's reporter (one summary
    line per project) and content checker, doit's state in ``.apipack/doit.sqlite3``, and any
    other doit *options* (``default_tasks``, ``verbosity``, ...) on top."""
    return {
        "dep_file": f"{STATE_DIR}/doit.sqlite3",
        "backend": "sqlite3",
        "reporter": _Reporter,
        "check_file_uptodate": _checker,
        "verbosity": 0,
        **options,
    }


DOIT_CONFIG = doit_config(default_tasks=[DEFAULT_NAMESPACE])
"""The configuration of the two-line ``dodo.py`` of one project (its one task: ``apipack``)."""
