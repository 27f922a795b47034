"""Spec values (as loaded from YAML) in the forms generated code and tests need.

A ``bytes`` value may arrive as ``bytes`` or as ``str``, which means its UTF-8 text; a ``float``
may arrive as an ``int``. Each function here walks the value along its type.
"""

from __future__ import annotations

import base64
from typing import Any

from apipack_build.rules import TypeRef


def python_value(ref: TypeRef, value: Any) -> Any:
    """The value a Python caller passes or receives: bytes as ``bytes``, floats as ``float``."""
    if value is None:
        return None
    if ref.kind == "optional":
        return python_value(ref.item, value)
    if ref.kind == "bytes":
        return value.encode("utf-8") if isinstance(value, str) else bytes(value)
    if ref.kind == "float":
        return float(value)
    if ref.kind == "list":
        return [python_value(ref.item, item) for item in value]
    if ref.kind == "dict":
        return {key: python_value(ref.item, item) for key, item in value.items()}
    return value


def json_value(ref: TypeRef, value: Any) -> Any:
    """The value as it travels in JSON: bytes as base64 text."""
    value = python_value(ref, value)
    return _jsonable(value)


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, list):
        return [_jsonable(item) for item in value]
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    return value


def assertion(value: Any) -> str:
    """How a test compares a result with *value*: ``is`` (None, bools), ``approx`` or ``equal``.

    ``pytest.approx`` takes a number, or a flat list or dict of numbers; deeper floats are
    compared exactly (example floats are written with their exact repr).
    """
    if value is None or isinstance(value, bool):
        return "is"
    if _is_number(value) and isinstance(value, float):
        return "approx"
    if (
        isinstance(value, list)
        and value
        and all(_is_number(v) for v in value)
        and any(isinstance(v, float) for v in value)
    ):
        return "approx"
    if (
        isinstance(value, dict)
        and value
        and all(_is_number(v) for v in value.values())
        and any(isinstance(v, float) for v in value.values())
    ):
        return "approx"
    return "equal"


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
