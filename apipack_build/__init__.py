"""apipack's engine: specs → content-hashed doit task graph → rendered, deterministic packages.

The engine knows no language: languages and rules arrive through entry points
(``apipack.languages``, ``apipack.rules``), the built-in ones included.

From Python, ``generate(project, ...)`` builds like ``apipack generate`` and returns its
``Summary``; ``check(project, ...)`` lists what ``apipack check`` lists. Both raise the
``ApipackError`` subclasses below (see ``docs/api.md``).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .errors import (
    ApipackError,
    BuildError,
    BusyError,
    ConfigError,
    LLMError,
    Problem,
    SpecError,
    TemplateError,
)

__all__ = [
    "ApipackError",
    "Build",
    "BuildError",
    "BusyError",
    "ConfigError",
    "LLMError",
    "Problem",
    "SpecError",
    "Summary",
    "TemplateError",
    "check",
    "generate",
    "prepare",
]

# Loaded on first use: `apipack generate` with nothing to do must not pay for doit and Jinja.
_LAZY = {
    "Build": ".run.build",
    "Summary": ".base.summary",
    "check": "._api",
    "generate": "._api",
    "prepare": ".engine",
}

if TYPE_CHECKING:
    from ._api import check, generate
    from .base.summary import Summary
    from .engine import prepare
    from .run.build import Build


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name], __name__), name)
    globals()[name] = value
    return value
