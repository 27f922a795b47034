"""Request models in generated code (pydantic): one field per parameter."""

from __future__ import annotations

from typing import Any

from apipack_build.rules import Function, Parameter

from ._types import annotation, contains
from ._values import python_value

#: the base64 type of the generated ``types.py`` modules
BASE64 = "Base64Bytes"
#: the signed 64-bit integer type of the same modules
INT64 = "Int64"
#: attributes of pydantic's BaseModel that a field must not shadow
_MODEL_ATTRIBUTES = frozenset(
    {
        "construct",
        "copy",
        "dict",
        "from_orm",
        "json",
        "parse_file",
        "parse_obj",
        "parse_raw",
        "schema",
        "schema_json",
        "update_forward_refs",
        "validate",
    }
)


def field(param: Parameter) -> dict[str, Any]:
    """A model field: ``attribute`` is the parameter's name, with ``_`` added where it would
    shadow pydantic (the JSON name stays the parameter's, through an alias)."""
    shadows = param.name in _MODEL_ATTRIBUTES or param.name.startswith("model_")
    return {
        "name": param.name,
        "attribute": f"{param.name}_" if shadows else param.name,
        "annotation": annotation(param.type_ref, BASE64, INT64),
        "has_default": param.has_default,
        "default": python_value(param.type_ref, param.default) if param.has_default else None,
        "description": param.description,
    }


def types_used(function: Function) -> list[str]:
    """The names a module of *function*'s models imports from its ``types`` module."""
    refs = [p.type_ref for p in function.parameters]
    uses_bytes = any(contains(ref, "bytes") for ref in [*refs, function.output_ref])
    uses_int = any(contains(ref, "int") for ref in refs)
    return [name for name, used in ((BASE64, uses_bytes), (INT64, uses_int)) if used]
