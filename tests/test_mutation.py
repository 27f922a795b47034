"""The every-type (kitchen) package's generated suite tells each function from wrong ones: a
constant, an empty value and a raise are each caught, through every interface's tests. (The
bundled examples get the same check in ``test_bundled_examples_build.py``.)"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers import run_apipack
from kitchen import ALL_INTERFACES, Built, generate_spec, run
from mutation import appended, pytest_run, replaced, survivors

from apipack_build.load.registry import registry
from apipack_build.spec import load_spec


def test_the_kitchen_suite_kills_every_mutant(kitchen: Built, tmp_path: Path) -> None:
    # a copy, first on the path: other tests use the installed package at the same time
    package = tmp_path / "kitchen-sink"
    shutil.copytree(kitchen.package, package, ignore=shutil.ignore_patterns("__pycache__"))
    spec = load_spec(
        kitchen.project / "specs/kitchen.yml", kitchen.project, registry().vocabulary()
    )
    env = {"PYTHONPATH": str(package / "src")}
    found = survivors(kitchen.bin("python"), package, "kitchen_sink", spec.functions, env)
    killed = 3 * len(spec.functions) - len(found)
    assert found == [], f"kill rate {killed}/{3 * len(spec.functions)}"


#: functions without examples (their tests are property tests) and one whose examples give no
#: output (its interface tests compare with a direct call)
PROPERTIES = """
project:
  name: props
  description: Functions a spec gives no examples of.
  version: 0.1.0
functions:
  - name: totals
    description: Counts and sums the values, scaled; a label adds a key.
    parameters:
      - {name: values, type: "list[float]"}
      - {name: scale, type: int, default: 1}
      - {name: label, type: "optional[string]"}
    output_type: "dict[string, float]"
    code: |
      def totals(
          values: list[float], scale: int = 1, label: str | None = None
      ) -> dict[str, float]:
          result = {"count": float(len(values)), "sum": sum(values) * scale}
          if label is not None:
              result[label] = 0.0
          return result
  - name: pack
    description: Joins data, words and a summary of the rest.
    parameters:
      - {name: data, type: bytes}
      - {name: upper, type: bool}
      - {name: words, type: "list[string]"}
      - {name: sep, type: "optional[bytes]"}
      - {name: sizes, type: "optional[dict[string, list[int]]]"}
      - {name: ratio, type: float, default: 0.5}
    output_type: bytes
    code: |
      def pack(
          data: bytes,
          upper: bool,
          words: list[str],
          sep: bytes | None = None,
          sizes: dict[str, list[int]] | None = None,
          ratio: float = 0.5,
      ) -> bytes:
          text = " ".join(words).upper() if upper else " ".join(words)
          count = sum(len(items) for items in (sizes or {}).values())
          summary = f"{count} {ratio!r}".encode()
          return (sep or b"|").join([data, text.encode(), summary])
  - name: greet
    description: Greets someone.
    parameters:
      - {name: name, type: string}
    output_type: string
    code: |
      def greet(name: str) -> str:
          return f"Hello, {name}!"
    examples:
      - name: checked
        input: {name: Ann}
        check: {starts_with: "Hello, "}
      - name: implied
        input: {name: Bob}
"""


#: an interface that changes what the function returned, keeping its type and what the checks
#: ask: only a comparison with a direct call tells it from a right one
ALTERED = """

def _altered(value: object) -> object:
    if isinstance(value, str):
        return value + "!"
    if isinstance(value, bytes):
        return value + b"!"
    return {**value, "altered": 1.0}  # type: ignore[dict-item]
"""
#: per interface: the module to append to, and what overrides the way it answers
ALTERING = {
    "cli": (
        "cli/_output.py",
        """
_print_result = print_result


def print_result(result, *, as_json):
    _print_result(_altered(result), as_json=as_json)
""",
    ),
    **{
        interface: (
            "service/calls.py",
            f"""
_call = call


def call(interface, function, fn, /, **arguments):
    result = _call(interface, function, fn, **arguments)
    return _altered(result) if interface == "{interface}" else result
""",
        )
        for interface in ("graphql", "grpc", "rest", "websocket")
    },
}


@dataclass(frozen=True)
class Props:
    project: Path
    package: Path
    python: str
    env: dict[str, str]
    #: function -> its test modules: the direct one, then one per interface
    modules: dict[str, list[str]]

    def failed(self, modules: list[str]) -> set[str]:
        """Those of *modules* with a failing test."""
        done = pytest_run(self.python, self.package, ["-rf", *modules], self.env)
        return {
            line.split("::")[0].split()[-1]
            for line in done.stdout.splitlines()
            if line.startswith("FAILED ")
        }


@pytest.fixture(scope="module")
def props(kitchen: Built, tmp_path_factory: pytest.TempPathFactory) -> Props:
    project = tmp_path_factory.mktemp("props")
    package = generate_spec(project, "props", PROPERTIES)
    spec = load_spec(project / "specs/props.yml", project, registry().vocabulary())
    # the kitchen's environment has every interface's libraries; this package is on the path
    return Props(
        project,
        package,
        kitchen.bin("python"),
        {"PYTHONPATH": str(package / "src")},
        {
            function.name: [f"tests/test_{function.name}.py"]
            + [f"tests/test_{interface}_{function.name}.py" for interface in ALL_INTERFACES]
            for function in spec.functions
        },
    )


def test_a_function_that_raises_fails_its_tests_through_every_interface(props: Props) -> None:
    every = [module for modules in props.modules.values() for module in modules]
    correct = pytest_run(props.python, props.package, every, props.env)
    assert correct.returncode == 0, correct.stdout[-3000:]
    # the property tests are code people read: lint-clean with the package's own settings
    for check in (["ruff", "check", "--no-cache"], ["ruff", "format", "--no-cache", "--check"]):
        done = run([props.python, "-m", *check, "."], props.package)
        assert done.returncode == 0, done.stdout
    done = run([props.python, "-m", "mypy"], props.package)
    assert done.returncode == 0, done.stdout

    for function, modules in props.modules.items():
        with replaced(props.package, "props", function, 'raise RuntimeError("mutant")'):
            assert props.failed(modules) == set(modules)

    # what the tools left behind (Hypothesis's caches, mypy's) is neither extra nor stale
    interfaces = ",".join(ALL_INTERFACES)
    args = ("specs/props.yml", "-l", "python", "-i", interfaces, "-o", "generated")
    done = run_apipack(props.project, "check", *args)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("interface", ALL_INTERFACES)
def test_an_interface_answering_otherwise_than_a_direct_call_fails(
    props: Props, interface: str
) -> None:
    path, override = ALTERING[interface]
    modules = [f"tests/test_{interface}_{function}.py" for function in props.modules]
    with appended(props.package / "src/props" / path, ALTERED + override):
        assert props.failed(modules) == set(modules)
