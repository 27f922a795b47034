"""typescript.cli: a commander program with one command per function, driven by the same
function table (``src/calls.ts``) as every interface."""

from __future__ import annotations

import json
from typing import Any

from apipack_build.rules import Example, Function, FunctionRequest, Output, PackageRequest, Rule

from ..python._values import json_value
from ._checks import check_context
from ._cli_args import argv, option_string, style
from ._filters import ts_string
from ._names import command_name


def function_outputs(request: FunctionRequest) -> list[Output]:
    package, function = request.package, request.function
    invalid = [ts_string(_invalid_option(function))]
    examples = [_example(function, i, e) for i, e in enumerate(function.examples, 1)]
    return [
        Output(
            f"test/cli_{function.name}.test.ts",
            "typescript/cli/test_command.ts.j2",
            {
                "source": package.source,
                "command": command_name(function.name),
                "examples": examples,
                "invalid": invalid,
                # the file(name, bytes) helper, only where an example passes a file
                "files": any("${file(" in word for e in examples for word in e["argv"]),
            },
        )
    ]


def _invalid_option(function: Function) -> str:
    """An option the command must reject: a number or JSON option given text that is neither
    (any text is a valid string, and a flag or file takes no such value), else an unknown one."""
    for param in function.parameters:
        if style(param) in ("number", "json"):
            return f"{option_string(param.name)}=not valid!"
    return "--no-such-option"


def _example(function: Function, index: int, example: Example) -> dict[str, Any]:
    expected = json_value(function.output_ref, example.output) if example.has_output else None
    return {
        "title": example.name or f"example {index}",
        "argv": argv(function, example.input, f"example{index}"),
        "has_output": example.has_output,
        "expected": json.dumps(expected, ensure_ascii=False, separators=(",", ":")),
        **check_context(function.output_ref, example, as_json=True),
    }


def package_outputs(request: PackageRequest) -> list[Output]:
    package = request.package
    return [
        Output(
            "src/cli/main.ts",
            "typescript/cli/main.ts.j2",
            {
                "source": package.source,
                "name": package.name,
                "description": " ".join(package.description.split()),
            },
        )
    ]


RULE = Rule(
    name="typescript.cli",
    language="typescript",
    interface="cli",
    version="1",
    function_outputs=function_outputs,
    package_outputs=package_outputs,
)
