"""typescript.grpc: a @grpc/grpc-js server in the service's process, serving the ``.proto`` the
Python rules write (``python.grpc``, byte for byte: one contract), loaded at run time by
@grpc/proto-loader (no protoc step), with reflection and ``grpc.health.v1.Health``."""

from __future__ import annotations

from typing import Any

from apipack_build.rules import Output, PackageRequest, Parameter, Rule

from ..python import _proto
from ..python import grpc as _py_grpc
from ._types import descriptor

#: where the package keeps its .proto, beside dist/ (read at run time)
PROTO_FOLDER = "proto"


def _field(param: Parameter, name: str) -> dict[str, Any]:
    """How the request field *name* holds *param*: see ``Field`` in src/grpc/server.ts."""
    declaration, unset = _proto.parameter_type(param)
    ref = param.type_ref
    wrapped = declaration.text in declaration.wrappers
    held = ref.item if ref.kind == "optional" and wrapped and unset == _proto.NULL else ref
    return {
        "name": name,
        "parameter": param.name,
        "descriptor": descriptor(held),
        "wrapped": wrapped,
        "unset": unset,
    }


def package_outputs(request: PackageRequest) -> list[Output]:
    package, source = request.package, request.package.source
    proto = _py_grpc.proto_context(package)
    rpcs = [
        {
            "name": rpc["name"],
            "function": function.name,
            "fields": [
                _field(p, f["name"])
                for p, f in zip(function.parameters, rpc["fields"], strict=True)
            ],
        }
        for rpc, function in zip(proto["rpcs"], package.functions, strict=True)
    ]
    proto_path = f"{PROTO_FOLDER}/{proto['proto_path']}"
    return [
        Output(proto_path, "python/grpc/service.proto.j2", proto),
        Output(
            "src/grpc/server.ts",
            "typescript/grpc/server.ts.j2",
            {
                "source": source,
                "service": f"{proto['package']}.{proto['service']}",
                "proto_path": proto_path,
                "rpcs": rpcs,
            },
        ),
    ]


RULE = Rule(
    name="typescript.grpc",
    language="typescript",
    interface="grpc",
    version="1",
    package_outputs=package_outputs,
)
