"""typescript.rest: a Fastify 5 service with one ``POST /<function>`` route per function and the
same OpenAPI 3.1 document as every target's (built by the Python rules' document builder for
now; it moves to a module shared by the languages later)."""

from __future__ import annotations

from typing import Any

from apipack_build.rules import Function, FunctionRequest, Output, PackageRequest, Rule

# shared with the Python target until it moves to a module of its own (one contract)
from ..python import _openapi
from ..python._values import json_value
from ._checks import check_context
from ._examples import compact, example_tests, expected, invalid_arguments, json_arguments
from ._rest_forms import form


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
    fields_of = form(function)
    files, fields = [], []
    for p in function.parameters:
        value = example.input.get(p.name)
        if value is None:
            continue
        if p.name in fields_of["files"]:
            data = value.encode("utf-8") if isinstance(value, str) else bytes(value)
            files.append((p.name, list(data)))
        elif p.name in fields_of["flags"]:
            fields.append((p.name, "true" if value else "false"))
        elif p.name in fields_of["json"]:
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
        **check_context(function.output_ref, example, as_json=True),
    }


def package_outputs(request: PackageRequest) -> list[Output]:
    """The OpenAPI document and the REST helpers; the app and its server are the service's
    (``service.py``), built for every server interface."""
    package = request.package
    common = {"source": package.source}
    return [
        Output(
            "openapi.json",
            "typescript/rest/openapi.json.j2",
            {"document": _openapi.document(package)},
        ),
        Output("src/rest/form.ts", "typescript/rest/form.ts.j2", common),
        Output("src/rest/negotiate.ts", "typescript/rest/negotiate.ts.j2", common),
    ]


RULE = Rule(
    name="typescript.rest",
    language="typescript",
    interface="rest",
    version="1",
    function_outputs=function_outputs,
    package_outputs=package_outputs,
)
