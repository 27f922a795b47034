"""A Python body run against its spec's examples before apipack accepts it from the LLM."""

from __future__ import annotations

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
    return ExampleRun(
        # -I: none of the caller's environment variables, user site or current folder on the path
        argv=(sys.executable, "-I", "run.py"),
        files={
            "run.py": RUNNER.read_text(encoding="utf-8"),
            "candidate.py": code,
            "cases.py": text,
        },
        verdict="verdict.json",
    )
