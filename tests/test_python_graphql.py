"""The GraphQL interface: the kitchen-sink package served by its console script and queried with
httpx over real HTTP (every type, Int64 past 32 bits, error codes); then a package whose names
and descriptions try to break out of the Python, the SDL and the docs they are written into."""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from kitchen import Built, answers_http, free_port, generate_spec, run, running, serving

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(kitchen: Built) -> Iterator[str]:
    with serving(kitchen) as url:
        yield url


def query(url: str, text: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    response = httpx.post(f"{url}/graphql", json={"query": text, "variables": variables or {}})
    assert response.status_code == 200, response.text
    assert "Traceback" not in response.text
    body: dict[str, Any] = response.json()
    return body


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def test_every_type_round_trips(server: str) -> None:
    body = query(
        server,
        """query ($data: Base64!, $tags: JSON, $nested: JSON, $values: [Float!]!) {
          checksum(data: $data, tags: $tags, upper: true, label: "L") { result }
          describe(words: ["a", "b\\"c"], loud: true, json: [2, 3], nested: $nested, bonus: null) {
            result
          }
          scale(values: $values, factor: 3, round_to: 1) { result }
          reverse_bytes(data: "YWJj", repeat: 2, sep: "LQ==") { result }
          nothing: describe(words: [], loud: false) { result }
        }""",
        {
            "data": b64("héllo".encode()),
            "tags": {"a": 2},
            "nested": {"k": [b64(b"xy"), b64(b"z")]},
            "values": [1, 2.5],
        },
    )
    assert "errors" not in body, body
    assert body["data"] == {
        "checksum": {"result": {"length": 6, "sum": 27, "A": 12, "L": 0}},
        "describe": {"result": 'A B"C 5 3 NONE'},
        "scale": {"result": [3.0, 7.5]},
        "reverse_bytes": {"result": b64(b"cba-cba")},
        "nothing": {"result": None},
    }


def test_int64_carries_more_than_32_bits(server: str) -> None:
    big = 2**40
    body = query(server, f"{{ scale(values: [1.5], round_to: {big}) {{ result }} }}")
    assert body == {"data": {"scale": {"result": [3.0]}}}
    too_big = query(
        server, "query ($r: Int64) { scale(values: [1], round_to: $r) { result } }", {"r": 2**63}
    )
    assert too_big["errors"][0]["extensions"]["code"] == "VALIDATION_ERROR"


@pytest.mark.parametrize(
    ("text", "variables"),
    [
        ("{ scale(values: [1] { result } }", {}),  # syntax
        ("{ scale(values: [1]) { nope } }", {}),  # unknown field
        ("{ no_such_function { result } }", {}),
        ('{ scale(values: ["x"]) { result } }', {}),
        ("query ($d: Base64!) { reverse_bytes(data: $d) { result } }", {"d": "not base64!"}),
        ('query ($t: JSON) { checksum(data: "", tags: $t) { result } }', {"t": {"a": "x"}}),
        ('query ($t: JSON) { checksum(data: "", tags: $t) { result } }', {"t": [1]}),
        ("{ scale(values: [1], round_to: true) { result } }", {}),
    ],
)
def test_bad_input_is_a_validation_error(server: str, text: str, variables: dict[str, Any]) -> None:
    body = query(server, text, variables)
    assert body["errors"], body
    assert {error["extensions"]["code"] for error in body["errors"]} == {"VALIDATION_ERROR"}


def test_schema_is_introspectable_and_packaged(server: str, kitchen: Built) -> None:
    body = query(server, '{ __type(name: "Query") { fields { name type { ofType { name } } } } }')
    fields = {f["name"]: f["type"]["ofType"]["name"] for f in body["data"]["__type"]["fields"]}
    assert fields == {
        "scale": "ScaleResult",
        "checksum": "ChecksumResult",
        "reverse_bytes": "ReverseBytesResult",
        "describe": "DescribeResult",
    }
    sdl = kitchen.package / "src/kitchen_sink/graphql/schema.graphql"
    assert (
        "  reverse_bytes(data: Base64!, repeat: Int64! = 1, sep: Base64 = null)"
        in sdl.read_text(encoding="utf-8")
    )


def test_generated_graphql_tests_pass(kitchen: Built) -> None:
    result = run(
        [kitchen.bin("python"), "-m", "pytest", "-q", "-p", "no:cacheprovider", "-k", "graphql"],
        kitchen.package,
    )
    assert result.returncode == 0, result.stdout + result.stderr


# ---- names and text that try to escape ----

TRICKY = r"""
project:
  name: tricky
  description: "Ends in a quote and a backslash \"\"\" \\"
  version: 0.1.0
functions:
  - name: call
    description: "  Leading blanks, a \"\"\"triple quote\"\"\", a backslash \\ and a bell \a.\n\n
      \    Indented second paragraph.\n"
    parameters:
      - {name: cls, type: string, description: "\n\tStarts with a line break \"\"\""}
      - {name: info, type: int, default: 3, description: "ends with a quote\""}
      - {name: root, type: "list[int]", default: [100000, 200000, 300000, 400000, 500000]}
      - name: result
        type: "dict[string, bytes]"
        default: {a: "x"}
        description: "*/ }} {{ # not a comment"
      - {name: given, type: "optional[bytes]", default: "hi"}
      - {name: json, type: float, default: 0.25}
      - {name: model_config, type: bool, default: true}
    output_type: "optional[dict[string, list[bytes]]]"
    code: |
      def call(
          cls: str,
          info: int = 3,
          root: list[int] = [100000, 200000, 300000, 400000, 500000],
          result: dict[str, bytes] = {"a": b"x"},
          given: bytes | None = b"hi",
          json: float = 0.25,
          model_config: bool = True,
      ) -> dict[str, list[bytes]] | None:
          if cls == "bad":
              raise ValueError("cls must not be bad")
          if cls == "boom":
              raise RuntimeError("a secret that must not leak")
          if not model_config:
              return None
          return {key: [value, given or b""] for key, value in result.items()}
    examples:
      - name: defaults
        input: {cls: "ok"}
        output: {a: ["x", "hi"]}
      - name: switched_off
        input: {cls: "ok", model_config: false}
        output: null
"""


@pytest.fixture(scope="module")
def tricky(kitchen: Built, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate_spec(tmp_path_factory.mktemp("tricky"), "tricky", TRICKY)


def test_tricky_package_passes_its_tests_and_checkers(kitchen: Built, tricky: Path) -> None:
    # the kitchen venv has every library the package needs; the package comes from src/
    env = {**os.environ, "PYTHONPATH": str(tricky / "src")}
    for command in (
        ["-m", "pytest", "-q", "-p", "no:cacheprovider"],
        # the spec's own code has list and dict defaults (B006): only the interfaces are checked
        ["-m", "ruff", "check", "--no-cache", "--extend-exclude", "src/tricky/functions", "."],
        ["-m", "ruff", "format", "--no-cache", "--check", "."],
        ["-m", "mypy", "--no-incremental"],
    ):
        result = run([kitchen.bin("python"), *command], tricky, env=env)
        assert result.returncode == 0, " ".join(command) + "\n" + result.stdout + result.stderr


@pytest.fixture(scope="module")
def tricky_server(kitchen: Built, tricky: Path) -> Iterator[str]:
    url = f"http://127.0.0.1:{(port := free_port())}"
    env = {
        "PYTHONPATH": str(tricky / "src"),
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "GRPC_PORT": "0",
    }
    command = [kitchen.bin("python"), "-c", "from tricky.service.app import main; main()"]
    with running(command, tricky, env, answers_http(url)):
        yield url


def test_function_failures_have_codes_and_no_trace(tricky_server: str) -> None:
    bad = query(tricky_server, '{ call(cls: "bad") { result } }')
    assert bad["errors"][0]["extensions"] == {"code": "VALIDATION_ERROR"}
    assert bad["errors"][0]["message"] == "cls must not be bad"
    boom = query(tricky_server, '{ call(cls: "boom") { result } }')
    assert boom["errors"][0]["extensions"] == {"code": "INTERNAL_ERROR"}
    assert boom["errors"][0]["message"] == "internal error"
    assert "secret" not in str(boom)


def test_reserved_names_and_json_defaults(tricky_server: str) -> None:
    body = query(
        tricky_server,
        'query ($r: JSON) { call(cls: "x", info_: 1, result: $r, given: null) { result } }',
        {"r": {"k": b64(b"v")}},
    )
    assert body == {"data": {"call": {"result": {"k": [b64(b"v"), ""]}}}}
    defaults = query(tricky_server, '{ call(cls: "x") { result } }')
    assert defaults == {"data": {"call": {"result": {"a": [b64(b"x"), b64(b"hi")]}}}}


def test_a_result_json_cannot_carry_is_a_validation_error(server: str) -> None:
    body = query(server, "{ scale(values: [1.7e308], factor: 10) { result } }")
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "VALIDATION_ERROR"
    assert "infinity" in error["message"]
