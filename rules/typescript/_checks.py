"""A spec example's ``check:`` as the TypeScript object that ``assertCheck`` of the generated
``test/assert.ts`` reads: what each key means is written once there, how a check's values read
against the result's type once for every language (:func:`check_values`)."""

from __future__ import annotations

import json
from typing import Any

from apipack_build.rules import Example, TypeRef

from ..python._checks import check_values, result_kind
from ._filters import ts_string
from ._layout import Expr, expr_doc, flat


def check_context(ref: TypeRef, example: Example, as_json: bool) -> dict[str, Any]:
    """``check``: the object literal on one line ("" without a check); ``decode``: the result is
    bytes as base64 text, to decode before checking."""
    expr = check_expr(ref, example)
    return {
        "check": flat(expr_doc(expr)) if expr else "",
        # the check as an expression to lay out (``ts_statement``), and its assertion's arguments
        "check_expr": expr,
        "check_tail": [expr, '"base64"'] if as_json and result_kind(ref) == "bytes" else [expr],
        "decode": as_json and result_kind(ref) == "bytes",
    }


def check_expr(ref: TypeRef, example: Example) -> Expr:
    """The check as an object literal ("" without a check)."""
    values = check_values(ref, example.check)
    return ["obj", [[key, _literal(value)] for key, value in values.items()]] if values else ""


def _literal(value: Any) -> Expr:
    if isinstance(value, bytes):
        return ["call", "new Uint8Array", [["arr", [str(b) for b in value]]]]
    if isinstance(value, str):
        return ts_string(value)
    return json.dumps(value)  # a number: a length, a bound
