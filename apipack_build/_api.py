"""Building from Python: what ``apipack generate`` and ``apipack check`` do, as two functions.

Same settings layers, same tasks, files, state, lock and summary as the command line; failures
are raised as the same ``ApipackError`` subclasses (the CLI turns them into exit codes)::

    summary = apipack_build.generate("services/billing", languages=["python"], offline=True)
    stale = apipack_build.check("services/billing")   # [] when every generated file is current
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .base.summary import Summary
from .engine import prepare
from .errors import BuildError, ConfigError
from .run import diff, fastpath

if TYPE_CHECKING:
    from .run.build import Build

PathLike = str | os.PathLike[str]


def generate(
    project: PathLike = ".",
    *,
    specs: Sequence[PathLike] = (),
    languages: Sequence[str] | None = None,
    interfaces: Sequence[str] | None = None,
    output: PathLike | None = None,
    jobs: int | None = None,
    offline: bool | None = None,
    refresh: Sequence[str] = (),
    summary_json: PathLike | None = None,
    echo: bool = False,
) -> Summary:
    """Build *project* (a folder, or a project file) like ``apipack generate``.

    *specs* builds only those spec files (relative to the project folder); *languages*,
    *interfaces*, *output* and *jobs* override the settings as the command-line flags do;
    ``offline=None`` follows the settings. With ``echo=True`` the summary line and any failures
    are printed as the CLI prints them; otherwise nothing is printed but warnings (to stderr).

    Returns the build's summary. Raises ``SpecError``/``ConfigError``/``TemplateError`` (bad
    input, nothing built), ``LLMError`` (a model unavailable, or a reply missing offline),
    ``BuildError`` (a task failed: its message lists each failure) or ``BusyError``.
    """
    targets, cwd = _targets(project, specs)
    overrides = _overrides(languages, interfaces, output, jobs)
    report = Path(summary_json) if summary_json is not None else None
    if not refresh:
        fast = fastpath.answer(
            targets, cwd, overrides, offline=offline, summary_json=report, echo=echo
        )
        if fast is not None:
            return fast
    build = prepare(
        targets,
        cwd=cwd,
        overrides=overrides,
        summary_json=report,
        quiet=not echo,
        offline=offline,
        refresh=refresh,
    )
    return run_build(build, targets, cwd, overrides, echo=echo)


def run_build(
    build: Build,
    targets: Sequence[Path],
    cwd: Path,
    overrides: Mapping[str, Any],
    *,
    echo: bool,
) -> Summary:
    """Run a prepared build and remember it for the fast path and the next plan (*targets*,
    *cwd* and *overrides* are those it was prepared with)."""
    fingerprint = fastpath.build_fingerprint(build, targets, cwd, overrides)
    try:
        summary = build.run(
            jobs=build.plan.effective.settings.jobs, out=sys.stdout if echo else io.StringIO()
        )
    except BuildError as exc:
        raise BuildError("\n".join([*build.summary.failures, str(exc)])) from None
    fastpath.record_build(build, fingerprint)
    return summary


def check(
    project: PathLike = ".",
    *,
    specs: Sequence[PathLike] = (),
    languages: Sequence[str] | None = None,
    interfaces: Sequence[str] | None = None,
    output: PathLike | None = None,
) -> list[str]:
    """What ``apipack check`` lists, one ``path: reason`` per stale, missing, hand-edited or
    extra generated file (paths from the project folder); empty when everything is current.
    Writes nothing and never calls a model. Raises ``ApipackError`` subclasses on bad input."""
    targets, cwd = _targets(project, specs)
    overrides = _overrides(languages, interfaces, output, None)
    if fastpath.current(targets, cwd, overrides) is not None:
        return []
    build = prepare(targets, cwd=cwd, overrides=overrides, offline=True)
    return [change.describe(build.output_id) for change in diff.diff(build)]


def _targets(project: PathLike, specs: Sequence[PathLike]) -> tuple[list[Path], Path]:
    """``apipack`` arguments and the folder it would run in."""
    folder = Path(project)
    if not specs:
        return [folder], Path.cwd()
    if folder.is_file():
        raise ConfigError(f"{folder}: give spec files with a project folder, not a project file")
    return [Path(spec) for spec in specs], folder.resolve()


def _overrides(
    languages: Sequence[str] | None,
    interfaces: Sequence[str] | None,
    output: PathLike | None,
    jobs: int | None,
) -> dict[str, Any]:
    """The command line's overrides: lists deduplicated and sorted, as ``-l``/``-i`` give them."""
    for name, value in (("languages", languages), ("interfaces", interfaces)):
        if isinstance(value, str):
            raise ConfigError(f"{name}: give a list of names, not the string {value!r}")
    return {
        "languages": sorted(set(languages)) if languages else None,
        "interfaces": sorted(set(interfaces)) if interfaces else None,
        "output": os.fspath(output) if output is not None else None,
        "jobs": jobs,
    }
