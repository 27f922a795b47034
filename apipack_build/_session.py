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
  (``plan.memo.read``), and likewise the fingerprint, parsed after the summary line.

The watcher's list (``Session.build``'s *changed*) orders the work, never decides it: when a
file it names is an input of the last build whose content now hashes differently, the fast path
cannot answer, and the build goes straight to the plan.

The plan checks that the package folders of the spec files it reuses still hold what the last
build left (stat signatures); a folder checked once is taken as checked while the kernel reports
no change below it (``_treewatch.TreeWatch``), and between builds (``check_tree``) the folders
it did report — those the last build wrote into, those changed by hand — are checked again, so
that the next edit's plan finds every reused folder known.

Its hasher's stat cache is written once per build, when the build is done (the daemon: once its
client has the answer), where a ``generate`` writes it after doit and again after the
fingerprint: the file is the same, written once.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._api import _overrides, run_build
from ._treewatch import TreeWatch
from .base.fsio import FileHasher
from .base.heap import collector_paused
from .base.lookup import FINGERPRINT_FILE, STATE_DIR
from .base.summary import Summary
from .engine import check_last_tree, last_tree, prepare
from .errors import ApipackError
from .load.project import locate, resolve_targets, settings_source
from .run import fastpath

if TYPE_CHECKING:
    from .base.render import Renderer
    from .run.build import Build
    from .run.treestate import Vouch
    from .settings import Effective


THAW_EVERY = 50  # builds between full collections of the frozen heap (see ``settle_heap``)


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
        self._tree = TreeWatch()

    def build(self, changed: Collection[Path] = ()) -> Summary:
        """One build, printed as ``generate`` prints it; raises as ``generate`` does. The fast
        path comes first even after a change the watcher reported (a save of the same bytes is
        a no-op, which leaves the last build's explain record as ``generate`` does), unless one
        of the files *changed* names is an input of the last build whose content now hashes
        differently: then it cannot answer, and would hash every input to find that out."""
        if not self._moved(changed):
            fast = fastpath.answer(
                self.targets,
                self.cwd,
                self.overrides,
                offline=self.offline,
                summary_json=None,
                echo=True,
                vouch=self.tree_vouch(),
            )
            if fast is not None:
                return fast
        effective, _ = self._resolved(self.targets, self.cwd, self.overrides)
        try:
            build = self.prepared(
                self.targets, cwd=self.cwd, overrides=self.overrides, offline=self.offline
            )
            summary = run_build(build, self.targets, self.cwd, self.overrides, echo=True)
        finally:
            self.save_stat_cache()
        # its fingerprint parsed now, after the summary line, not by the next build's first look
        fastpath.read(effective.root / STATE_DIR / FINGERPRINT_FILE)
        return summary

    def save_stat_cache(self) -> None:
        """Write the stat cache if the command asked: once, after it (a cache, checked by stat
        signatures: a process that reads it meanwhile hashes again what it does not know)."""
        if self._hasher is not None:
            self._hasher.save_if_asked()

    def tree_vouch(self) -> Vouch:
        """For a command that begins: the package folders of the generated tree known to hold
        what a stat check found (``_treewatch``), read from the kernel's queue first."""
        self._tree.new_build()
        return self._tree.holds

    def check_tree(self) -> None:
        """Between builds: check the package folders of the last build's tree not known to
        hold (``_treewatch``: at first all of them, then those the kernel saw change), so that
        the next build's plan finds them known."""
        with contextlib.suppress(ApipackError):  # settings a build refuses: the next one says so
            effective, _ = self._resolved(self.targets, self.cwd, self.overrides)
            check_last_tree(effective, self.tree_vouch())

    def _moved(self, changed: Collection[Path]) -> bool:
        """Is one of *changed* an input the last build's fingerprint recorded, with another
        content now? Decided by content (the watcher's list only says where to look)."""
        if not changed or self._settings is None:
            return False  # no build yet: the fast path says
        root = self._settings[1].root
        recorded = fastpath.read(root / STATE_DIR / FINGERPRINT_FILE)
        inputs = recorded.get("inputs") if recorded is not None else None
        if not isinstance(inputs, dict):
            return False
        hasher = self._hasher_for(root)
        for path in sorted(changed):
            entry = inputs.get(str(path))
            if isinstance(entry, list) and len(entry) == 2 and hasher.hash(path) != entry[1]:
                return True
        return False

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
        effective, specs = self._resolved(targets, cwd, overrides)
        if "tree" not in options:
            options["tree"] = last_tree(effective, self.tree_vouch())
        return prepare(
            resolved=(effective, specs),
            hasher=self._hasher_for(effective.root),
            renderers=self._renderers,
            **options,
        )

    def _resolved(
        self, targets: Sequence[str | Path], cwd: Path, overrides: Mapping[str, Any]
    ) -> tuple[Effective, list[Path]]:
        """The settings, resolved again only when what they are read from changed."""
        target = locate(targets, cwd)
        key = (settings_source(target, overrides), tuple(target.specs))
        if self._settings is None or self._settings[0] != key:
            self._settings = (key, *resolve_targets(targets, cwd, overrides))
        return self._settings[1], self._settings[2]

    def _hasher_for(self, root: Path) -> _SavedWhenDone:
        cache = root / STATE_DIR / "filestat.json"
        if self._hasher is None or self._hasher.cache_file != cache:
            self._hasher = _SavedWhenDone(cache)
        return self._hasher


class _SavedWhenDone(FileHasher):
    """A hasher whose ``save`` only notes that the build asked: a build saves it at several
    points, the session once, when its command is done (``Session.save_stat_cache``): the stat
    cache is a few MB of JSON, and saving it walks every entry the session's hasher has learnt.
    A command that never asks (``check``, ``--dry-run``) writes nothing, as in a fresh process."""

    asked = False

    def save(self) -> None:
        self.asked = True

    def save_if_asked(self) -> None:
        if self.asked:
            self.asked = False
            super().save()


class Heap:
    """The heap of a process that builds again and again (``apipack watch``, the daemon): the
    collector off during each build but the first (which may be big), its garbage left for
    ``settle``, which runs after the build and settles the heap (``settle_heap``), with a full
    collection every ``THAW_EVERY`` builds."""

    def __init__(self) -> None:
        self.builds = 0

    def during_build(self) -> contextlib.AbstractContextManager[None]:
        return collector_paused(pause=self.builds > 0)

    def settle(self) -> None:
        self.builds += 1
        settle_heap(thaw=self.builds % THAW_EVERY == 0)


def settle_heap(*, thaw: bool) -> None:
    """After a build, what survives it is mostly what the process keeps (the registry, the
    session's stat cache, memo and renderer): hundreds of thousands of objects, which each of
    Python's full collections would walk again, in the middle of the next build (150–200 ms at
    N = 1000). Collect this build's garbage, then freeze what is left out of the collector's
    sight. Kept things replaced since (the renderer of an edited template) are freed by their
    reference counts; those caught in cycles wait for the full collection every *thaw*."""
    if thaw:
        gc.unfreeze()
    gc.collect()
    gc.freeze()
