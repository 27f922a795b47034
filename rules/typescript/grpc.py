"""typescript.grpc: a @grpc/grpc-js server in the service's process, serving the ``.proto`` the
Python rules write (``python.grpc``, byte for byte: one contract), loaded at run time by
@grpc/proto-loader (no protoc step), with reflection and ``grpc.health.v1.Health``."""

from __future__ import annotations

from typing import Any

from apipack_build.rules import Function, FunctionRequest, Output, Package, PackageRequest, Rule

from ..python import _proto
from ..python import grpc as _py_grpc
from ._examples import example_tests, json_arguments
from ._names import package_root
from ._types import descriptor

#: where the package keeps its .proto, beside dist/ (read at run time)
PROTO_FOLDER = "proto"
#: files that depend on nothing but the spec's name: path -> template in typescript/grpc/
_STATIC = {
    "src/grpc/descriptors.ts": "descriptors.ts.j2",
    "test/grpc_client.ts": "client.ts.j2",
    "test/grpc_health.test.ts": "test_health.ts.j2",
}


def _rpc(package: Package, function: Function) -> dict[str, Any]:
    """The rpc of *function*, named as ``python.grpc`` names it, and how its fields hold the
    parameters (see ``Field`` in src/grpc/convert.ts)."""
    names = _proto.field_names([p.name for p in function.parameters])
    fields, missing = [], ""
    for param, name in zip(function.parameters, names, strict=True):
        declaration, unset = _proto.parameter_type(param)
        ref = param.type_ref
        wrapped = declaration.text in declaration.wrappers
        held = ref.item if ref.kind == "optional" and wrapped and unset == _proto.NULL else ref
        fields.append(
            {
                "name": name,
                "parameter": param.name,
                "descriptor": descriptor(held),
                "wrapped": wrapped,
                "unset": unset,
            }
        )
        if not missing and unset == _proto.REQUIRED and declaration.text.startswith("optional"):
            missing = name  # an empty request lacks it (see test_rpc.ts.j2)
    return {
        "name": _py_grpc.rpc_names(tuple(f.name for f in package.functions))[function.name],
        "function": function.name,
        "fields": fields,
        "missing": missing,
    }


def function_outputs(request: FunctionRequest) -> list[Output]:
    package, function = request.package, request.function
    rpc = _rpc(package, function)
    return [
        example_tests(
            request,
            "grpc",
            "test_rpc.ts.j2",
            lambda _, given: json_arguments(function, given),
            None,  # the rpc's test sends bytes: an empty request, or one that is no message
            rpc=rpc["name"],
            missing=rpc["missing"],
        )
    ]


def package_outputs(request: PackageRequest) -> list[Output]:
    package, source = request.package, request.package.source
    proto = _py_grpc.proto_context(package)
    proto_path = f"{PROTO_FOLDER}/{proto['proto_path']}"
    common = {"source": source}
    return [
        Output(proto_path, "python/grpc/service.proto.j2", proto),
        Output(
            "src/grpc/convert.ts",
            "typescript/grpc/convert.ts.j2",
            {**common, "rpcs": [_rpc(package, f) for f in package.functions]},
        ),
        Output(
            "src/grpc/server.ts",
            "typescript/grpc/server.ts.j2",
            {
                **common,
                "service": f"{proto['package']}.{proto['service']}",
                "proto_path": proto_path,
                "package_root": package_root(request.language, 2),
            },
        ),
        Output("buf.yaml", "typescript/grpc/buf.yaml.j2", {**common, "folder": PROTO_FOLDER}),
        *(Output(path, f"typescript/grpc/{name}", common) for path, name in _STATIC.items()),
    ]


RULE = Rule(
    name="typescript.grpc",
    language="typescript",
    interface="grpc",
    version="1",
    function_outputs=function_outputs,
    package_outputs=package_outputs,
)
