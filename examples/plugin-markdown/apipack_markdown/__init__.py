"""Markdown documentation as an apipack target language.

``languages: [python, markdown]`` adds ``generated/markdown/<package>/``: an index, a page per
function, and a page per function for each interface (``rest``, ``cli``) the project builds.
Documentation runs nothing, so the language needs no implementation of the functions
(``needs_code=False``) and never asks an LLM for one.
"""

from __future__ import annotations

import json
from typing import Any

from apipack_build.rules import (
    Function,
    FunctionRequest,
    Language,
    Output,
    Package,
    PackageRequest,
    Rule,
)


def markdown_cell(value: object) -> str:
    """Text that stays inside one Markdown table cell."""
    return str(value).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


LANGUAGE = Language(
    name="markdown",
    reserved_words=frozenset(),
    filters={"markdown_cell": markdown_cell},
    needs_code=False,
)


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _function(package: Package, function: Function) -> dict[str, Any]:
    """What a page says about one function (and nothing else, so unrelated edits skip it)."""
    return {
        "source": package.source,
        "package": package.name,
        "name": function.name,
        "description": function.description,
        "output_type": function.output_type,
        "parameters": [
            {
                "name": p.name,
                "type": p.type,
                "required": p.required,
                "default": _json(p.default) if p.has_default else None,
                "description": p.description,
            }
            for p in function.parameters
        ],
        "examples": [
            {
                "input": _json(example.input),
                "output": _json(example.output) if example.has_output else None,
            }
            for example in function.examples
        ],
    }


def function_page(request: FunctionRequest) -> list[Output]:
    context = _function(request.package, request.function)
    return [Output(f"functions/{request.function.name}.md", "markdown/function.md.j2", context)]


def index_page(request: PackageRequest) -> list[Output]:
    package = request.package
    context = {
        "source": package.source,
        "package": package.name,
        "description": package.description,
        "version": package.version,
        "interfaces": list(request.interfaces),
        "functions": [{"name": f.name, "description": f.description} for f in package.functions],
    }
    return [Output("index.md", "markdown/index.md.j2", context)]


def rest_page(request: FunctionRequest) -> list[Output]:
    context = _function(request.package, request.function)
    return [Output(f"rest/{request.function.name}.md", "markdown/rest.md.j2", context)]


def cli_page(request: FunctionRequest) -> list[Output]:
    context = {
        **_function(request.package, request.function),
        "command": request.function.name.replace("_", "-"),
        "options": [
            {"flag": "--" + p.name.replace("_", "-"), "name": p.name, "required": p.required}
            for p in request.function.parameters
        ],
    }
    return [Output(f"cli/{request.function.name}.md", "markdown/cli.md.j2", context)]


RULES = [
    Rule("markdown.core", "markdown", None, "1", function_page, index_page),
    Rule("markdown.rest", "markdown", "rest", "1", rest_page),
    Rule("markdown.cli", "markdown", "cli", "1", cli_page),
]
