"""httpx, loaded without its command line.

``import httpx`` also imports ``httpx._main``, the ``httpx`` command, whenever the libraries it
uses (rich, click, pygments) happen to be installed: a third of httpx's import time (about
50 ms), paid by every build that asks the LLM, for a command apipack never runs. While httpx is
imported here that one submodule is blocked, so httpx takes the fallback it has for when they
are missing (``httpx.main`` then says how to install them); the block is lifted afterwards, so
an ``import httpx._main`` later in the process works as usual.

Code that uses httpx reaches it as ``httpxload.httpx``: imported with its first use, and to the
type checker the ``httpx`` module itself.
"""

from __future__ import annotations

import sys
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import httpx as httpx  # what ``httpxload.httpx`` is

_COMMAND_LINE = "httpx._main"


def load_httpx() -> ModuleType:
    """The ``httpx`` module, imported (once per process) without its command line."""
    loaded = sys.modules.get("httpx")
    if loaded is not None:
        return loaded
    blocked = _COMMAND_LINE not in sys.modules
    if blocked:
        sys.modules[_COMMAND_LINE] = None  # type: ignore[assignment]  # import raises ImportError
    try:
        import httpx
    finally:
        if blocked and sys.modules.get(_COMMAND_LINE) is None:
            del sys.modules[_COMMAND_LINE]
    return httpx


def __getattr__(name: str) -> ModuleType:
    """``httpxload.httpx``: the module, loaded with its first use (``load_httpx``)."""
    if name == "httpx":
        return load_httpx()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
