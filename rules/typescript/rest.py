"""typescript.rest: a Fastify 5 service with one ``POST /<function>`` route per function and the
same OpenAPI 3.1 document as every target's (built by the Python rules' document builder for
now; it moves to a module shared by the languages later)."""

from __future__ import annotations

import json
from pathlib import PurePosixPath
from typing import Any

from apipack_build.rules import Function, FunctionRequest, Output, PackageRequest, Rule, TypeRef

# shared with the Python target until they move to a module of their own (one contract)
from ..python import _examples as _py_examples
from ..python import _openapi
from ..python._values import json_value
from ._names import built


def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def function_outputs(request: FunctionRequest) -> list[Output]:
    package, function = request.package, request.function
    return [
        Output(
            f"test/rest_{function.name}.test.ts",
            "typescript/rest/test_route.ts.j2",
            {
                "source": package.source,
                "function": function.name,
                "examples": [_example(function, i, e) for i, e in enumerate(function.examples, 1)],
                "invalid": _compact(_py_examples.invalid_arguments(function.parameters)),
                "upload": _upload(function),
            },
        )
    ]


def _example(function: Function, index: int, example: Any) -> dict[str, Any]:
    has_output = example.has_output
    return {
        "title": example.name or f"example {index}",
        "body": _compact(_py_examples.json_arguments(function, example.input)),
        "has_output": has_output,
        "expected": _compact(json_value(function.output_ref, example.output)) if has_output else "",
    }


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
            fields.append((p.name, _compact(json_value(p.type_ref, value))))
        else:
            fields.append((p.name, value))
    if not files:
        return None
    has_output = example.has_output
    return {
        "files": files,
        "fields": fields,
        "has_output": has_output,
        "expected": _compact(json_value(function.output_ref, example.output)) if has_output else "",
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
                # the package folder, seen from the module that runs: dist/src/rest or src/rest
                "package_root": "../" * (len(PurePosixPath(built(request.language)).parts) + 2),
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
        Output("src/rest/server.ts", "typescript/rest/server.ts.j2", service),
        Output("src/rest/form.ts", "typescript/rest/form.ts.j2", service),
        Output("src/rest/negotiate.ts", "typescript/rest/negotiate.ts.j2", service),
        Output("src/service/config.ts", "typescript/service/config.ts.j2", service),
        Output("src/service/errors.ts", "typescript/service/errors.ts.j2", service),
        Output("src/service/metrics.ts", "typescript/service/metrics.ts.j2", service),
        Output(
            "test/rest_service.test.ts",
            "typescript/rest/test_service.ts.j2",
            {
                "source": source,
                "name": package.name,
                "version": package.version,
                # the package folder, seen from the test that runs: dist/test or test
                "package_root": "../" * (len(PurePosixPath(built(request.language)).parts) + 1),
            },
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
