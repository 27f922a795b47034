"""python.cli: an argparse command line with one subcommand per function (stdlib only)."""

from __future__ import annotations

from typing import Any

from apipack_build.rules import Function, FunctionRequest, Output, Package, PackageRequest, Rule

from . import _cli_args, _examples
from ._names import command_name, local_name, module_name
from .core import compared, reference_context

#: lowercase names a command module defines or imports itself
_COMMAND_MODULE_NAMES = (
    "annotations",
    "argparse",
    "finite_float",
    "int64",
    "json_argument",
    "read_bytes",
    "register",
    "run",
    "add_output_options",
)
_MAIN_MODULE_NAMES = (
    "annotations",
    "argparse",
    "build_parser",
    "in_domain",
    "main",
    "print_result",
    "sys",
)
_TEST_MODULE_NAMES = (
    "OPTIONS",
    "command_line",
    "contextlib",
    "io",
    "json",
    "main",
    "pytest",
    "test_answers_valid_input",
    "test_rejects_invalid_input",
)


def function_outputs(request: FunctionRequest) -> list[Output]:
    package, function = request.package, request.function
    module = module_name(package)
    return [
        Output(
            f"src/{module}/cli/commands/{function.name}.py",
            "python/cli/command.py.j2",
            _command_context(package, function),
        ),
        Output(
            f"tests/test_cli_{function.name}.py",
            "python/cli/test_command.py.j2",
            _test_context(package, function),
        ),
    ]


def _command_context(package: Package, function: Function) -> dict[str, Any]:
    options = [_cli_args.option(p) for p in function.parameters]
    styles = {o["style"] for o in options}
    return {
        "source": package.source,
        "module": module_name(package),
        "function": function.name,
        "local": local_name(function.name, _COMMAND_MODULE_NAMES),
        "command": command_name(function.name),
        "description": function.description,
        "options": options,
        "helpers": [
            name
            for name, used in (
                ("add_output_options", True),
                ("finite_float", any(o["type"] == "finite_float" for o in options)),
                ("int64", any(o["type"] == "int64" for o in options)),
                ("json_argument", "json" in styles),
                ("read_bytes", "file" in styles),
            )
            if used
        ],
    }


def _test_context(package: Package, function: Function) -> dict[str, Any]:
    examples = []
    for test, example in _examples.named(function, _TEST_MODULE_NAMES):
        words = _cli_args.argv(function.parameters, example.input)
        examples.append(
            {
                "test": test,
                "argv": words,
                "uses_files": any("file" in word for word in words),
                **compared(function, example, as_json=True),
            }
        )
    return {
        "source": package.source,
        "module": module_name(package),
        "name": package.name,
        "function": function.name,
        "command": command_name(function.name),
        "examples": examples,
        "invalid_argv": _invalid_argv(function),
        "options": {
            p.name: (_cli_args.option_string(p.name), _cli_args.style(p))
            for p in function.parameters
        },
        **reference_context(function, "cli", _TEST_MODULE_NAMES, as_json=True),
    }


def _invalid_argv(function: Function) -> list[str]:
    """Arguments the CLI must reject: a badly typed option, or one that does not exist."""
    for param in function.parameters:
        option = _cli_args.option(param)
        if option["style"] == "json" or option["type"] in ("int", "float"):
            return [f"{option['option']}=not valid!"]
    return ["--no-such-option"]


def package_outputs(request: PackageRequest) -> list[Output]:
    package = request.package
    module = module_name(package)
    source = package.source
    return [
        Output(
            f"src/{module}/cli/__init__.py",
            "python/cli/init.py.j2",
            {"source": source, "name": package.name},
        ),
        Output(
            f"src/{module}/cli/commands/__init__.py",
            "python/cli/commands_init.py.j2",
            {"source": source},
        ),
        Output(f"src/{module}/cli/_args.py", "python/cli/args.py.j2", {"source": source}),
        Output(f"src/{module}/cli/_output.py", "python/cli/output.py.j2", {"source": source}),
        Output(
            f"src/{module}/cli/main.py",
            "python/cli/main.py.j2",
            {
                "source": source,
                "module": module,
                "name": package.name,
                "description": package.description,
                "commands": [
                    {"name": f.name, "local": local_name(f.name, _MAIN_MODULE_NAMES)}
                    for f in package.functions
                ],
            },
        ),
    ]


RULE = Rule(
    name="python.cli",
    language="python",
    interface="cli",
    version="2",
    function_outputs=function_outputs,
    package_outputs=package_outputs,
)
