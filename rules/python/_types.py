"""Spec types as Python: annotations, runtime checks, and the shape of values in tests."""

from __future__ import annotations

from apipack_build.rules import TypeRef, parse_type

_SCALARS = {"string": "str", "int": "int", "float": "float", "bool": "bool", "bytes": "bytes"}


def annotation(ref: TypeRef, bytes_type: str = "bytes", int_type: str = "int") -> str:
    """The Python annotation of *ref*; *bytes_type* replaces ``bytes`` (e.g. a base64 type),
    *int_type* replaces ``int`` (e.g. a type bound to 64 bits)."""
    if ref.kind in _SCALARS:
        return {"bytes": bytes_type, "int": int_type}.get(ref.kind, _SCALARS[ref.kind])
    if ref.kind == "list":
        return f"list[{annotation(ref.item, bytes_type, int_type)}]"
    if ref.kind == "dict":
        return f"dict[str, {annotation(ref.item, bytes_type, int_type)}]"
    return f"{annotation(ref.item, bytes_type, int_type)} | None"  # optional


def annotation_of(type_text: str, bytes_type: str = "bytes") -> str:
    return annotation(parse_type(type_text), bytes_type)


def contains(ref: TypeRef, kind: str) -> bool:
    return ref.kind == kind or any(contains(arg, kind) for arg in ref.args)


def type_check(ref: TypeRef, name: str, as_json: bool = False) -> str:
    """A Python expression that is true when the value in *name* has the outer shape of *ref*.

    With *as_json*, the value is the JSON form (bytes travel as base64 text).
    """
    if ref.kind == "optional":
        return f"{name} is None or {type_check(ref.item, name, as_json)}"
    classes = {
        "string": "str",
        "int": "int",
        "float": "(int, float)",
        "bool": "bool",
        "bytes": "str" if as_json else "bytes",
        "list": "list",
        "dict": "dict",
    }
    return f"isinstance({name}, {classes[ref.kind]})"
