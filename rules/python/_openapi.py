"""The OpenAPI 3.1 document of a package's REST interface, built from the spec.

The generated app serves this document instead of FastAPI's: it is the contract (one file in
the package, reviewable in a diff), written so that client generators (openapi-generator's
``python`` and ``typescript-fetch``, openapi-python-client) turn it into clients that work
unedited. So every operation has exactly one request media type: ``POST /<fn>`` takes JSON
(bytes as base64 text); a function with bytes parameters also has ``POST /<fn>/upload``, which
takes the same arguments as a multipart form (bytes as files). A bytes result is JSON too, or
``application/octet-stream`` when ``Accept`` prefers it.
"""

from __future__ import annotations

from typing import Any

from apipack_build.rules import Function, Package, TypeRef

from . import _examples
from ._names import camel, unique_names
from ._values import json_value

JSON = "application/json"
OCTET_STREAM = "application/octet-stream"
MULTIPART = "multipart/form-data"
#: the range of ``int`` on every interface
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
ERROR_STATUSES = {
    "400": "The function cannot work with this input",
    "406": "The response can be none of the media types the request accepts",
    "413": "The request body is too large",
    "415": "The body is neither JSON nor multipart form data",
    "422": "The request does not match the schema",
    "500": "The function failed",
}
_SCALARS: dict[str, dict[str, Any]] = {
    "string": {"type": "string"},
    "int": {"type": "integer", "format": "int64", "minimum": INT64_MIN, "maximum": INT64_MAX},
    "float": {"type": "number", "format": "double"},
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
    if multipart:  # a form leaves an optional field out rather than sending null
        return schema(ref.item, multipart)
    return {"anyOf": [schema(ref.item), {"type": "null"}]}  # optional


def takes_files(function: Function) -> bool:
    """Whether the function has a top-level bytes parameter, which a form can upload."""
    return any(file_parameter(p.type_ref) for p in function.parameters)


def file_parameter(ref: TypeRef) -> bool:
    return ref.kind == "bytes" or (ref.kind == "optional" and ref.item.kind == "bytes")


def success_media_types(function: Function) -> list[str]:
    """What ``POST /<fn>`` answers, the preferred first: JSON, and raw bytes for a bytes result."""
    return [JSON, OCTET_STREAM] if function.output_ref.kind == "bytes" else [JSON]


def document(package: Package) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    schemas: dict[str, Any] = {**_error_schemas(), **_health_schemas()}
    names = [f.name for f in package.functions]
    upload_ids = dict(zip(names, unique_names((f"{n}_upload" for n in names), names), strict=True))
    for function in package.functions:
        name = camel(function.name)
        schemas[f"{name}Request"] = _request_schema(function)
        schemas[f"{name}Response"] = {
            "type": "object",
            "properties": {"result": schema(function.output_ref)},
            "required": ["result"],
            "additionalProperties": False,
        }
        paths[f"/{function.name}"] = {"post": _operation(function, name)}
        if takes_files(function):
            schemas[f"{name}Form"] = _request_schema(function, multipart=True)
            paths[f"/{function.name}/upload"] = {
                "post": _upload_operation(function, name, upload_ids[function.name])
            }
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
    body: dict[str, Any] = {"schema": {"$ref": f"#/components/schemas/{name}Request"}}
    if function.examples:
        labels = unique_names(e.name or f"example_{i}" for i, e in enumerate(function.examples, 1))
        body["examples"] = {
            label: {"value": _examples.json_arguments(function, example.input)}
            for label, example in zip(labels, function.examples, strict=True)
        }
    operation = _function_operation(function, name, function.name, {JSON: body})
    if function.description:
        operation["summary"] = function.description.strip().splitlines()[0]
        operation["description"] = function.description
    return operation


def _upload_operation(function: Function, name: str, operation_id: str) -> dict[str, Any]:
    body = {"schema": {"$ref": f"#/components/schemas/{name}Form"}}
    operation = _function_operation(function, name, operation_id, {MULTIPART: body})
    operation["summary"] = f"{function.name}, its bytes uploaded as files of a form"
    operation["description"] = (
        f"The same as POST /{function.name}, its arguments given as multipart form fields: "
        "bytes as files (or text, as UTF-8), flags as true or false, numbers, lists and "
        "dicts as JSON text; an optional argument is left out to mean null."
    )
    return operation


def _function_operation(
    function: Function, name: str, operation_id: str, content: dict[str, Any]
) -> dict[str, Any]:
    success: dict[str, Any] = {JSON: {"schema": {"$ref": f"#/components/schemas/{name}Response"}}}
    if OCTET_STREAM in success_media_types(function):
        # sent when the request's Accept header prefers it
        success[OCTET_STREAM] = {"schema": {"type": "string", "format": "binary"}}
    return {
        "operationId": operation_id,
        "tags": ["functions"],
        "requestBody": {"required": True, "content": content},
        "responses": {
            "200": {"description": "The function's result", "content": success},
            **{status: _error_response(text) for status, text in ERROR_STATUSES.items()},
        },
    }


def _health_operation(path: str, summary: str) -> dict[str, Any]:
    name = "Health" if path == "/health" else "Status"
    return {
        "operationId": path.strip("/").replace("/", "_"),
        "summary": summary,
        "tags": ["health"],
        "responses": {
            "200": {
                "description": summary,
                "content": {JSON: {"schema": {"$ref": f"#/components/schemas/{name}"}}},
            }
        },
    }


def _health_schemas() -> dict[str, Any]:
    status = {"status": {"type": "string", "enum": ["ok"]}}
    health = {**status, "name": {"type": "string"}, "version": {"type": "string"}}
    return {
        name: {"type": "object", "properties": properties, "required": sorted(properties)}
        for name, properties in (("Health", health), ("Status", status))
    }


def _error_response(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {JSON: {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def _error_schemas() -> dict[str, Any]:
    """The error envelope, ``Error``, and the ``ErrorDetail`` inside it (named, so that client
    generators need not make up a name)."""
    return {
        "Error": {
            "type": "object",
            "properties": {
                "error": {"$ref": "#/components/schemas/ErrorDetail"},
                "timestamp": {"type": "string", "format": "date-time"},
                "request_id": {"type": "string"},
            },
            "required": ["error", "timestamp", "request_id"],
        },
        "ErrorDetail": {
            "type": "object",
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "details": {},
            },
            "required": ["code", "message", "details"],
        },
    }
