"""A TypeScript or JavaScript body run against its spec's examples by Node, before apipack
accepts it from the LLM: types stripped in process (``_strip``), the examples written as
JavaScript values, the run as for Python (``apipack_build.ask.verify``). Without Node on PATH
there is nothing to run it with, and the body is accepted on its check alone."""

from __future__ import annotations

import shutil
from pathlib import Path

from apipack_build.rules import ExampleRun, Function, TypeRef

from ._filters import ts_string
from ._strip import strip_types
from ._types import literal

RUNNER = Path(__file__).with_name("_example_runner.mjs")
#: checks whose value is a piece of the result, written in the result's own type
_PIECES = ("starts_with", "ends_with", "contains")


def example_run(code: str, function: Function) -> ExampleRun | None:
    """The files and command that run *code* against *function*'s examples; None without any
    examples or without Node."""
    node = shutil.which("node")
    if not function.examples or node is None:
        return None
    return ExampleRun(
        argv=(node, "run.mjs"),
        files={
            "run.mjs": RUNNER.read_text(encoding="utf-8"),
            "candidate.mjs": strip_types(code),
            "cases.mjs": cases(function),
        },
        verdict="verdict.json",
    )


def cases(function: Function) -> str:
    """``cases.mjs``: the function's name and each example as JavaScript values."""
    output = function.output_ref
    base = output.item if output.kind == "optional" else output
    rows = []
    for example in function.examples:
        args = [
            literal(p.type_ref, example.input.get(p.name, p.default)) for p in function.parameters
        ]
        call = f"{function.name}({', '.join(args)})"
        checks = ", ".join(
            f"[{ts_string(kind)}, {_check_value(kind, base, value)}]"
            for kind, value in sorted(example.check.items())
        )
        expected = literal(output, example.output) if example.has_output else "undefined"
        rows.append(
            f"  {{ example: {ts_string(example.name)}, call: {ts_string(call)}, "
            f"args: [{', '.join(args)}], hasOutput: {'true' if example.has_output else 'false'}, "
            f"expected: {expected}, checks: [{checks}] }},"
        )
    return "\n".join(
        [
            f"export const NAME = {ts_string(function.name)};",
            "export const CASES = [",
            *rows,
            "];",
            "",
        ]
    )


def _check_value(kind: str, result: TypeRef, value: object) -> str:
    if kind in _PIECES and result.kind == "bytes" and isinstance(value, str):
        return literal(result, value.encode("latin-1"))  # a check on bytes spells bytes
    if kind in _PIECES or kind in ("min", "max"):
        return literal(result, value)
    return str(int(value))  # type: ignore[call-overload]
