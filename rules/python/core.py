"""python.core: the package itself — functions, metadata, README, direct tests."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from apipack_build.rules import (
    Example,
    Function,
    FunctionRequest,
    Output,
    Package,
    PackageRequest,
    Parameter,
    Rule,
    TypeRef,
)

from . import _examples, _stack, deploy, readme, service
from ._checks import check_expressions, needs_base64
from ._filters import py_literal
from ._names import local_name, module_name
from ._strategies import strategy
from ._types import type_check
from ._values import assertion, json_value, python_value

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
                **expectation(output, example, as_json=False),
            }
            for test, example in _examples.named(function)
        ],
        # without examples: a property test over inputs drawn from the declared types
        "required": _strategies_source(p for p in function.parameters if p.required),
        "optional": _strategies_source(p for p in function.parameters if not p.required),
        "type_check": type_check(output, "result"),
    }


#: names the interface tests import to compare with a direct call, or define for property tests
_REFERENCE_NAMES = (
    "REJECTED",
    "Any",
    "carried",
    "command_line",
    "direct",
    "given",
    "settings",
    "st",
)
#: cases per property test of an interface: each a request, or on the CLI a whole command run
_PROPERTY_CASES = 15
_CLI_PROPERTY_CASES = 10


def reference_context(
    function: Function, interface: str, taken: Iterable[str], as_json: bool
) -> dict[str, Any]:
    """What an interface's test module needs to compare its answers with direct calls: the
    function under a *local* name; for a function without examples, ``arguments``, a Hypothesis
    strategy giving every parameter a value (so a call means the same on every interface), and
    ``cases``; ``compares`` when the module needs ``direct``."""
    return {
        "local": local_name(function.name, (*taken, *_REFERENCE_NAMES)),
        "as_json": as_json,
        "compares": not function.examples or any(not e.has_output for e in function.examples),
        "arguments": "" if function.examples else _strategies_source(function.parameters),
        "cases": _CLI_PROPERTY_CASES if interface == "cli" else _PROPERTY_CASES,
        "imports": _reference_imports(function, interface, as_json),
    }


def _reference_imports(function: Function, interface: str, as_json: bool) -> list[str]:
    """What the test module takes from the package's ``testing`` module."""
    if function.examples:
        return ["direct"]
    names = ["REJECTED", "direct"]
    if interface == "cli":
        names.append("command_line")
    elif as_json:  # arguments travel as JSON
        names.append("carried")
    return sorted(names, key=lambda name: (not name.isupper(), name))


def compared(function: Function, example: Example, as_json: bool) -> dict[str, Any]:
    """:func:`expectation`, and for an example without output ``direct``: the arguments of the
    direct call whose result the interface must answer as well."""
    direct = None if example.has_output else _examples.python_arguments(function, example.input)
    return {**expectation(function.output_ref, example, as_json), "direct": direct}


def _strategies_source(parameters: Iterable[Parameter]) -> str:
    """``{"name": st.text(...), ...}``: a Python dict of Hypothesis strategies."""
    items = [f"{py_literal(p.name)}: {strategy(p.type_ref)}" for p in parameters]
    return "{" + ", ".join(items) + "}"


def expectation(output: TypeRef, example: Example, as_json: bool) -> dict[str, Any]:
    """How a test checks a result: ``assertion`` (is/approx/equal/type) with ``expected``, or
    ``type_check`` (an expression over ``result``) when the example gives no output; and
    ``checks``, the example's ``check:`` as expressions (``needs_base64``: they decode bytes)."""
    checks = {
        "checks": check_expressions(output, example.check, "result", as_json),
        "needs_base64": needs_base64(output, example.check, as_json),
    }
    if not example.has_output:
        return {
            "assertion": "type",
            "expected": None,
            "type_check": type_check(output, "result", as_json=as_json),
            "direct": None,
            **checks,
        }
    value = example.output
    expected = json_value(output, value) if as_json else python_value(output, value)
    return {
        "assertion": assertion(expected),
        "expected": expected,
        "type_check": "",
        "direct": None,
        **checks,
    }


def package_outputs(request: PackageRequest) -> list[Output]:
    package = request.package
    module = module_name(package)
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
                "load_dependencies": _stack.LOAD_DEPENDENCIES
                if "rest" in request.interfaces and request.settings.include_tests
                else (),
                "scripts": _scripts(package.name, module, request.interfaces),
                "grpc": "grpc" in request.interfaces,
                "readme": request.settings.include_docs,
                "tests": request.settings.include_tests,
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
        *(
            [
                Output(
                    f"src/{module}/testing.py",
                    "python/core/testing.py.j2",
                    {"source": package.source},
                )
            ]
            if request.settings.include_tests
            else []
        ),
        Output("README.md", "python/core/README.md.j2", readme.output(request)),
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


RULE = Rule(
    name="python.core",
    language="python",
    interface=None,
    version="2",
    function_outputs=function_outputs,
    package_outputs=package_outputs,
)
