"""The package README: how to install, run and call every interface that was built."""

from __future__ import annotations

import json
from typing import Any

from apipack_build.rules import Function, PackageRequest, Parameter, TypeRef

from . import _cli_args, _examples, _openapi, _proto, graphql, service
from ._filters import sh_quote
from ._names import camel, command_name, module_name
from ._values import json_value


def output(request: PackageRequest) -> dict[str, Any]:
    """The context of ``python/core/README.md.j2``."""
    package = request.package
    module = module_name(package)
    port, grpc_port = service.ports(request)
    interfaces = set(request.interfaces)
    return {
        "source": package.source,
        "name": package.name,
        "description": package.description,
        "version": package.version,
        "module": module,
        "port": port,
        "grpc_port": grpc_port,
        "server": service.built(request.interfaces),
        **{i: i in interfaces for i in ("cli", "graphql", "grpc", "rest", "websocket")},
        "grpc_service": f"{module}.{_proto.VERSION}.{camel(module)}Service",
        "proto_version": _proto.VERSION,
        "functions": [
            _function(f, rpc, port)
            for f, rpc in zip(
                package.functions,
                _proto.rpc_names([f.name for f in package.functions]),
                strict=True,
            )
        ],
    }


def _function(function: Function, rpc: str, port: int) -> dict[str, Any]:
    if function.examples:
        values = dict(function.examples[0].input)
    else:
        values = {p.name: placeholder(p.type_ref) for p in function.parameters if p.required}
    body = _examples.json_arguments(function, values)
    words = []
    for word in _cli_args.argv(function.parameters, values):
        if "word" in word:
            option, separator, value = word["word"].partition("=")
            words.extend([option, value] if separator else [option])
        else:
            words.extend([word["option"], word["file"]])
    return {
        "name": function.name,
        "command": command_name(function.name),
        "description": function.description,
        "output_type": function.output_type,
        "parameters": [_parameter(p) for p in function.parameters],
        "body": body,
        "form": _form(function, values, port),
        "graphql": graphql.operation(function, values),
        "grpc_method": rpc,
        "grpc_body": _grpc_body(function, values),
        "cli_words": words,
    }


def _form(function: Function, values: dict[str, Any], port: int) -> str | None:
    """A ``curl`` command uploading the bytes parameters as files, or None without any."""
    if not _openapi.takes_files(function):
        return None
    fields = []
    for p in function.parameters:
        if _openapi.file_parameter(p.type_ref):
            fields.append(f"{p.name}=@{p.name}.bin")
        elif p.name in values:
            value = json_value(p.type_ref, values[p.name])
            text = value if isinstance(value, str) else _json(value)
            fields.append(f"{p.name}={text}")
    lines = [f"curl -s -X POST http://localhost:{port}/{function.name}/upload"]
    lines += [f"-F {sh_quote(field)}" for field in fields]
    return " \\\n  ".join(lines)


def _grpc_body(function: Function, values: dict[str, Any]) -> dict[str, Any] | None:
    """The request in protobuf's JSON form, when every value maps to it directly (wrapper
    messages for nested types have a JSON form of their own, left to the .proto)."""
    given = [p for p in function.parameters if p.name in values]
    if any(_proto.parameter_type(p)[0].wrappers for p in given):
        return None
    names = _proto.field_names([p.name for p in function.parameters])
    return {
        _proto.json_name(name): json_value(p.type_ref, values[p.name])
        for p, name in zip(function.parameters, names, strict=True)
        if p.name in values and values[p.name] is not None
    }


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _parameter(param: Parameter) -> dict[str, Any]:
    default = json_value(param.type_ref, param.default) if param.has_default else None
    return {
        "name": param.name,
        "type": param.type,
        "required": param.required,
        "has_default": param.has_default,
        "default": default,
        "description": param.description,
    }


def placeholder(ref: TypeRef) -> Any:
    """A value of type *ref* for documentation when the spec gives no example."""
    if ref.kind in ("list", "dict", "optional"):
        inner = placeholder(ref.item)
        return [inner] if ref.kind == "list" else {"key": inner} if ref.kind == "dict" else inner
    return {"string": "text", "int": 1, "float": 1.5, "bool": True, "bytes": b"hello"}[ref.kind]
