"""Mutation checks of generated test suites: each function of a built Python package is replaced in
turn by wrong variants — a constant of its type, an empty value, a raise — and the package's own
tests of that function must fail for each. A suite that passes a mutant cannot tell that function
from a wrong one."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from apipack_build.rules import Function, TypeRef

_CONSTANTS: dict[str, Any] = {
    "string": "mutant",
    "int": 987654321,
    "float": 12345.678,
    "bytes": b"mutant",
}
_EMPTY: dict[str, Any] = {"string": "", "int": 0, "float": 0.0, "bool": False, "bytes": b""}


def constant(ref: TypeRef, function: Function) -> Any:
    if ref.kind == "optional":
        return constant(ref.item, function)
    if ref.kind == "list":
        return [constant(ref.item, function)]
    if ref.kind == "dict":
        return {"mutant": constant(ref.item, function)}
    if ref.kind == "bool":  # the flag no example with an output expects first
        given = [e.output for e in function.examples if e.has_output]
        return not given[0] if given else True
    return _CONSTANTS[ref.kind]


def empty(ref: TypeRef) -> Any:
    if ref.kind == "optional":
        return None
    return {"list": [], "dict": {}}.get(ref.kind, _EMPTY.get(ref.kind))


def mutants(function: Function) -> dict[str, str]:
    """Label -> a body for the function; the original keeps its signature (the mutant takes any
    arguments), so only behaviour changes."""
    ref = function.output_ref
    bodies = {
        "constant": f"return {constant(ref, function)!r}",
        "empty": f"return {empty(ref)!r}",
        "raise": 'raise RuntimeError("mutant")',
    }
    if bodies["constant"] == bodies["empty"]:
        del bodies["empty"]
    return bodies


def survivors(
    python: str, package: Path, module: str, functions: tuple[Function, ...], env: dict[str, str]
) -> list[str]:
    """The mutants of *functions* that the package's tests of that function let pass (empty when
    the suite kills them all)."""
    found = []
    for function in functions:
        for label, body in mutants(function).items():
            with replaced(package, module, function.name, body):
                done = pytest_run(python, package, ["-x", "-k", function.name, "tests"], env)
            if done.returncode in (0, 5):  # passed, or no test of it ran at all
                found.append(f"{function.name}: {label} ({body}) survived")
    return found


@contextmanager
def replaced(package: Path, module: str, name: str, body: str) -> Iterator[None]:
    """Function *name* of the package with *body* instead of its own, for the duration: the
    mutant is appended to the function's module, which it overrides, and removed again. It takes
    any arguments, so only behaviour changes."""
    mutant = f"\n\ndef {name}(*args: object, **kwargs: object) -> object:\n    {body}\n"
    with appended(package / "src" / module / "functions" / f"{name}.py", mutant):
        yield


@contextmanager
def appended(source: Path, text: str) -> Iterator[None]:
    """*text* at the end of the module *source* for the duration, where its definitions
    override the module's own."""
    original = source.read_text(encoding="utf-8")
    source.write_text(original + text, encoding="utf-8")
    try:
        yield
    finally:
        source.write_text(original, encoding="utf-8")


def pytest_run(
    python: str, package: Path, args: list[str], env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    """The package's own tests, run with *args* in *package* (no cache or bytecode left)."""
    return subprocess.run(
        [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=package,
        env={**os.environ, **env, "PYTHONDONTWRITEBYTECODE": "1"},
        capture_output=True,
        text=True,
        timeout=600,
    )
