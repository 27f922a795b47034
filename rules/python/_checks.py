"""A spec example's ``check:`` as Python assertions over a result; :func:`check_values`, how a
check's values read against the result's type, is shared with the other languages."""

from __future__ import annotations

from typing import Any

from apipack_build.rules import TypeRef

from ._filters import py_literal

#: each check key as an expression over the result (``subject``) and its literal (``value``)
_EXPRESSIONS = {
    "contains": "{value} in {subject}",
    "ends_with": "{subject}.endswith({value})",
    "max": "{subject} <= {value}",
    "max_length": "len({subject}) <= {value}",
    "min": "{subject} >= {value}",
    "min_length": "len({subject}) >= {value}",
    "starts_with": "{subject}.startswith({value})",
}


def result_kind(ref: TypeRef) -> str:
    """The kind of a result that is there (a check says nothing of a null one)."""
    return ref.item.kind if ref.kind == "optional" else ref.kind


def check_values(ref: TypeRef, check: dict[str, Any]) -> dict[str, Any]:
    """*check* by key, sorted, with a text value against a bytes result as bytes (Latin-1: one
    character, one byte)."""
    as_bytes = result_kind(ref) == "bytes"
    return {
        key: value.encode("latin-1") if as_bytes and isinstance(value, str) else value
        for key, value in sorted(check.items())
    }


def check_expressions(ref: TypeRef, check: dict[str, Any], name: str, as_json: bool) -> list[str]:
    """One boolean expression per key of *check* over the result in *name*; with *as_json*,
    a bytes result is its base64 text, decoded here (the module must ``import base64``)."""
    subject = f"base64.b64decode({name})" if needs_base64(ref, check, as_json) else name
    found = [
        _EXPRESSIONS[key].format(subject=subject, value=py_literal(value))
        for key, value in check_values(ref, check).items()
    ]
    if ref.kind == "optional":  # a check speaks of a result that is there
        return [f"{name} is None or {expression}" for expression in found]
    return found


def needs_base64(ref: TypeRef, check: dict[str, Any], as_json: bool) -> bool:
    return bool(check) and result_kind(ref) == "bytes" and as_json
