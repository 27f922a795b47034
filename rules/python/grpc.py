"""python.grpc: a ``.proto`` from the spec, its stubs compiled by protoc at build time, a server.

The proto (see ``_proto`` for the type mapping) has one service with one rpc per function, in
the versioned package ``<module>.v1``; the file sits at the matching path ``<module>/v1/`` under
``src/``, which ``buf.yaml`` names as the module root, so ``buf lint`` (STANDARD) passes and the
stubs import as ``<module>.v1.<module>_pb2``. The
``_pb2`` files are rendered by templates that include the proto template with the same context
and pipe it through the ``protoc`` filter; the grpcio-tools version is in that context.
"""

from __future__ import annotations

import functools
import json
from typing import Any

from apipack_build.rules import (
    Function,
    FunctionRequest,
    Output,
    Package,
    PackageRequest,
    Parameter,
    Rule,
)

from . import _examples, _proto, _protoc
from ._names import camel, local_name, module_name
from ._values import python_value
from .core import compared, reference_context

#: lowercase names the server module defines or imports itself
_SERVER_MODULE_NAMES = (
    "annotations",
    "arguments",
    "arguments_in_domain",
    "call",
    "configure_logging",
    "create_server",
    "futures",
    "grpc",
    "health",
    "health_pb2",
    "health_pb2_grpc",
    "load_config",
    "reflection",
    "log",
    "logging",
    "main",
    "messages",
    "put",
    "signal",
    "start",
    "sys",
)
_TEST_MODULE_NAMES = (
    "FIELDS",
    "METHOD",
    "annotations",
    "build",
    "channel",
    "grpc",
    "messages",
    "pytest",
    "send",
    "test_answers_valid_input",
    "test_rejects_invalid_input",
    "value",
)


def _files(package: Package) -> dict[str, str]:
    module = module_name(package)
    return {
        "proto": f"{module}/{_proto.VERSION}/{module}.proto",
        "messages": f"{module}.{_proto.VERSION}.{module}_pb2",
    }


def _rpcs(package: Package) -> list[dict[str, Any]]:
    names = rpc_names(tuple(f.name for f in package.functions))
    return [_rpc(function, names[function.name]) for function in package.functions]


@functools.lru_cache(maxsize=4)  # asked once per function of the same package
def rpc_names(functions: tuple[str, ...]) -> dict[str, str]:
    return dict(zip(functions, _proto.rpc_names(list(functions)), strict=True))


def _rpc(function: Function, name: str) -> dict[str, Any]:
    fields = _proto.field_names([p.name for p in function.parameters])
    result = _proto.field_type(function.output_ref, presence=False)
    return {
        "name": name,
        "function": function.name,
        "description": function.description,
        "request": f"{name}Request",
        "response": f"{name}Response",
        "fields": [
            _field(p, f, number)
            for number, (p, f) in enumerate(zip(function.parameters, fields, strict=True), 1)
        ],
        "result": {"type": result.text, "spec_type": function.output_type},
        "wrappers": result.wrappers,
    }


def _field(param: Parameter, name: str, number: int) -> dict[str, Any]:
    declaration, unset = _proto.parameter_type(param)
    return {
        "name": name,
        "parameter": param.name,
        "number": number,
        "type": declaration.text,
        "wrappers": declaration.wrappers,
        "unset": unset,
        "description": param.description,
        "spec": _spec_note(param, unset, declaration.text),
    }


def _spec_note(param: Parameter, unset: str, declaration: str) -> str:
    """What a client needs to know that the proto type does not say."""
    note = f"spec type {param.type}"
    if unset == _proto.REQUIRED and declaration.startswith("optional"):
        return f"{note}; required"
    if unset == _proto.DEFAULT:
        default = json.dumps(python_value(param.type_ref, param.default), default=repr)
        empty = "; an empty wrapper means null" if param.type_ref.kind == "optional" else ""
        return f"{note}; unset means the default, {default}{empty}"
    if unset == _proto.NULL:
        return f"{note}; unset means null"
    return note


def proto_context(package: Package) -> dict[str, Any]:
    rpcs = _rpcs(package)
    wrappers: dict[str, str] = {}
    for rpc in rpcs:
        wrappers.update(rpc["wrappers"])
        for field in rpc["fields"]:
            wrappers.update(field["wrappers"])
    module = module_name(package)
    return {
        "source": package.source,
        "name": package.name,
        "description": package.description,
        "package": f"{module}.{_proto.VERSION}",
        "service": f"{camel(module)}Service",
        "rpcs": rpcs,
        "wrappers": dict(sorted(wrappers.items())),
        "proto_path": _files(package)["proto"],
        "protoc_version": _protoc.tool_version(),
    }


def package_outputs(request: PackageRequest) -> list[Output]:
    package = request.package
    module = module_name(package)
    proto = proto_context(package)
    folder = f"src/{module}/grpc"
    stubs = f"src/{module}/{_proto.VERSION}"
    outputs = [
        Output(f"{stubs}/{module}.proto", "python/grpc/service.proto.j2", proto),
        *(
            Output(
                f"{stubs}/{module}{suffix}", "python/grpc/compiled.j2", {**proto, "output": suffix}
            )
            for suffix in _protoc.OUTPUTS
        ),
        Output(
            f"{stubs}/__init__.py",
            "python/grpc/stubs_init.py.j2",
            {"source": package.source, "module": module, "package": proto["package"]},
        ),
        Output("buf.yaml", "python/grpc/buf.yaml.j2", {"source": package.source}),
    ]
    common = {
        "source": package.source,
        "module": module,
        "service": proto["service"],
        "stubs": f"{module}.{_proto.VERSION}",
    }
    functions = [
        {"name": f.name, "local": local_name(f.name, _SERVER_MODULE_NAMES)}
        for f in package.functions
    ]
    return [
        *outputs,
        Output(f"{folder}/__init__.py", "python/grpc/init.py.j2", {**common, "name": package.name}),
        Output(f"{folder}/_convert.py", "python/grpc/convert.py.j2", {"source": package.source}),
        Output(
            f"{folder}/server.py",
            "python/grpc/server.py.j2",
            {
                **common,
                "package": proto["package"],
                "functions": functions,
                "unset_constants": sorted(
                    {f["unset"].upper() for rpc in proto["rpcs"] for f in rpc["fields"]}
                ),
                "rpcs": [
                    {
                        "name": rpc["name"],
                        "function": rpc["function"],
                        "local": f["local"],
                        "request": rpc["request"],
                        "response": rpc["response"],
                        "fields": [
                            {"name": x["name"], "parameter": x["parameter"], "unset": x["unset"]}
                            for x in rpc["fields"]
                        ],
                    }
                    for rpc, f in zip(proto["rpcs"], functions, strict=True)
                ],
            },
        ),
        Output("tests/test_grpc_health.py", "python/grpc/test_health.py.j2", common),
    ]


def function_outputs(request: FunctionRequest) -> list[Output]:
    package, function = request.package, request.function
    return [
        Output(
            f"tests/test_grpc_{function.name}.py",
            "python/grpc/test_rpc.py.j2",
            _test_context(package, function),
        )
    ]


def _test_context(package: Package, function: Function) -> dict[str, Any]:
    module = module_name(package)
    rpc = _rpc(function, rpc_names(tuple(f.name for f in package.functions))[function.name])
    field_of = {f["parameter"]: f["name"] for f in rpc["fields"]}
    required = [
        f["name"]
        for f in rpc["fields"]
        if f["unset"] == _proto.REQUIRED and f["type"].startswith("optional")
    ]
    return {
        "source": package.source,
        "module": module,
        "stubs": f"{module}.{_proto.VERSION}",
        "function": function.name,
        "rpc": rpc["name"],
        "request": rpc["request"],
        "response": rpc["response"],
        "examples": [
            {
                "test": test,
                "values": {
                    field_of[p.name]: python_value(p.type_ref, example.input[p.name])
                    for p in function.parameters
                    if p.name in example.input
                },
                **compared(function, example, as_json=False),
            }
            for test, example in _examples.named(function, _TEST_MODULE_NAMES)
        ],
        "fields": field_of,
        **reference_context(function, "grpc", _TEST_MODULE_NAMES, as_json=False),
        # a request without a required argument, or one that is not a message at all
        "missing": required[0] if required else "",
    }


RULE = Rule(
    name="python.grpc",
    language="python",
    interface="grpc",
    version="2",
    function_outputs=function_outputs,
    package_outputs=package_outputs,
)
