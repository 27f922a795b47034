"""The spec's examples as the JSON text the generated tests of every interface send and expect
(compact, UTF-8 kept), shared by the TypeScript rules."""

from __future__ import annotations

import json
from typing import Any

from apipack_build.rules import Example, Function

# one contract: the same JSON arguments and invalid input as the Python target's tests
from ..python._examples import invalid_arguments, json_arguments
from ..python._values import json_value

__all__ = ["compact", "expected", "invalid_arguments", "json_arguments", "title"]


def compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def title(example: Example, index: int) -> str:
    return example.name or f"example {index}"


def expected(function: Function, example: Example) -> str:
    """The example's result as JSON text ('' when the example gives none)."""
    if not example.has_output:
        return ""
    return compact(json_value(function.output_ref, example.output))
