"""python.rest: one ``POST /<function>`` route per function (JSON, or multipart when it takes
bytes), mounted on the shared service app, and the OpenAPI document that describes them."""

from __future__ import annotations

import json
from typing import Any

from apipack_build.rules import (
    Function,
    FunctionRequest,
    Output,
    Package,
    PackageRequest,
    Rule,
    TypeRef,
)

from . import _examples, _models, _openapi
from ._names import camel, local_name, module_name, unique_names
from ._types import annotation
from ._values import json_value, python_value
from .core import compared, expectation, reference_context

#: lowercase names a route module defines or imports itself
_ROUTE_MODULE_NAMES = (
    "annotations",
    "call",
    "negotiate",
    "read_form",
    "read_json",
    "respond",
    "router",
    "run_in_threadpool",
)
_INIT_MODULE_NAMES = ("annotations", "router")
_TEST_MODULE_NAMES = (
    "client",
    "test_answers_valid_input",
    "test_rejects_invalid_input",
    "base64",
    "pytest",
)
_INTEGRATION_MODULE_NAMES = ("test_health", "server", "free_port")
#: names a locust user class defines itself
_LOAD_MODULE_NAMES = ("client", "host", "wait_time", "tasks", "environment", "on_start", "on_stop")


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
        "fields": (fields := [_models.field(p) for p in function.parameters]),
        "uses_field": any(f["description"] or f["attribute"] != f["name"] for f in fields),
        "result_annotation": annotation(output, _models.BASE64),
        "types": _models.types_used(function),
        "offers": _openapi.success_media_types(function),
        "files": [p.name for p in function.parameters if _openapi.file_parameter(p.type_ref)],
        "flags": [p.name for p in function.parameters if _flag(p.type_ref)],
        # form fields other than text, flags and files hold JSON text: numbers, lists, dicts
        "json_fields": [p.name for p in function.parameters if _json_field(p.type_ref)],
        "examples": [_examples.json_arguments(function, e.input) for e in function.examples],
    }


def _test_context(package: Package, function: Function) -> dict[str, Any]:
    return {
        "source": package.source,
        "module": module_name(package),
        "function": function.name,
        "examples": [
            {
                "test": test,
                "body": _examples.json_arguments(function, example.input),
                **compared(function, example, as_json=True),
            }
            for test, example in _examples.named(function, _TEST_MODULE_NAMES)
        ],
        "invalid_body": _examples.invalid_arguments(function.parameters),
        "upload": _upload(function),
        **reference_context(function, "rest", _TEST_MODULE_NAMES, as_json=True),
    }


def _integration_context(package: Package) -> dict[str, Any]:
    """Every example of every function, called on the running service."""
    calls = [(f, e) for f in package.functions for e in f.examples]
    tests = unique_names(
        (f"test_{f.name}_{e.name}" for f, e in calls), taken=_INTEGRATION_MODULE_NAMES
    )
    return {
        "source": package.source,
        "module": module_name(package),
        "examples": [
            {
                "test": test,
                "path": f"/{function.name}",
                "body": _examples.json_arguments(function, example.input),
                **expectation(function.output_ref, example, as_json=True),
            }
            for test, (function, example) in zip(tests, calls, strict=True)
        ],
    }


def _json_field(ref: TypeRef) -> bool:
    scalar = ref.item if ref.kind == "optional" else ref
    return scalar.kind not in ("string", "bytes", "bool")


def _flag(ref: TypeRef) -> bool:
    return (ref.item if ref.kind == "optional" else ref).kind == "bool"


def _upload(function: Function) -> dict[str, Any] | None:
    """A multipart request made from the first example, for a function that takes files."""
    if not _openapi.takes_files(function) or not function.examples:
        return None
    example = function.examples[0]
    files, fields = {}, {}
    for p in function.parameters:
        if p.name not in example.input or example.input[p.name] is None:
            continue
        value = python_value(p.type_ref, example.input[p.name])
        if _openapi.file_parameter(p.type_ref):
            files[p.name] = value
        elif _flag(p.type_ref):
            fields[p.name] = "True" if value else "False"  # as Python clients send them
        elif _json_field(p.type_ref):
            fields[p.name] = json.dumps(json_value(p.type_ref, value), ensure_ascii=False)
        else:
            fields[p.name] = value
    if not files:  # the example gives no bytes: a form would hold no file
        return None
    return {
        "files": files,
        "fields": fields,
        **compared(function, example, as_json=True),
    }


def package_outputs(request: PackageRequest) -> list[Output]:
    package = request.package
    module = module_name(package)
    names = [f.name for f in package.functions]
    source = package.source
    return [
        Output(
            f"src/{module}/rest/__init__.py",
            "python/rest/init.py.j2",
            {
                "source": source,
                "module": module,
                "name": package.name,
                "routes": [
                    {"name": name, "local": local_name(name, _INIT_MODULE_NAMES)} for name in names
                ],
            },
        ),
        Output(
            f"src/{module}/rest/routes/__init__.py",
            "python/rest/routes_init.py.j2",
            {"source": source},
        ),
        Output(f"src/{module}/rest/types.py", "python/rest/types.py.j2", {"source": source}),
        Output(
            f"src/{module}/rest/body.py",
            "python/rest/body.py.j2",
            {"source": source, "module": module},
        ),
        Output(
            f"src/{module}/rest/openapi.json",
            "python/rest/openapi.json.j2",
            {"document": _openapi.document(package)},
        ),
        Output(
            "tests/integration/test_rest_server.py",
            "python/rest/test_server.py.j2",
            _integration_context(package),
        ),
        Output(
            "tests/load/locustfile.py",
            "python/rest/locustfile.py.j2",
            {
                "source": source,
                "name": package.name,
                "user": f"{camel(package.name.replace('-', '_'))}User",
                "tasks": [
                    {
                        "name": local_name(f.name, _LOAD_MODULE_NAMES),
                        "path": f"/{f.name}",
                        "body": _examples.sample_arguments(f),
                    }
                    for f in package.functions
                ],
            },
        ),
        Output(
            "tests/test_rest_service.py",
            "python/rest/test_service.py.j2",
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
    version="2",
    function_outputs=function_outputs,
    package_outputs=package_outputs,
)
