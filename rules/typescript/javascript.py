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

from dataclasses import replace

from apipack_build.rules import FunctionRequest, Output, PackageRequest, Rule

from ..python._options import with_outputs

#: files only the TypeScript flavour has
_TYPESCRIPT_ONLY = frozenset({"tsconfig.json"})


def flavour(rule: Rule) -> Rule:
    """*rule*, producing the JavaScript flavour of its files."""
    name = rule.name.replace("typescript.", "javascript.", 1)
    return with_outputs(rule, _as_javascript, name=name, language="javascript")


def _as_javascript(output: Output, _: FunctionRequest | PackageRequest) -> Output | None:
    if output.path in _TYPESCRIPT_ONLY:
        return None
    if not output.path.endswith(".ts"):
        return output
    return replace(output, path=output.path[: -len(".ts")] + ".js", finish="strip_types")
