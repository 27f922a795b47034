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
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

REQUESTS_PER_COLLECTION = 32  # at most about 0.6 MB of a paused build's garbage waits


@contextlib.contextmanager
def collector_paused(pause: bool = True) -> Iterator[None]:
    """The collector off for the block if *pause*, then as it was before."""
    enabled = gc.isenabled()
    if pause:
        gc.disable()
    try:
        yield
    finally:
        if enabled:
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
