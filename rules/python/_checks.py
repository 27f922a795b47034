"""A spec example's ``check:`` as Python assertions over a result."""

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


def check_expressions(ref: TypeRef, check: dict[str, Any], name: str, as_json: bool) -> list[str]:
    """One boolean expression per key of *check* over the result in *name*; with *as_json*,
    a bytes result is its base64 text, decoded here (the module must ``import base64``)."""
    optional = ref.kind == "optional"
    kind = ref.item.kind if optional else ref.kind
    subject = f"base64.b64decode({name})" if kind == "bytes" and as_json else name

    def text(value: str) -> str:
        return py_literal(value.encode("latin-1") if kind == "bytes" else value)

    shown = {
        key: text(value) if isinstance(value, str) else py_literal(value)
        for key, value in check.items()
    }
    found = [_EXPRESSIONS[key].format(subject=subject, value=shown[key]) for key in sorted(check)]
    if optional:  # a check speaks of a result that is there
        return [f"{name} is None or {expression}" for expression in found]
    return found


def needs_base64(ref: TypeRef, check: dict[str, Any], as_json: bool) -> bool:
    kind = ref.item.kind if ref.kind == "optional" else ref.kind
    return bool(check) and kind == "bytes" and as_json
