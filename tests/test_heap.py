"""The collector during a build (``base.heap``): paused, with a young collection every few LLM
requests, so that a long run of requests frees its garbage while one request pays no walk."""

from __future__ import annotations

import gc
import subprocess
import sys
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from apipack_build.base.heap import YoungCollections, collector_paused


class _Cycle:
    """What a request leaves: objects that only the cyclic collector frees."""

    def __init__(self) -> None:
        self.me = self


@contextmanager
def _collections_seen() -> Iterator[list[int]]:
    """The generations collected in the block."""
    seen: list[int] = []

    def callback(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            seen.append(info["generation"])

    gc.callbacks.append(callback)
    try:
        yield seen
    finally:
        gc.callbacks.remove(callback)


def _request_garbage() -> weakref.ref[_Cycle]:
    return weakref.ref(_Cycle())


def _paused_requests(every: int, requests: int) -> tuple[list[int], int]:
    """*requests* requests with the collector paused, each leaving garbage, counted by a
    ``YoungCollections(every)``: the generations collected, and how much garbage is left."""
    counter = YoungCollections(every=every)
    with collector_paused(), _collections_seen() as seen:
        left = []
        for _ in range(requests):
            left.append(_request_garbage())
            counter.after_request()
        alive = sum(ref() is not None for ref in left)
    return seen, alive


def test_a_long_run_of_requests_frees_its_garbage_as_it_goes() -> None:
    assert _paused_requests(every=4, requests=12) == ([0, 0, 0], 0)  # every 4th: a young one


def test_a_few_requests_pay_no_collection() -> None:
    # their garbage is left for a later collection (or the process's end)
    assert _paused_requests(every=4, requests=3) == ([], 3)


def test_a_running_collector_is_left_to_itself() -> None:
    requests = YoungCollections(every=1)
    assert gc.isenabled()
    gc.collect()
    with _collections_seen() as seen:
        requests.after_request()
    assert seen == []


def test_the_pause_restores_what_it_found() -> None:
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
        with collector_paused(pause=False):
            assert not gc.isenabled()  # a build inside a paused one stays paused
        assert not gc.isenabled()
    assert gc.isenabled()
    with collector_paused(pause=False):  # a long-lived process's first build
        assert gc.isenabled()
    assert gc.isenabled()


def test_a_command_leaves_its_heap_to_the_system_at_exit() -> None:
    """After a command (here ``apipack --help``) its process exits without the collector
    walking the heap: the heap is frozen once the ``atexit`` functions registered during the
    command ran, and files those functions write are still written."""
    program = (
        "import atexit, gc, sys\n"
        "from apipack_build.cli import main\n"
        # registered before the command: runs after what the command registers
        "atexit.register(lambda: print('frozen at exit:', gc.get_freeze_count() > 0))\n"
        "try:\n"
        "    main(['--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print('frozen before exit:', gc.get_freeze_count() > 0)\n"
    )
    printed = _printed_by(program)
    assert "frozen before exit: False" in printed
    assert "frozen at exit: True" in printed


def test_a_last_build_leaves_its_objects_out_of_the_collectors_sight() -> None:
    """A one-shot command's build (``last``): what it made is frozen before the collector runs
    again, so the first collection after walks none of it; a build that is not the process's
    last (a daemon's, a watch's) freezes nothing, or its garbage would never be freed."""
    program = (
        "import gc\n"
        "from apipack_build.base.heap import collector_paused\n"
        "with collector_paused():\n"
        "    kept = [[i] for i in range(1000)]\n"
        "print('frozen after a build:', gc.get_freeze_count())\n"
        "with collector_paused(last=True):\n"
        "    kept = [[i] for i in range(1000)]\n"
        "print('frozen after the last build:', gc.get_freeze_count() >= 1000)\n"
        "print('collector on:', gc.isenabled())\n"
    )
    printed = _printed_by(program)
    assert "frozen after a build: 0" in printed
    assert "frozen after the last build: True" in printed
    assert "collector on: True" in printed


def _printed_by(program: str) -> str:
    """What *program* prints, run in a fresh interpreter (its collector is the test's subject)."""
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout
