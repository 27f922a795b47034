"""What generated tests make of a spec's examples, for every interface: test names, arguments as
JSON, and values that validation must reject."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from apipack_build.rules import Example, Function, Parameter, TypeRef

from ._names import unique_names
from ._values import json_value, python_value


def named(function: Function, taken: Iterable[str] = ()) -> list[tuple[str, Example]]:
    """Each example with a unique test function name, ``test_<example>``."""
    tests = unique_names((f"test_{e.name}" for e in function.examples), taken=taken)
    return list(zip(tests, function.examples, strict=True))


def json_arguments(function: Function, values: dict[str, Any]) -> dict[str, Any]:
    """The arguments among *values* as they travel in JSON (bytes as base64), in spec order."""
    return {
        p.name: json_value(p.type_ref, values[p.name])
        for p in function.parameters
        if p.name in values
    }


def python_arguments(function: Function, values: dict[str, Any]) -> dict[str, Any]:
    """The arguments among *values* as a Python caller passes them (bytes as bytes)."""
    return {
        p.name: python_value(p.type_ref, values[p.name])
        for p in function.parameters
        if p.name in values
    }


def invalid_arguments(params: tuple[Parameter, ...]) -> Any:
    """Arguments validation must reject: a wrongly typed first one, or a list for no object."""
    if not params:
        return []
    return {params[0].name: wrong_value(params[0].type_ref)}


def wrong_value(ref: TypeRef) -> Any:
    """A value no argument of type *ref* accepts, under strict validation. GraphQL reads one
    value as a list of one, so the value is wrong for the innermost type: a number for a
    string, else a text that is no number, flag or base64."""
    while ref.kind in ("list", "optional"):
        ref = ref.item
    return 12345 if ref.kind == "string" else "not valid!"


_SAMPLES: dict[str, Any] = {"string": "", "int": 0, "float": 0.0, "bool": False, "bytes": ""}


def sample_arguments(function: Function) -> dict[str, Any]:
    """JSON arguments for a call that needs no particular result (a load test): the first
    example's, else the simplest value of each required parameter's type."""
    if function.examples:
        return json_arguments(function, function.examples[0].input)
    return {p.name: _sample(p.type_ref) for p in function.parameters if p.required}


def _sample(ref: TypeRef) -> Any:
    if ref.kind in _SAMPLES:
        return _SAMPLES[ref.kind]
    return {"list": [], "dict": {}}.get(ref.kind)
