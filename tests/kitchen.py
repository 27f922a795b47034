"""The kitchen-sink package: a spec using every type, built with every Python interface and
installed (with its test and lint extras) into one virtual environment.

Built once per run and interface set; pytest-xdist workers share it under a file lock. Tests of
each interface drive it with that interface's real client.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from filelock import FileLock
from helpers import tool

ALL_INTERFACES = ("cli", "graphql", "grpc", "rest", "websocket")

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
          if not 0 <= repeat <= 100:
              raise ValueError(f"repeat must be 0 to 100, not {repeat}")
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


def run(args: list[str], cwd: Path, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=600, **kwargs)  # type: ignore[call-overload]


def generate(
    project: Path,
    *extra: str,
    interfaces: tuple[str, ...] = ALL_INTERFACES,
    spec: str = "specs/kitchen.yml",
    language: str = "python",
) -> subprocess.CompletedProcess[str]:
    """``apipack generate`` of the *language* package of *spec* in *project*, into
    ``generated``."""
    env = {**os.environ, "HOME": str(project / "home")}  # no user settings or templates
    return run(
        [
            tool("apipack"),
            "generate",
            spec,
            "-l",
            language,
            "-i",
            ",".join(interfaces),
            "-o",
            "generated",
            *extra,
        ],
        project,
        env=env,
    )


def generate_spec(project: Path, name: str, text: str) -> Path:
    """The Python package *name*, with every interface, generated in *project* from the spec
    *text* (written as ``specs/<name>.yml``)."""
    (project / "specs").mkdir(parents=True, exist_ok=True)
    (project / f"specs/{name}.yml").write_text(text, encoding="utf-8")
    done = generate(project, spec=f"specs/{name}.yml")
    assert done.returncode == 0, done.stdout + done.stderr
    return project / "generated/python" / name


def build(base: Path, interfaces: tuple[str, ...] = ALL_INTERFACES) -> Built:
    """The package built and installed under *base* (shared by all workers of a run)."""
    root = base / ("kitchen-" + "-".join(interfaces))
    root.mkdir(exist_ok=True)
    with FileLock(str(root / ".lock")):
        built = Built(
            root / "project", root / "project/generated/python/kitchen-sink", root / "venv"
        )
        if not (root / "ready").exists():
            (built.project / "specs").mkdir(parents=True, exist_ok=True)
            (built.project / "specs/kitchen.yml").write_text(SPEC, encoding="utf-8")
            result = generate(built.project, interfaces=interfaces)
            assert result.returncode == 0, result.stdout + result.stderr
            run([sys.executable, "-m", "venv", str(built.venv)], root).check_returncode()
            install = run(
                [
                    built.bin("python"),
                    "-m",
                    "pip",
                    "install",
                    "--quiet",
                    "--disable-pip-version-check",
                    f"{built.package}[test,lint]",
                ],
                root,
            )
            assert install.returncode == 0, install.stdout + install.stderr
            (root / "ready").touch()
    return built


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def answers_http(url: str) -> Callable[[], bool]:
    """Whether the server at *url* is ready (``/health/ready`` says 200)."""

    def ready() -> bool:
        try:
            return httpx.get(f"{url}/health/ready", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    return ready


@contextmanager
def running(
    command: list[str],
    cwd: Path,
    env: Mapping[str, str],
    ready: Callable[[], bool],
    log: Path | None = None,
) -> Iterator[subprocess.Popen[bytes]]:
    """*command* running (its stderr in the file *log*) from once *ready* says so until the
    block ends; it fails if the process exits or is not ready within 30 s."""
    with log.open("wb") if log else open(os.devnull, "wb") as stderr:
        process = subprocess.Popen(
            command, cwd=cwd, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=stderr
        )
        try:
            deadline = time.monotonic() + 30
            while not ready():
                assert process.poll() is None, log.read_text("utf-8") if log else "it exited"
                assert time.monotonic() < deadline, f"{command[0]} was not ready in 30 s"
                time.sleep(0.2)
            yield process
        finally:
            process.terminate()
            process.wait(timeout=10)


@contextmanager
def serving(
    built: Built, env: Mapping[str, str] | None = None, log: Path | None = None
) -> Iterator[str]:
    """The package's ``kitchen-sink-server`` on a free port of 127.0.0.1, until the block ends;
    *env* adds to its environment (``GRPC_PORT`` defaults to 0: no gRPC server); its log lines
    go to the file *log*."""
    url = f"http://127.0.0.1:{(port := free_port())}"
    server_env = {"HOST": "127.0.0.1", "PORT": str(port), "GRPC_PORT": "0", **(env or {})}
    with running(
        [built.bin("kitchen-sink-server")], built.project, server_env, answers_http(url), log
    ):
        yield url
