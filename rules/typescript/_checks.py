"""A spec example's ``check:`` as the TypeScript object that ``assertCheck`` of the generated
``test/assert.ts`` reads: what each key means is written once there, how a check's values read
against the result's type once for every language (:func:`check_values`)."""

from __future__ import annotations

import json
from typing import Any

from apipack_build.rules import Example, TypeRef

from ..python._checks import check_values, result_kind
from ._filters import ts_string


def check_context(ref: TypeRef, example: Example, as_json: bool) -> dict[str, Any]:
    """``check``: the object literal ("" without a check); ``decode``: the result is bytes as
    base64 text, to decode before checking."""
    values = check_values(ref, example.check)
    items = ", ".join(f"{key}: {_literal(value)}" for key, value in values.items())
    return {
        "check": f"{{ {items} }}" if items else "",
        "decode": as_json and result_kind(ref) == "bytes",
    }


def _literal(value: Any) -> str:
    if isinstance(value, bytes):
        return f"new Uint8Array([{', '.join(str(b) for b in value)}])"
    if isinstance(value, str):
        return ts_string(value)
    return json.dumps(value)  # a number: a length, a bound
