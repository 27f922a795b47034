"""End to end: a spec using every type becomes a Python package that installs, passes its own
tests, is ruff clean and formatted, serves HTTP and runs from its console script.

One package and one virtual environment serve the whole module; under pytest-xdist the workers
share them (built once, under a file lock).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from filelock import FileLock

pytestmark = pytest.mark.slow

SPEC = r"""
project:
  name: kitchen-sink
  description: "Every spec type, and strings that need escaping: \"quotes\", \x27\x27\x27 and
    \"\"\", \\back\\slashes, {{ braces }}, */, 100% and ünïcödé.\n\nSecond paragraph.\n"
  version: 1.2.3
functions:
  - name: scale
    description: Scale numbers by a factor, optionally rounding.
    parameters:
      - {name: values, type: "list[float]", description: The numbers to scale.}
      - {name: factor, type: float, default: 2.0, description: "Multiplier (100% = 1.0)."}
      - {name: round_to, type: "optional[int]", description: Digits to keep; null keeps all.}
    output_type: "list[float]"
    code: |
      def scale(
          values: list[float], factor: float = 2.0, round_to: int | None = None
      ) -> list[float]:
          scaled = [value * factor for value in values]
          if round_to is not None:
              scaled = [round(value, round_to) for value in scaled]
          return scaled
    examples:
      - name: doubles
        input: {values: [1, 2.5]}
        output: [2.0, 5.0]
      - name: rounds
        input: {values: [0.1234], factor: 3, round_to: 2}
        output: [0.37]
  - name: checksum
    description: "Checksum of binary data.\nWeights each tag by the data's length."
    parameters:
      - {name: data, type: bytes, description: The payload.}
      - {name: tags, type: "optional[dict[string, int]]", description: Tag weights.}
      - {name: upper, type: bool, default: false, description: Upper-case the tags.}
      - {name: label, type: "optional[string]", description: An optional label.}
    output_type: "dict[string, int]"
    code: |
      def checksum(
          data: bytes,
          tags: dict[str, int] | None = None,
          upper: bool = False,
          label: str | None = None,
      ) -> dict[str, int]:
          result = {"length": len(data), "sum": sum(data) % 256}
          for key, weight in (tags or {}).items():
              result[key.upper() if upper else key] = weight * len(data)
          if label is not None:
              result[label] = 0
          return result
    examples:
      - name: text
        input: {data: "héllo", tags: {a: 2}, upper: true}
        output: {length: 6, sum: 27, A: 12}
      - name: labelled
        input: {data: "x", label: "-dash"}
        output: {length: 1, sum: 120, "-dash": 0}
      - input: {data: ""}
  - name: reverse_bytes
    description: Reverse the bytes, repeated, joined by a separator.
    parameters:
      - {name: data, type: bytes}
      - {name: repeat, type: int, default: 1}
      - {name: sep, type: "optional[bytes]"}
    output_type: bytes
    code: |
      def reverse_bytes(data: bytes, repeat: int = 1, sep: bytes | None = None) -> bytes:
          return (sep or b"").join([data[::-1]] * repeat)
    examples:
      - name: twice
        input: {data: "abc", repeat: 2}
        output: "cbacba"
      - name: any_output
        input: {data: "abc", sep: "--"}
  - name: describe
    description: Join words; report numbers and sizes.
    parameters:
      - {name: words, type: "list[string]"}
      - {name: loud, type: bool}
      - {name: sep, type: string, default: " "}
      - {name: json, type: "optional[list[int]]", description: A parameter named json.}
      - {name: nested, type: "optional[dict[string, list[bytes]]]"}
      - {name: bonus, type: "optional[int]", default: 5}
    output_type: "optional[string]"
    code: |
      def describe(
          words: list[str],
          loud: bool,
          sep: str = " ",
          json: list[int] | None = None,
          nested: dict[str, list[bytes]] | None = None,
          bonus: int | None = 5,
      ) -> str | None:
          if not words:
              return None
          size = sum(len(item) for items in (nested or {}).values() for item in items)
          text = sep.join(words) + f" {sum(json or [])} {size} {bonus}"
          return text.upper() if loud else text
    examples:
      - name: loud
        input: {words: [a, "b\"c"], loud: true, nested: {k: ["xy", "z"]}, bonus: null}
        output: 'A B"C 0 3 NONE'
      - name: nothing
        input: {words: [], loud: false}
        output: null
      - name: numbers
        input: {words: [x, y], loud: false, sep: "-", json: [2, 3]}
"""


@dataclass(frozen=True)
class Built:
    project: Path
    package: Path
    venv: Path

    def bin(self, name: str) -> str:
        return str(self.venv / ("Scripts" if os.name == "nt" else "bin") / name)


def _run(args: list[str], cwd: Path, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=600, **kwargs)  # type: ignore[call-overload]


def _generate(project: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HOME": str(project / "home")}  # no user settings or templates
    return _run(
        [
            "apipack",
            "generate",
            "specs/kitchen.yml",
            "-l",
            "python",
            "-i",
            "rest,cli",
            "-o",
            "generated",
            *extra,
        ],
        project,
        env=env,
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    # the parent of the base temp folder is shared by all xdist workers of this run
    root = tmp_path_factory.getbasetemp().parent / "python-target"
    root.mkdir(exist_ok=True)
    with FileLock(str(root / ".lock")):
        built = Built(
            root / "project", root / "project/generated/python/kitchen-sink", root / "venv"
        )
        if not (root / "ready").exists():
            (built.project / "specs").mkdir(parents=True)
            (built.project / "specs/kitchen.yml").write_text(SPEC, encoding="utf-8")
            result = _generate(built.project)
            assert result.returncode == 0, result.stdout + result.stderr
            _run([sys.executable, "-m", "venv", str(built.venv)], root).check_returncode()
            install = _run(
                [
                    built.bin("python"),
                    "-m",
                    "pip",
                    "install",
                    "--quiet",
                    "--disable-pip-version-check",
                    f"{built.package}[test]",
                ],
                root,
            )
            assert install.returncode == 0, install.stdout + install.stderr
            (root / "ready").touch()
    return built


def test_package_tree(built: Built) -> None:
    paths = [p.relative_to(built.package) for p in built.package.rglob("*") if p.is_file()]
    files = sorted(
        p.as_posix()
        for p in paths  # leave out what pip's build left behind
        if p.parts[0] != "build" and not any(part.endswith(".egg-info") for part in p.parts)
    )
    for expected in [
        "pyproject.toml",
        "README.md",
        "Dockerfile",
        ".dockerignore",
        "src/kitchen_sink/__init__.py",
        "src/kitchen_sink/py.typed",
        "src/kitchen_sink/functions/describe.py",
        "src/kitchen_sink/rest/app.py",
        "src/kitchen_sink/rest/routes/scale.py",
        "src/kitchen_sink/cli/main.py",
        "src/kitchen_sink/cli/commands/reverse_bytes.py",
        "tests/test_checksum.py",
        "tests/test_rest_checksum.py",
        "tests/test_cli_checksum.py",
        "tests/test_rest_health.py",
    ]:
        assert expected in files
    header = "# Generated by apipack from specs/kitchen.yml. Do not edit."
    for name in files:
        if name.endswith((".py", ".toml")) or name == "Dockerfile":
            assert (built.package / name).read_text(encoding="utf-8").startswith(header), name


def test_generated_tests_pass(built: Built) -> None:
    result = _run(
        [built.bin("python"), "-m", "pytest", "-q", "-p", "no:cacheprovider"], built.package
    )
    assert result.returncode == 0, result.stdout + result.stderr
    summary = result.stdout.strip().splitlines()[-1]
    assert int(summary.split(" passed")[0].split()[-1]) >= 40, summary


def test_ruff_check_is_clean(built: Built) -> None:
    result = _run(
        [sys.executable, "-m", "ruff", "check", "--isolated", "--no-cache", "."], built.package
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_leaves_it_alone(built: Built) -> None:
    result = _run(
        [
            sys.executable,
            "-m",
            "ruff",
            "format",
            "--isolated",
            "--no-cache",
            "--check",
            "--diff",
            ".",
        ],
        built.package,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def server(built: Built) -> Iterator[str]:
    port = _free_port()
    process = subprocess.Popen(
        [
            built.bin("uvicorn"),
            "kitchen_sink.rest.app:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        cwd=built.project,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            assert time.monotonic() < deadline, "the server did not come up in 30 s"
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_server_answers(server: str) -> None:
    health = httpx.get(f"{server}/health/ready", timeout=5)
    assert health.json() == {"status": "ok"}
    response = httpx.post(f"{server}/reverse_bytes", json={"data": "YWJj", "repeat": 2}, timeout=5)
    assert response.status_code == 200
    assert response.json() == {"result": "Y2JhY2Jh"}  # b"cbacba"
    response = httpx.post(f"{server}/scale", json={"values": [1, 2.5], "factor": 3}, timeout=5)
    assert response.json() == {"result": [3.0, 7.5]}
    assert httpx.post(f"{server}/scale", json={"values": "x"}, timeout=5).status_code == 422
    document = httpx.get(f"{server}/openapi.json", timeout=5).json()
    assert document["info"] == {**document["info"], "title": "kitchen-sink", "version": "1.2.3"}
    assert {"/scale", "/checksum", "/reverse_bytes", "/describe"} <= set(document["paths"])


def test_console_script(built: Built) -> None:
    script = built.bin("kitchen-sink")
    raw = subprocess.run(
        [script, "reverse-bytes", "--data", "-", "--repeat", "2"],
        input=b"abc",
        capture_output=True,
        timeout=60,
        check=True,
    )
    assert raw.stdout == b"cbacba"
    as_json = _run(
        [script, "describe", "--words", '["a", "b"]', "--no-loud", "--json-value", "[4]", "--json"],
        built.project,
    )
    assert json.loads(as_json.stdout) == {"result": "a b 4 0 5"}
    bad = _run([script, "scale", "--values", "[1]", "--factor", "many"], built.project)
    assert bad.returncode == 2
    assert bad.stderr == (
        "kitchen-sink scale: error: argument --factor: invalid float value: 'many'\n"
    )


def test_second_generate_changes_nothing(built: Built) -> None:
    """After installing and testing, the package is still exactly what the spec gives."""
    summary = built.project / "summary.json"
    result = _generate(built.project, "--summary-json", str(summary))
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(summary.read_text(encoding="utf-8"))["files_written"] == 0
