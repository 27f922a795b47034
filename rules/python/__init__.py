"""Python: a package with the functions module, a FastAPI REST app and an argparse CLI."""

import keyword
import sys

from apipack_build.rules import Language, Rule

from . import _filters, _implementation, _protoc, _stack, cli, core, graphql, grpc, rest, websocket

LANGUAGE = Language(
    name="python",
    reserved_words=frozenset(keyword.kwlist),
    filters={**_filters.FILTERS, **_implementation.FILTERS, **_protoc.FILTERS},
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
    shadowed_names=frozenset(sys.stdlib_module_names) | _stack.DEPENDENCY_MODULES,
)

RULES: list[Rule] = [core.RULE, rest.RULE, cli.RULE, graphql.RULE, grpc.RULE, websocket.RULE]
