"""Spec types in TypeScript: the annotation a function is written with, and the descriptor the
generated runtime validates against.

``int`` is ``bigint``: the contract is signed 64 bits, which a ``number`` cannot hold beyond
2^53 (protobuf-es maps int64 the same way). ``bytes`` is ``Uint8Array`` (base64 in JSON).
"""

from __future__ import annotations

from typing import Any

from apipack_build.rules import TypeRef

from ._filters import ts_string
from ._layout import Doc, array, call, flat, obj, prop

_SCALARS = {
    "string": "string",
    "int": "bigint",
    "float": "number",
    "bool": "boolean",
    "bytes": "Uint8Array",
}


def annotation(ref: TypeRef) -> str:
    if ref.kind in _SCALARS:
        return _SCALARS[ref.kind]
    if ref.kind == "list":
        inner = annotation(ref.item)
        return f"({inner})[]" if ref.item.kind == "optional" else f"{inner}[]"
    if ref.kind == "dict":
        return f"Record<string, {annotation(ref.item)}>"
    return f"{annotation(ref.item)} | null"


def descriptor(ref: TypeRef) -> str:
    """A ``Type`` value of the generated ``types.ts``, as TypeScript source on one line."""
    return flat(descriptor_doc(ref))


def descriptor_doc(ref: TypeRef) -> Doc:
    kind = prop("kind", f'"{ref.kind}"')
    if ref.kind in _SCALARS:
        return obj([kind])
    return obj([kind, prop("item", descriptor_doc(ref.item))])


def literal(ref: TypeRef, value: Any) -> str:
    """A spec value (as in YAML: bytes as text) as a TypeScript expression of type *ref*, on
    one line."""
    return flat(literal_doc(ref, value))


def literal_doc(ref: TypeRef, value: Any) -> Doc:
    if value is None:
        return "null"
    if ref.kind == "optional":
        return literal_doc(ref.item, value)
    if ref.kind == "string":
        return ts_string(value)
    if ref.kind == "int":
        return f"{int(value)}n"
    if ref.kind == "float":
        return _float(float(value))
    if ref.kind == "bool":
        return "true" if value else "false"
    if ref.kind == "bytes":
        data = value.encode("utf-8") if isinstance(value, str) else bytes(value)
        return call("new Uint8Array", [array([str(b) for b in data])])
    if ref.kind == "list":
        return array([literal_doc(ref.item, v) for v in value])
    return obj([prop(k, literal_doc(ref.item, v)) for k, v in sorted(value.items())])


def _float(value: float) -> str:
    text = repr(value)
    return text[:-2] if text.endswith(".0") else text
