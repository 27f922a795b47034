"""apipack's engine: specs → content-hashed doit task graph → rendered, deterministic packages.

The engine knows no language: languages and rules arrive through entry points
(``apipack.languages``, ``apipack.rules``), the built-in ones included.

From Python, ``generate(project, ...)`` builds like ``apipack generate`` and returns its
``Summary``; ``check(project, ...)`` lists what ``apipack check`` lists. Both raise the
``ApipackError`` subclasses below (see ``docs/api.md``).
"""

from __future__ import annotations

from ._api import check, generate
from ._build import Build
from ._report import Summary
from .engine import prepare
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
