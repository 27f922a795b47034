"""What a long-lived process (``apipack watch``) keeps between builds of one project.

Every build here is ``generate``'s — the fast path when nothing changed, else the incremental
plan run by doit — and leaves the same state a ``generate`` would (manifest, ``plan.json``,
fingerprint, doit's database, lock, explain record). What is kept in memory only spares work,
and each part is checked against content before it is used, never against the watcher's list of
changed paths (which may miss a change, or name one that came back):

* the resolved settings, while what they are read from hashes the same
  (``load.project.settings_source``: the project file, the user's file, the environment);
* the project's file hasher, whose stat cache spares re-reading files that did not move;
* the renderer — Jinja's environment with its compiled templates, and the template hashes —
  while settings, templates, rules and engine code hash the same (``plan.plan.make_plan``);
* the plan memo its last build wrote, while the file's stat signature is the one it left
  (``plan.memo.read``).

Its hasher's stat cache is written once per build, when the build is done, where a ``generate``
writes it after doit and again after the fingerprint: the file is the same, written once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._api import _overrides, run_build
from .base.fsio import FileHasher
from .base.lookup import STATE_DIR
from .base.summary import Summary
from .engine import prepare
from .load.project import locate, resolve_targets, settings_source
from .run import fastpath

if TYPE_CHECKING:
    from .base.render import Renderer
    from .run.build import Build
    from .settings import Effective


class Session:
    """Builds of one project, as ``apipack_build.generate(project, ..., echo=True)`` makes
    them, with what stays valid between them kept in memory."""

    def __init__(
        self,
        project: Path,
        *,
        languages: Sequence[str] | None = None,
        interfaces: Sequence[str] | None = None,
        output: str | None = None,
        jobs: int | None = None,
        offline: bool | None = None,
    ):
        self.targets = [project]
        self.cwd = Path.cwd()
        self.overrides = _overrides(languages, interfaces, output, jobs)
        self.offline = offline
        self._settings: tuple[tuple[str, tuple[Path, ...]], Effective, list[Path]] | None = None
        self._hasher: _SavedWhenDone | None = None
        self._renderers: dict[str, Renderer] = {}

    def build(self) -> Summary:
        """One build, printed as ``generate`` prints it; raises as ``generate`` does. The fast
        path comes first even after a change the watcher reported: a save of the same bytes is
        a no-op, which leaves the last build's explain record as ``generate`` does."""
        fast = fastpath.answer(
            self.targets,
            self.cwd,
            self.overrides,
            offline=self.offline,
            summary_json=None,
            echo=True,
        )
        if fast is not None:
            return fast
        hasher = self._hasher_for(locate(self.targets, self.cwd).root.resolve())
        hasher.saving = False
        try:
            build = self.prepared(
                self.targets, cwd=self.cwd, overrides=self.overrides, offline=self.offline
            )
            return run_build(build, self.targets, self.cwd, self.overrides, echo=True)
        finally:
            hasher.saving = True
            hasher.save()

    def prepared(
        self,
        targets: Sequence[str | Path],
        *,
        cwd: Path,
        overrides: Mapping[str, Any],
        **options: Any,
    ) -> Build:
        """``engine.prepare(targets, cwd=cwd, overrides=overrides, **options)``, given what
        the session keeps (the seam ``cli.prepare_build`` of ``apipack daemon``: any targets
        of the project, from any folder)."""
        target = locate(targets, cwd)
        key = (settings_source(target, overrides), tuple(target.specs))
        if self._settings is None or self._settings[0] != key:
            self._settings = (key, *resolve_targets(targets, cwd, overrides))
        effective, specs = self._settings[1], self._settings[2]
        return prepare(
            resolved=(effective, specs),
            hasher=self._hasher_for(effective.root),
            renderers=self._renderers,
            **options,
        )

    def _hasher_for(self, root: Path) -> _SavedWhenDone:
        cache = root / STATE_DIR / "filestat.json"
        if self._hasher is None or self._hasher.cache_file != cache:
            self._hasher = _SavedWhenDone(cache)
        return self._hasher


class _SavedWhenDone(FileHasher):
    """A hasher whose ``save`` does nothing while ``saving`` is off: the build saves it at
    several points, the session once, at its end (the stat cache is a few MB of JSON)."""

    saving = True

    def save(self) -> None:
        if self.saving:
            super().save()
