"""python.websocket: one endpoint, ``/ws``, speaking JSON messages ``{"type", "id", "data"}``.

A request's type is a function's name and its data the function's arguments; the reply is
``<function>.result`` with ``{"result": ...}`` and the request's id. ``ping`` gets ``pong``.
Errors are ``{"type": "error", "id", "data": {"code", "message"}}`` and leave the connection
open. The protocol itself lives in the generated ``websocket/protocol.py``.
"""

from __future__ import annotations

from typing import Any

from apipack_build.rules import (
    Function,
    FunctionRequest,
    Output,
    Package,
    PackageRequest,
    Rule,
)

from . import (  # as a module: core imports the README rule, which imports this one
    _examples,
    _models,
    core,
)
from ._names import camel, local_name, module_name
from ._types import annotation

#: lowercase names a handler module defines or imports itself
_HANDLER_MODULE_NAMES = ("annotations", "call", "handle", "partial", "run_in_threadpool")
_TEST_MODULE_NAMES = (
    "client",
    "pytest",
    "request",
    "test_answers_valid_input",
    "test_rejects_invalid_input",
)


def function_outputs(request: FunctionRequest) -> list[Output]:
    package, function = request.package, request.function
    module = module_name(package)
    return [
        Output(
            f"src/{module}/websocket/handlers/{function.name}.py",
            "python/websocket/handler.py.j2",
            _handler_context(package, function),
        ),
        Output(
            f"tests/test_websocket_{function.name}.py",
            "python/websocket/test_handler.py.j2",
            _test_context(package, function),
        ),
    ]


def _handler_context(package: Package, function: Function) -> dict[str, Any]:
    output = function.output_ref
    fields = [_models.field(p) for p in function.parameters]
    return {
        "source": package.source,
        "module": module_name(package),
        "function": function.name,
        "local": local_name(function.name, _HANDLER_MODULE_NAMES),
        "description": function.description,
        "data_model": f"{camel(function.name)}Data",
        "result_model": f"{camel(function.name)}Result",
        "fields": fields,
        "uses_field": any(f["attribute"] != f["name"] for f in fields),
        "result_annotation": annotation(output, _models.BASE64),
        "types": _models.types_used(function),
    }


def _test_context(package: Package, function: Function) -> dict[str, Any]:
    return {
        "source": package.source,
        "module": module_name(package),
        "function": function.name,
        "examples": [
            {
                "test": test,
                "id": test,
                "data": _examples.json_arguments(function, example.input),
                **core.compared(function, example, as_json=True),
            }
            for test, example in _examples.named(function, _TEST_MODULE_NAMES)
        ],
        "invalid_data": _examples.invalid_arguments(function.parameters),
        **core.reference_context(function, "websocket", _TEST_MODULE_NAMES, as_json=True),
    }


def package_outputs(request: PackageRequest) -> list[Output]:
    package = request.package
    module = module_name(package)
    source = package.source
    names = [f.name for f in package.functions]
    return [
        Output(
            f"src/{module}/websocket/__init__.py",
            "python/websocket/init.py.j2",
            {"source": source, "module": module, "name": package.name},
        ),
        Output(
            f"src/{module}/websocket/protocol.py",
            "python/websocket/protocol.py.j2",
            {"source": source, "module": module},
        ),
        Output(
            f"src/{module}/websocket/handlers/__init__.py",
            "python/websocket/handlers_init.py.j2",
            {
                "source": source,
                "module": module,
                "handlers": [{"name": name, "local": f"_{name}"} for name in names],
            },
        ),
        Output(
            f"src/{module}/websocket/types.py", "python/websocket/types.py.j2", {"source": source}
        ),
        Output(
            "tests/test_websocket_protocol.py",
            "python/websocket/test_protocol.py.j2",
            {"source": source, "module": module},
        ),
    ]


RULE = Rule(
    name="python.websocket",
    language="python",
    interface="websocket",
    version="1",
    function_outputs=function_outputs,
    package_outputs=package_outputs,
)
