"""typescript.rest: a Fastify 5 service with one ``POST /<function>`` route per function and the
same OpenAPI 3.1 document as every target's (built by the Python rules' document builder for
now; it moves to a module shared by the languages later)."""

from __future__ import annotations

from typing import Any

from apipack_build.rules import Function, FunctionRequest, Output, PackageRequest, Rule, TypeRef

# shared with the Python target until it moves to a module of its own (one contract)
from ..python import _openapi
from ..python._values import json_value
from ._examples import compact, example_tests, expected, invalid_arguments, json_arguments


def function_outputs(request: FunctionRequest) -> list[Output]:
    function = request.function
    return [
        example_tests(
            request,
            "rest",
            "test_route.ts.j2",
            lambda _, given: json_arguments(function, given),
            invalid_arguments(function.parameters),
            upload=_upload(function),
        )
    ]


def _upload(function: Function) -> dict[str, Any] | None:
    """A multipart request made from the first example, for a function that takes files."""
    if not _openapi.takes_files(function) or not function.examples:
        return None
    example = function.examples[0]
    form = _form(function)
    files, fields = [], []
    for p in function.parameters:
        value = example.input.get(p.name)
        if value is None:
            continue
        if p.name in form["files"]:
            data = value.encode("utf-8") if isinstance(value, str) else bytes(value)
            files.append((p.name, list(data)))
        elif p.name in form["flags"]:
            fields.append((p.name, "true" if value else "false"))
        elif p.name in form["json"]:
            fields.append((p.name, compact(json_value(p.type_ref, value))))
        else:
            fields.append((p.name, value))
    if not files:
        return None
    return {
        "files": files,
        "fields": fields,
        "has_output": example.has_output,
        "expected": expected(function, example),
    }


def _form(function: Function) -> dict[str, list[str]]:
    """How ``POST /<fn>/upload`` reads each field, as the Python service does."""

    def scalar(ref: TypeRef) -> str:
        return (ref.item if ref.kind == "optional" else ref).kind

    params = function.parameters
    return {
        "files": [p.name for p in params if _openapi.file_parameter(p.type_ref)],
        "flags": [p.name for p in params if scalar(p.type_ref) == "bool"],
        "json": [p.name for p in params if scalar(p.type_ref) not in ("string", "bytes", "bool")],
    }


def package_outputs(request: PackageRequest) -> list[Output]:
    package, source = request.package, request.package.source
    service = {"source": source}
    return [
        Output(
            "openapi.json",
            "typescript/rest/openapi.json.j2",
            {"document": _openapi.document(package)},
        ),
        Output(
            "src/rest/app.ts",
            "typescript/rest/app.ts.j2",
            {
                "source": source,
                # the other HTTP interfaces, mounted in the same Fastify app
                **{i: i in request.interfaces for i in ("websocket", "graphql")},
                "functions": [
                    {
                        "name": f.name,
                        "offers": _openapi.success_media_types(f),
                        "form": _form(f) if _openapi.takes_files(f) else None,
                    }
                    for f in package.functions
                ],
            },
        ),
        Output(
            "src/rest/server.ts",
            "typescript/rest/server.ts.j2",
            {**service, "grpc": "grpc" in request.interfaces},
        ),
        Output("src/rest/form.ts", "typescript/rest/form.ts.j2", service),
        Output("src/rest/negotiate.ts", "typescript/rest/negotiate.ts.j2", service),
        Output("src/service/config.ts", "typescript/service/config.ts.j2", service),
        Output("src/service/errors.ts", "typescript/service/errors.ts.j2", service),
        Output("src/service/metrics.ts", "typescript/service/metrics.ts.j2", service),
        Output(
            "test/rest_service.test.ts",
            "typescript/rest/test_service.ts.j2",
            {"source": source, "name": package.name, "version": package.version},
        ),
    ]


RULE = Rule(
    name="typescript.rest",
    language="typescript",
    interface="rest",
    version="1",
    function_outputs=function_outputs,
    package_outputs=package_outputs,
)
