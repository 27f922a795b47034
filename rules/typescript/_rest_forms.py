"""How ``POST /<fn>/upload`` reads each form field, as the Python service does: used by the
REST rule's tests and by the service's app."""

from __future__ import annotations

from apipack_build.rules import Function, TypeRef

from ..python import _openapi


def form(function: Function) -> dict[str, list[str]]:
    """How ``POST /<fn>/upload`` reads each field, as the Python service does."""

    def scalar(ref: TypeRef) -> str:
        return (ref.item if ref.kind == "optional" else ref).kind

    params = function.parameters
    return {
        "files": [p.name for p in params if _openapi.file_parameter(p.type_ref)],
        "flags": [p.name for p in params if scalar(p.type_ref) == "bool"],
        "json": [p.name for p in params if scalar(p.type_ref) not in ("string", "bytes", "bool")],
    }
