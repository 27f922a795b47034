"""Plain ``doit`` support: a project's ``dodo.py`` is two lines::

    from apipack_build.doit import DOIT_CONFIG, task_apipack  # noqa: F401

and then ``doit``, ``doit list``, ``doit clean`` and ``doit forget`` work on the same task graph
as ``apipack generate``. doit sets the working folder to the dodo file's folder: that is the
project. doit reads ``DOIT_CONFIG`` before it asks for tasks, so the reporter and checker named
there find the build through ``_active``, created by ``task_apipack``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from doit.dependency import FileChangedChecker

from ._build import STATE_DIR, Build
from .engine import prepare
from .errors import ApipackError

_active: list[Build] = []


def _build() -> Build:
    if not _active:
        try:
            build = prepare(cwd=Path.cwd(), summary_json=_summary_path())
        except ApipackError as exc:
            print(exc, file=sys.stderr)
            raise SystemExit(exc.exit_code) from None
        build.lock()  # held until this doit process ends
        _active.append(build)
    return _active[0]


def _summary_path() -> Path | None:
    value = os.environ.get("APIPACK_SUMMARY_JSON")
    return Path(value) if value else None


def task_apipack() -> Iterator[dict[str, Any]]:
    """Render the apipack project in this folder."""
    yield from _build().tasks()


class _Reporter:
    def __new__(cls, outstream: IO[str], options: Any) -> Any:
        return _build().doit_config()["reporter"](outstream, options)


class _Checker(FileChangedChecker):  # type: ignore[misc]
    def __new__(cls) -> Any:
        return _build().doit_config()["check_file_uptodate"]()


DOIT_CONFIG: dict[str, Any] = {
    "dep_file": f"{STATE_DIR}/doit.sqlite3",
    "backend": "sqlite3",
    "reporter": _Reporter,
    "check_file_uptodate": _Checker,
    "verbosity": 0,
    "default_tasks": ["apipack"],
}
