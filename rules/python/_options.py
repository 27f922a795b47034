"""``output.include_tests`` and ``output.include_docs``: a package without its tests or its
documentation when the settings ask, for every Python rule alike."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import TypeVar

from apipack_build.rules import FunctionRequest, Output, PackageRequest, Rule

#: the files that are documentation (tests are everything under ``tests/``)
DOCS = ("README.md", "docs/")

R = TypeVar("R", FunctionRequest, PackageRequest)


def wanted(path: str, request: FunctionRequest | PackageRequest) -> bool:
    settings = request.settings
    if path.startswith("tests/") and not settings.include_tests:
        return False
    return settings.include_docs or not path.startswith(DOCS)


def _filtered(
    outputs: Callable[[R], Sequence[Output]] | None,
) -> Callable[[R], Sequence[Output]] | None:
    if outputs is None:
        return None
    produce = outputs

    def honoured(request: R) -> list[Output]:
        return [o for o in produce(request) if wanted(o.path, request)]

    return honoured


def honour(rule: Rule) -> Rule:
    """*rule*, leaving out the tests and documentation its request's settings exclude."""
    return dataclasses.replace(
        rule,
        function_outputs=_filtered(rule.function_outputs),
        package_outputs=_filtered(rule.package_outputs),
    )
