"""``output.include_tests`` and ``output.include_docs``: a package without its tests or its
documentation when the settings ask, for every Python rule alike."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from apipack_build.rules import FunctionRequest, Output, PackageRequest, Rule

#: the files that are documentation (tests are everything under ``tests/``)
DOCS = ("README.md", "docs/")

R = TypeVar("R", FunctionRequest, PackageRequest)


def wanted(path: str, request: FunctionRequest | PackageRequest) -> bool:
    settings = request.settings
    if path.startswith("tests/") and not settings.include_tests:
        return False
    return settings.include_docs or not path.startswith(DOCS)


Change = Callable[[Output, "FunctionRequest | PackageRequest"], "Output | None"]


def with_outputs(rule: Rule, change: Change, **fields: Any) -> Rule:
    """*rule* with every output it plans passed through *change* (None leaves it out) and
    *fields* (name, language, ...) replaced: one rule serving a setting or another flavour."""

    def changed(
        outputs: Callable[[R], Sequence[Output]] | None,
    ) -> Callable[[R], Sequence[Output]] | None:
        if outputs is None:
            return None
        produce = outputs

        def planned(request: R) -> list[Output]:
            found = (change(output, request) for output in produce(request))
            return [output for output in found if output is not None]

        return planned

    return dataclasses.replace(
        rule,
        function_outputs=changed(rule.function_outputs),
        package_outputs=changed(rule.package_outputs),
        **fields,
    )


def honour(rule: Rule) -> Rule:
    """*rule*, leaving out the tests and documentation its request's settings exclude."""
    return with_outputs(
        rule, lambda output, request: output if wanted(output.path, request) else None
    )
