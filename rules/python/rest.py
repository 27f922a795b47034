"""python.rest: a FastAPI app with one ``POST /<function>`` route per function."""

from __future__ import annotations

from typing import Any

from apipack_build.rules import (
    Function,
    FunctionRequest,
    Output,
    Package,
    PackageRequest,
    Parameter,
    Rule,
    TypeRef,
)

from ._names import camel, local_name, module_name, unique_names
from ._types import annotation
from ._values import json_value, python_value
from .core import DEFAULT_PORT, expectation

#: the base64 type of the generated ``rest/types.py``
BASE64 = "Base64Bytes"
#: lowercase names a route module defines or imports itself
_ROUTE_MODULE_NAMES = ("annotations", "router")
_APP_MODULE_NAMES = ("annotations", "app", "create_app", "main", "os", "uvicorn")
_TEST_MODULE_NAMES = ("client", "test_rejects_invalid_input")
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


def function_outputs(request: FunctionRequest) -> list[Output]:
    package, function = request.package, request.function
    module = module_name(package)
    return [
        Output(
            f"src/{module}/rest/routes/{function.name}.py",
            "python/rest/route.py.j2",
            _route_context(package, function),
        ),
        Output(
            f"tests/test_rest_{function.name}.py",
            "python/rest/test_route.py.j2",
            _test_context(package, function),
        ),
    ]


def _route_context(package: Package, function: Function) -> dict[str, Any]:
    output = function.output_ref
    return {
        "source": package.source,
        "module": module_name(package),
        "function": function.name,
        "local": local_name(function.name, _ROUTE_MODULE_NAMES),
        "description": function.description,
        "request_model": f"{camel(function.name)}Request",
        "response_model": f"{camel(function.name)}Response",
        "fields": (fields := [_field(p) for p in function.parameters]),
        "uses_field": any(f["description"] or f["attribute"] != f["name"] for f in fields),
        "result_annotation": annotation(output, BASE64),
        "uses_base64": any("bytes" in p.type for p in function.parameters)
        or "bytes" in function.output_type,
        "examples": [
            {
                p.name: json_value(p.type_ref, example.input[p.name])
                for p in function.parameters
                if p.name in example.input
            }
            for example in function.examples
        ],
    }


def _field(param: Parameter) -> dict[str, Any]:
    shadows = param.name in _MODEL_ATTRIBUTES or param.name.startswith("model_")
    return {
        "name": param.name,
        "attribute": f"{param.name}_" if shadows else param.name,
        "annotation": annotation(param.type_ref, BASE64),
        "has_default": param.has_default,
        "default": python_value(param.type_ref, param.default) if param.has_default else None,
        "description": param.description,
    }


def _test_context(package: Package, function: Function) -> dict[str, Any]:
    tests = unique_names(
        (f"test_{example.name}" for example in function.examples), taken=_TEST_MODULE_NAMES
    )
    return {
        "source": package.source,
        "module": module_name(package),
        "function": function.name,
        "examples": [
            {
                "test": test,
                "body": {
                    p.name: json_value(p.type_ref, example.input[p.name])
                    for p in function.parameters
                    if p.name in example.input
                },
                **expectation(
                    function.output_ref, example.has_output, example.output, as_json=True
                ),
            }
            for test, example in zip(tests, function.examples, strict=True)
        ],
        "invalid_body": _invalid_body(function.parameters),
    }


def _invalid_body(params: tuple[Parameter, ...]) -> Any:
    """A request body that validation must reject: a wrongly typed first parameter, or a list."""
    if not params:
        return []
    return {params[0].name: _wrong_value(params[0].type_ref)}


def _wrong_value(ref: TypeRef) -> Any:
    scalar = ref.item if ref.kind == "optional" else ref
    # pydantic does not turn a number into a string, nor "not valid!" into anything else
    return 12345 if scalar.kind == "string" else "not valid!"


def package_outputs(request: PackageRequest) -> list[Output]:
    package = request.package
    module = module_name(package)
    names = [f.name for f in package.functions]
    source = package.source
    return [
        Output(
            f"src/{module}/rest/__init__.py",
            "python/rest/init.py.j2",
            {"source": source, "name": package.name},
        ),
        Output(
            f"src/{module}/rest/routes/__init__.py",
            "python/rest/routes_init.py.j2",
            {"source": source},
        ),
        Output(f"src/{module}/rest/types.py", "python/rest/types.py.j2", {"source": source}),
        Output(
            f"src/{module}/rest/app.py",
            "python/rest/app.py.j2",
            {
                "source": source,
                "module": module,
                "name": package.name,
                "description": package.description,
                "version": package.version,
                "port": int(request.settings.deployment.get("port", DEFAULT_PORT)),
                "routes": [
                    {"name": name, "local": local_name(name, _APP_MODULE_NAMES)} for name in names
                ],
            },
        ),
        Output(
            "tests/test_rest_health.py",
            "python/rest/test_health.py.j2",
            {
                "source": source,
                "module": module,
                "name": package.name,
                "version": package.version,
                "functions": names,
            },
        ),
    ]


RULE = Rule(
    name="python.rest",
    language="python",
    interface="rest",
    version="1",
    function_outputs=function_outputs,
    package_outputs=package_outputs,
)
