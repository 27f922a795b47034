"""python.core: the package itself — functions, metadata, README, direct tests."""

from __future__ import annotations

import re
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

from . import _cli_args, _stack, deploy, service
from ._names import command_name, local_name, module_name, unique_names
from ._types import type_check
from ._values import assertion, json_value, python_value

DEFAULT_PORT = service.DEFAULT_PORT
#: names a generated test module defines or imports itself
_TEST_MODULE_NAMES = ("pytest",)


def function_outputs(request: FunctionRequest) -> list[Output]:
    package, function = request.package, request.function
    module = module_name(package)
    return [
        Output(
            f"src/{module}/functions/{function.name}.py",
            "python/core/function.py.j2",
            {"source": package.source, "implementation": request.implementation.source},
        ),
        Output(
            f"tests/test_{function.name}.py",
            "python/core/test_function.py.j2",
            _test_context(package, function),
        ),
    ]


def _test_context(package: Package, function: Function) -> dict[str, Any]:
    output = function.output_ref
    tests = unique_names(f"test_{example.name}" for example in function.examples)
    return {
        "source": package.source,
        "module": module_name(package),
        "function": function.name,
        "local": local_name(function.name, _TEST_MODULE_NAMES),
        "examples": [
            {
                "test": test,
                "arguments": [
                    {"name": p.name, "value": python_value(p.type_ref, example.input[p.name])}
                    for p in function.parameters
                    if p.name in example.input
                ],
                **expectation(output, example.has_output, example.output, as_json=False),
            }
            for test, example in zip(tests, function.examples, strict=True)
        ],
    }


def expectation(output: TypeRef, has_output: bool, value: Any, as_json: bool) -> dict[str, Any]:
    """How a test checks a result: ``assertion`` (is/approx/equal/type) with ``expected``, or
    ``type_check`` (an expression over ``result``) when the example gives no output."""
    if not has_output:
        return {
            "assertion": "type",
            "expected": None,
            "type_check": type_check(output, "result", as_json=as_json),
        }
    expected = json_value(output, value) if as_json else python_value(output, value)
    return {"assertion": assertion(expected), "expected": expected, "type_check": ""}


def package_outputs(request: PackageRequest) -> list[Output]:
    package = request.package
    module = module_name(package)
    port = int(request.settings.deployment.get("port", DEFAULT_PORT))
    names = [f.name for f in package.functions]
    return [
        Output(
            "pyproject.toml",
            "python/core/pyproject.toml.j2",
            {
                "source": package.source,
                "name": package.name,
                "version": package.version,
                "description": " ".join(package.description.split()),
                "module": module,
                "dependencies": dependencies(package, request.interfaces),
                "test_dependencies": _stack.TEST_DEPENDENCIES,
                "lint_dependencies": _stack.lint(request.interfaces),
                "scripts": _scripts(package.name, module, request.interfaces),
                "grpc": "grpc" in request.interfaces,
            },
        ),
        Output(
            f"src/{module}/__init__.py",
            "python/core/package_init.py.j2",
            {
                "source": package.source,
                "name": package.name,
                "description": package.description,
                "version": package.version,
                "functions": names,
            },
        ),
        Output(
            f"src/{module}/functions/__init__.py",
            "python/core/functions_init.py.j2",
            {"source": package.source, "functions": names},
        ),
        Output(f"src/{module}/py.typed", "python/core/py.typed.j2", {}),
        Output("README.md", "python/core/README.md.j2", _readme_context(request, port)),
        *service.outputs(request),
        *deploy.outputs(request),
    ]


def _scripts(name: str, module: str, interfaces: tuple[str, ...]) -> list[dict[str, str]]:
    scripts = []
    if "cli" in interfaces:
        scripts.append({"name": name, "target": f"{module}.cli.main:main"})
    if "grpc" in interfaces:
        scripts.append({"name": f"{name}-grpc", "target": f"{module}.grpc.server:main"})
    if service.built(interfaces):
        scripts.append({"name": f"{name}-server", "target": f"{module}.service.app:main"})
    return scripts


def dependencies(package: Package, interfaces: tuple[str, ...]) -> list[str]:
    """Spec dependencies for every language and for Python, plus what the interfaces need.

    A requirement the spec names itself wins over ours for the same distribution.
    """
    declared: set[str] = set()
    for deps in [package.dependencies, *(f.dependencies for f in package.functions)]:
        for key in ("*", "python"):
            declared.update(deps.get(key, ()))
    named = {_distribution(req) for req in declared}
    declared.update(req for req in _stack.runtime(interfaces) if _distribution(req) not in named)
    return sorted(declared, key=lambda req: (_distribution(req), req))


def _distribution(requirement: str) -> str:
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    name = match.group(1) if match else requirement
    return re.sub(r"[-_.]+", "-", name).lower()


# ---- README ----


def _readme_context(request: PackageRequest, port: int) -> dict[str, Any]:
    package = request.package
    return {
        "source": package.source,
        "name": package.name,
        "description": package.description,
        "version": package.version,
        "module": module_name(package),
        "port": port,
        "rest": "rest" in request.interfaces,
        "cli": "cli" in request.interfaces,
        "functions": [_readme_function(f) for f in package.functions],
    }


def _readme_function(function: Function) -> dict[str, Any]:
    if function.examples:
        values = dict(function.examples[0].input)
    else:
        values = {p.name: placeholder(p.type_ref) for p in function.parameters if p.required}
    body = {
        p.name: json_value(p.type_ref, values[p.name])
        for p in function.parameters
        if p.name in values
    }
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
        "parameters": [_readme_parameter(p) for p in function.parameters],
        "body": body,
        "cli_words": words,
    }


def _readme_parameter(param: Parameter) -> dict[str, Any]:
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


RULE = Rule(
    name="python.core",
    language="python",
    interface=None,
    version="2",
    function_outputs=function_outputs,
    package_outputs=package_outputs,
)
