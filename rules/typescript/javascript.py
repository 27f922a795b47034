"""The JavaScript flavour (``language: javascript``): the TypeScript rules' package as plain ESM
``.js`` files that Node runs as they are, with no TypeScript toolchain.

One set of templates serves both: every ``.ts`` output is rendered from its TypeScript template
and finished by ``strip_types`` (``_strip``), which erases the types of erasable TypeScript and
rewrites nothing else. The templates are kept erasable by the TypeScript package's own
``tsconfig.json`` (``erasableSyntaxOnly``, ``verbatimModuleSyntax``): tsc refuses an ``enum``
or a type imported as a value there, so a template that would not strip cleanly fails the
TypeScript build first.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TypeVar

from apipack_build.rules import Output, Rule

#: files only the TypeScript flavour has
_TYPESCRIPT_ONLY = frozenset({"tsconfig.json"})

Request = TypeVar("Request")


def flavour(rule: Rule) -> Rule:
    """*rule*, producing the JavaScript flavour of its files."""
    return Rule(
        name=rule.name.replace("typescript.", "javascript.", 1),
        language="javascript",
        interface=rule.interface,
        version=rule.version,
        function_outputs=_stripped(rule.function_outputs),
        package_outputs=_stripped(rule.package_outputs),
    )


def _stripped(
    outputs: Callable[[Request], Sequence[Output]] | None,
) -> Callable[[Request], Sequence[Output]] | None:
    if outputs is None:
        return None
    plan = outputs

    def javascript(request: Request) -> list[Output]:
        return [_as_javascript(o) for o in plan(request) if o.path not in _TYPESCRIPT_ONLY]

    return javascript


def _as_javascript(output: Output) -> Output:
    if not output.path.endswith(".ts"):
        return output
    return replace(output, path=output.path[: -len(".ts")] + ".js", finish="strip_types")
