"""Python: a package with the functions module, a FastAPI REST app and an argparse CLI."""

import keyword
import sys

from apipack_build.rules import Language, Rule

from . import (
    _artifacts,
    _filters,
    _implementation,
    _options,
    _protoc,
    _stack,
    _verify,
    cli,
    core,
    graphql,
    grpc,
    rest,
    websocket,
)

LANGUAGE = Language(
    name="python",
    reserved_words=frozenset(keyword.kwlist),
    filters={**_filters.FILTERS, **_implementation.FILTERS, **_protoc.FILTERS},
    ignore=(
        "**/__pycache__/**",
        "**/*.pyc",
        ".pytest_cache/**",
        ".hypothesis/**",  # Hypothesis keeps caches there even without an example database
        "**/*.egg-info/**",
        ".venv/**",
        "build/**",
        "dist/**",
        ".mypy_cache/**",
        ".ruff_cache/**",
    ),
    fences=("python", "py"),
    check_code=_implementation.check_code,
    example_run=_verify.example_run,
    artifacts=_artifacts.ARTIFACTS,
    shadowed_names=frozenset(sys.stdlib_module_names) | _stack.DEPENDENCY_MODULES,
)

RULES: list[Rule] = [
    _options.honour(rule)
    for rule in (core.RULE, rest.RULE, cli.RULE, graphql.RULE, grpc.RULE, websocket.RULE)
]
