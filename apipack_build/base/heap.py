"""Python's cyclic garbage collector during a build.

A build makes millions of objects that live until it ends, and the collector, left on, walked
them all again and again (a tenth of a full build's time at N = 1000, a twelfth of a template
edit's) for a few MB of garbage. So a build runs with it paused (``collector_paused``): a
one-shot ``generate`` or ``check`` once the fast path misses (``cli``), and every build of a
long-lived process but its first (``_session.Heap``, which settles the heap after each).

The one steady source of cyclic garbage in a build is the LLM step: a request leaves about
20 KB of it, which a cold build asking 1000 bodies would pile up. ``after_request`` collects the
youngest generation once every ``REQUESTS_PER_COLLECTION`` requests, not after each: with the
collector paused, the first collection walks every object made since the pause (the whole plan,
35-50 ms at N = 1000), which an edit asking for one body need not pay; the later ones walk only
what the requests since the last one made.

A one-shot process ends without its collector (``heap_left_at_exit``): nearly everything it
made is held in reference cycles (every module, class and function, and what they hold), which
Python frees at exit by walking and collecting the whole heap, object by object, a tenth of a
second and more for an edit at N = 1000, for memory the system takes back at once anyway. For
the same reason its build's objects are frozen before the collector runs again
(``collector_paused(last=True)``).
"""

from __future__ import annotations

import atexit
import contextlib
import gc
from collections.abc import Iterator

REQUESTS_PER_COLLECTION = 32  # at most about 0.6 MB of a paused build's garbage waits


@contextlib.contextmanager
def collector_paused(pause: bool = True, *, last: bool = False) -> Iterator[None]:
    """The collector off for the block if *pause*, then as it was before.

    *last*: the block is the process's last build (a one-shot command), whose objects live until
    the process ends: they are frozen out of the collector's sight before it runs again, or the
    first allocation after would walk every one of them (the collector paused, none was ever
    promoted out of the youngest generation). Never in a process that builds again: its garbage
    would be frozen with them (``_session.Heap`` settles its heap instead)."""
    enabled = gc.isenabled()
    if pause:
        gc.disable()
    try:
        yield
    finally:
        if enabled:
            if last:
                gc.freeze()
            gc.enable()


class YoungCollections:
    """Counts requests; every *every*-th, collects the youngest generation if the collector is
    paused (when it runs, it collects by itself)."""

    def __init__(self, every: int = REQUESTS_PER_COLLECTION) -> None:
        self.every = every
        self.requests = 0

    def after_request(self) -> None:
        self.requests += 1
        if self.requests % self.every == 0 and not gc.isenabled():
            gc.collect(0)


#: this process's requests, across the builds it runs (a doit worker process has its own)
after_request = YoungCollections().after_request


def heap_left_at_exit() -> None:
    """At this process's exit, once the ``atexit`` functions registered after this one ran,
    leave the heap to the system: the collector no longer sees it, so the cycles it holds are
    not walked and freed one by one. Open files and other resources are released as before:
    by whoever holds them, by their reference counts, or by the system."""
    atexit.unregister(gc.freeze)  # once, however often a process runs a command
    atexit.register(gc.freeze)
