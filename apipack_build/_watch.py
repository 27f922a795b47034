"""``apipack watch``: build, then build again whenever what a build reads changes, until Ctrl-C.

One process keeps what every build loads — the registry of languages and rules, their code, the scan
of installed distributions — and what stays valid between builds (``_session.Session``: the
settings, the stat cache, the renderer with its compiled templates); each rebuild takes the fast
path or the incremental plan (``plan/memo.py``), so a saved edit costs what it touches; after each
build the kept heap is frozen out of the garbage collector's sight (``_session.Heap``). An editor's
burst of saves is one rebuild: watchfiles yields once no change has come for ``QUIET_MS``; the files
it names spare the build the fast path's look when one of them is an input whose content changed
(``Session.build``). An invalid save prints its problems (``path:line:col: field: message``) and the
loop keeps watching. Ctrl-C stops it, while waiting or inside a build: every write is atomic and the
build lock is released, so the next build (or ``check``) finds a consistent state. The LLM cache,
the lock and the build lock behave as for ``generate``: a build here is
``apipack_build.generate``'s, and leaves the same state.
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import watchfiles

from ._session import Heap, Session
from .base.fsio import is_temporary
from .base.lookup import STATE_DIR
from .errors import ApipackError, shown
from .load.project import resolve_targets

QUIET_MS = 10  # a burst of saves closer together than this is one change
IDLE_MS = 500  # how long the watcher waits before saying "nothing changed" (it then waits again)


def watch(
    project: Path,
    overrides: Mapping[str, Any],
    *,
    offline: bool | None = None,
    stop: Any = None,
) -> int:
    """Build *project*, then rebuild on every change below it until Ctrl-C (or *stop*, a
    ``threading.Event``, is set). Returns the exit code: 0, or 130 if a build was interrupted."""
    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(line_buffering=True)  # each summary line as soon as it is known
    effective, _ = resolve_targets([project], Path.cwd(), overrides)
    root = effective.root
    skipped = (root / STATE_DIR, (root / effective.settings.output).resolve())
    rebuild = _builder(project, overrides, offline)
    armed = False
    try:
        for changes in watchfiles.watch(
            root,
            watch_filter=_inputs_only(skipped),
            step=QUIET_MS,
            stop_event=stop,
            rust_timeout=IDLE_MS,
            yield_on_timeout=True,  # the first yield says the watcher is armed
            raise_interrupt=False,
        ):
            if not armed:  # build once the watcher is armed: no save can fall in between
                rebuild(())
                print(f"apipack: watching {os.path.relpath(root)} (Ctrl-C to stop)", flush=True)
                armed = True
            elif changes:
                rebuild(sorted(Path(path) for _, path in changes))
    except KeyboardInterrupt:
        print("apipack: interrupted; the next build completes this one", file=sys.stderr)
        return 130
    print("apipack: stopped watching", flush=True)
    return 0


def _builder(
    project: Path, overrides: Mapping[str, Any], offline: bool | None
) -> Callable[[Sequence[Path]], None]:
    session = Session(
        project,
        languages=overrides.get("languages"),
        interfaces=overrides.get("interfaces"),
        output=overrides.get("output"),
        jobs=overrides.get("jobs"),
        offline=offline,
    )

    heap = Heap()

    def rebuild(changed: Sequence[Path]) -> None:
        with heap.during_build():
            try:
                session.build(changed)
            except ApipackError as exc:  # bad input or a failed task: say so, keep watching
                print(shown(exc), file=sys.stderr, flush=True)
        sys.stdout.flush()
        session.check_tree()
        heap.settle()

    return rebuild


def _inputs_only(skipped: tuple[Path, ...]) -> watchfiles.DefaultFilter:
    """watchfiles' default filter (editor swap files, caches, VCS folders), minus the state
    folder, the output folder (made by the first build) and apipack's own temporary files: a
    build must not wake it."""
    folders = tuple(str(folder) for folder in skipped)
    prefixes = tuple(folder + os.sep for folder in folders)

    class InputsOnly(watchfiles.DefaultFilter):
        def __call__(self, change: watchfiles.Change, path: str) -> bool:
            if path in folders or path.startswith(prefixes):  # the folders themselves too
                return False
            if is_temporary(os.path.basename(path)):
                return False
            return bool(super().__call__(change, path))

    return InputsOnly()
