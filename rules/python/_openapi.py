"""The OpenAPI 3.1 document of a package's REST interface, built from the spec.

The generated app serves this document instead of FastAPI's: it is the contract (one file in
the package, reviewable in a diff), and it can say what FastAPI cannot infer from a route that
accepts both JSON and multipart bodies.
"""

from __future__ import annotations

from typing import Any

from apipack_build.rules import Function, Package, TypeRef

from . import _examples
from ._names import camel, unique_names
from ._values import json_value

ERROR_STATUSES = {
    "400": "The function cannot work with this input",
    "413": "The request body is too large",
    "415": "The body is neither JSON nor multipart form data",
    "422": "The request does not match the schema",
    "500": "The function failed",
}
_SCALARS: dict[str, dict[str, Any]] = {
    "string": {"type": "string"},
    "int": {"type": "integer"},
    "float": {"type": "number"},
    "bool": {"type": "boolean"},
    # "format" for tools that predate 3.1's "contentEncoding"
    "bytes": {"type": "string", "format": "byte", "contentEncoding": "base64"},
}


def schema(ref: TypeRef, multipart: bool = False) -> dict[str, Any]:
    """The JSON Schema of a spec type; in a multipart form, bytes are a file."""
    if ref.kind == "bytes" and multipart:
        return {"type": "string", "format": "binary"}
    if ref.kind in _SCALARS:
        return dict(_SCALARS[ref.kind])
    if ref.kind == "list":
        return {"type": "array", "items": schema(ref.item)}
    if ref.kind == "dict":
        return {"type": "object", "additionalProperties": schema(ref.item)}
    return {"anyOf": [schema(ref.item, multipart), {"type": "null"}]}  # optional


def takes_files(function: Function) -> bool:
    """Whether the function has a top-level bytes parameter, which a form can upload."""
    return any(file_parameter(p.type_ref) for p in function.parameters)


def file_parameter(ref: TypeRef) -> bool:
    return ref.kind == "bytes" or (ref.kind == "optional" and ref.item.kind == "bytes")


def document(package: Package) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    schemas: dict[str, Any] = {"Error": _error_schema()}
    for function in package.functions:
        name = camel(function.name)
        schemas[f"{name}Request"] = _request_schema(function)
        schemas[f"{name}Response"] = {
            "type": "object",
            "properties": {"result": schema(function.output_ref)},
            "required": ["result"],
            "additionalProperties": False,
        }
        if takes_files(function):
            schemas[f"{name}Form"] = _request_schema(function, multipart=True)
        paths[f"/{function.name}"] = {"post": _operation(function, name)}
    for path, summary in (
        ("/health", "Name, version and status of the service"),
        ("/health/live", "Liveness: the process serves requests"),
        ("/health/ready", "Readiness: the service can take traffic"),
    ):
        paths[path] = {"get": _health_operation(path, summary)}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": package.name,
            "version": package.version,
            "description": package.description,
        },
        "paths": paths,
        "components": {"schemas": schemas},
    }


def _request_schema(function: Function, multipart: bool = False) -> dict[str, Any]:
    properties = {}
    for p in function.parameters:
        prop = schema(p.type_ref, multipart)
        if p.description:
            prop["description"] = p.description
        if p.has_default:
            prop["default"] = json_value(p.type_ref, p.default)
        properties[p.name] = prop
    result: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
    }
    required = [p.name for p in function.parameters if p.required]
    if required:
        result["required"] = required
    return result


def _operation(function: Function, name: str) -> dict[str, Any]:
    content: dict[str, Any] = {
        "application/json": {"schema": {"$ref": f"#/components/schemas/{name}Request"}}
    }
    if function.examples:
        labels = unique_names(e.name or f"example_{i}" for i, e in enumerate(function.examples, 1))
        content["application/json"]["examples"] = {
            label: {"value": _examples.json_arguments(function, example.input)}
            for label, example in zip(labels, function.examples, strict=True)
        }
    if takes_files(function):
        content["multipart/form-data"] = {"schema": {"$ref": f"#/components/schemas/{name}Form"}}
    success: dict[str, Any] = {
        "application/json": {"schema": {"$ref": f"#/components/schemas/{name}Response"}}
    }
    if function.output_ref.kind == "bytes":
        # sent when the request's Accept header asks for it
        success["application/octet-stream"] = {"schema": {"type": "string", "format": "binary"}}
    operation: dict[str, Any] = {
        "operationId": function.name,
        "tags": ["functions"],
        "requestBody": {"required": True, "content": content},
        "responses": {
            "200": {"description": "The function's result", "content": success},
            **{status: _error_response(text) for status, text in ERROR_STATUSES.items()},
        },
    }
    if function.description:
        operation["summary"] = function.description.strip().splitlines()[0]
        operation["description"] = function.description
    return operation


def _health_operation(path: str, summary: str) -> dict[str, Any]:
    properties: dict[str, Any] = {"status": {"type": "string", "enum": ["ok"]}}
    if path == "/health":
        properties.update(name={"type": "string"}, version={"type": "string"})
    return {
        "operationId": path.strip("/").replace("/", "_"),
        "summary": summary,
        "tags": ["health"],
        "responses": {
            "200": {
                "description": summary,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "properties": properties,
                            "required": sorted(properties),
                        }
                    }
                },
            }
        },
    }


def _error_response(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def _error_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "error": {
                "type": "object",
                "properties": {
                    "code": {"type": "string"},
                    "message": {"type": "string"},
                    "details": {},
                },
                "required": ["code", "message", "details"],
            },
            "timestamp": {"type": "string", "format": "date-time"},
            "request_id": {"type": "string"},
        },
        "required": ["error", "timestamp", "request_id"],
    }
