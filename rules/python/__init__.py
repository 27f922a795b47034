"""Python: a package with the functions module, a FastAPI REST app and an argparse CLI."""

import keyword

from apipack_build.rules import Language, Rule

from . import _filters, _implementation, cli, core, graphql, rest, websocket

LANGUAGE = Language(
    name="python",
    reserved_words=frozenset(keyword.kwlist),
    filters={**_filters.FILTERS, **_implementation.FILTERS},
    ignore=(
        "**/__pycache__/**",
        "**/*.pyc",
        ".pytest_cache/**",
        "**/*.egg-info/**",
        ".venv/**",
        "build/**",
        "dist/**",
        ".mypy_cache/**",
        ".ruff_cache/**",
    ),
    fences=("python", "py"),
    check_code=_implementation.check_code,
)

RULES: list[Rule] = [core.RULE, rest.RULE, cli.RULE, graphql.RULE, websocket.RULE]
