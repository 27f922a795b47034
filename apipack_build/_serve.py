"""What ``apipack daemon`` runs: the command line, served from memory (``daemon.server``).

Each request is ``apipack ARGS`` run by ``cli.run_command`` as a fresh process would run it;
``generate`` and ``check`` prepare their builds through the seam ``cli.prepare_build``, here
a ``_session.Session``'s, which keeps what stays valid between builds (resolved settings, the
stat cache, renderers with compiled templates; the plan memo stays parsed in ``plan.memo``).
After each answer the heap is settled as ``apipack watch`` settles it
(``_session.Heap``), so a daemon that lives for hours neither grows nor pays full
collections mid-build. The reused package folders of an edit's plan are taken as checked while
the kernel reports no change in them (``_treewatch``).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from filelock import FileLock, Timeout

from .base.lookup import STATE_DIR
from .daemon.record import DAEMON_LOCK


def main(argv: Sequence[str]) -> int:
    """``ROOT IDLE_SECONDS``: serve the project in ROOT until a reason to stop. One daemon per
    project: it holds ``.apipack/daemon.lock`` while it lives, and one launched while another
    starts or serves leaves at once (a command may launch one as the user does)."""
    root, idle = Path(argv[0]).resolve(), float(argv[1])
    lock = FileLock(str(root / STATE_DIR / DAEMON_LOCK))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        print(f"apipack daemon: another daemon serves {root.name} or starts", file=sys.stderr)
        return 0
    try:
        return _serve(root, idle)
    finally:
        lock.release()


def _serve(root: Path, idle: float) -> int:
    from . import cli  # loaded once this daemon is the project's: one that leaves loads little
    from ._session import Heap, Session
    from .daemon.server import Server

    session = Session(root)
    cli.prepare_build = session.prepared
    cli.tree_vouch = session.tree_vouch
    session.check_tree()  # the first edit's plan finds the generated tree known
    _warm_up()
    heap = Heap()

    def handle(args: list[str]) -> int:
        with heap.during_build():
            return cli.run_command(args)

    def after() -> None:  # the client has its answer: ready the next build
        session.save_stat_cache()
        session.check_tree()
        heap.settle()

    return Server(root, handle, after, idle).serve()


def _warm_up() -> None:
    """Load what an edit's build loads, so the first served command is as warm as the next
    (and the record of the code it runs does not grow then)."""
    from ._session import settle_heap
    from .base.httpxload import load_httpx
    from .base.lookup import builtin_template_dir
    from .load.registry import registry

    load_httpx()  # an edit asks the model
    from .plan import plan, retemplate  # noqa: F401
    from .run import build, diff, progress  # noqa: F401

    registry()
    builtin_template_dir()
    settle_heap(thaw=False)
