"""Python: a package with the functions module, a FastAPI REST app and an argparse CLI."""

import keyword

from apipack_build.rules import Language

from . import _filters

LANGUAGE = Language(
    name="python",
    reserved_words=frozenset(keyword.kwlist),
    filters=_filters.FILTERS,
    ignore=("**/__pycache__/**", "**/*.pyc", ".pytest_cache/**", "**/*.egg-info/**", ".venv/**",
            "build/**", "dist/**", ".mypy_cache/**", ".ruff_cache/**"),
)

RULES: list = []
