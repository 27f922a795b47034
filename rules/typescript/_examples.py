"""The spec's examples as the JSON text the generated tests of every interface send and expect
(compact, UTF-8 kept), shared by the TypeScript rules."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from apipack_build.rules import Example, Function, FunctionRequest, Output

# one contract: the same JSON arguments and invalid input as the Python target's tests
from ..python._examples import invalid_arguments, json_arguments
from ..python._values import json_value
from ._checks import check_context

__all__ = ["compact", "example_tests", "expected", "invalid_arguments", "json_arguments"]


def compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def title(example: Example, index: int) -> str:
    return example.name or f"example {index}"


def expected(function: Function, example: Example) -> str:
    """The example's result as JSON text ('' when the example gives none)."""
    if not example.has_output:
        return ""
    return compact(json_value(function.output_ref, example.output))


def example_tests(
    request: FunctionRequest,
    interface: str,
    template: str,
    body: Callable[[str, dict[str, Any]], Any],
    invalid: Any,
    **context: Any,
) -> Output:
    """``test/<interface>_<function>.test.ts``: the function's examples sent over *interface*
    (each request made by *body*), and the *invalid* request it must refuse."""
    function = request.function
    return Output(
        f"test/{interface}_{function.name}.test.ts",
        f"typescript/{interface}/{template}",
        {
            "source": request.package.source,
            "function": function.name,
            "examples": _cases(function, body),
            "invalid": compact(invalid),
            **context,
        },
    )


def _cases(function: Function, body: Callable[[str, dict[str, Any]], Any]) -> list[dict[str, Any]]:
    """Each example as a generated test sends it: a title, an id, the request *body* makes of
    the id and the example's input (as compact JSON), and the result expected."""
    return [
        {
            "title": title(example, index),
            "id": f"example-{index}",
            "body": compact(body(f"example-{index}", example.input)),
            "has_output": example.has_output,
            "expected": expected(function, example),
            **check_context(function.output_ref, example, as_json=True),
        }
        for index, example in enumerate(function.examples, 1)
    ]
