"""A Python body run against its spec's examples before apipack accepts it from the LLM."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

from apipack_build.rules import ExampleRun, Function

from ._examples import python_arguments
from ._filters import py_literal
from .core import expectation

RUNNER = Path(__file__).with_name("_example_runner.py")


def example_run(code: str, function: Function) -> ExampleRun | None:
    """The files and command that run *code* against *function*'s examples; None without any."""
    if not function.examples:
        return None
    cases = []
    for example in function.examples:
        arguments = python_arguments(function, example.input)
        expected = expectation(function.output_ref, example, as_json=False)
        case = (
            example.name,
            arguments,
            expected["assertion"],
            expected["expected"],
            expected["type_check"],
            expected["checks"],
        )
        cases.append(f"    ({', '.join(map(py_literal, case))}),")
    text = "\n".join([f"NAME = {py_literal(function.name)}", "CASES = [", *cases, "]", ""])
    return ExampleRun.python(
        "run.py",
        {"run.py": RUNNER.read_text(encoding="utf-8"), "candidate.py": code, "cases.py": text},
        "verdict.json",
        # without site-packages for a body that imports only the standard library
        site=not _standard_library_only(code),
    )


#: what imports a module by a name known only when it runs
_DYNAMIC_IMPORTS = frozenset({"__import__", "import_module"})


def _standard_library_only(code: str) -> bool:
    """Does *code* import only standard modules, by name? Then its run needs no site-packages,
    and its interpreter starts without ``site`` (its .pth files: much of the start-up)."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return False
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module or ""] if node.level == 0 else [""]
        elif isinstance(node, ast.Name | ast.Attribute):
            names = [] if _named(node) not in _DYNAMIC_IMPORTS else [""]
        else:
            continue
        if any(name.partition(".")[0] not in sys.stdlib_module_names for name in names):
            return False
    return True


def _named(node: ast.Name | ast.Attribute) -> str:
    return node.id if isinstance(node, ast.Name) else node.attr
