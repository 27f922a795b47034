"""Clients nobody here wrote, against the running kitchen-sink service, used with no edit.

REST: openapi-generator (``python``, ``typescript-fetch`` compiled by ``tsc --strict``) and
openapi-python-client generate clients from the served ``/openapi.json``; a user's program for
each (``tests/clients/``) calls every function, bytes in and out included, a health route and
one bad input. gRPC: grpcurl knows the service only through server reflection; buf lints the
generated ``.proto`` with its STANDARD rules. The tools come from their registries
(``thirdparty``), cached across runs.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest
import thirdparty
from kitchen import Built, free_port, serving
from ts_kitchen import BuiltTs

pytestmark = pytest.mark.slow

CLIENTS = Path(__file__).parent / "clients"
SERVICE = "kitchen_sink.v1.KitchenSinkService"
#: what each client program prints: every function's result, bytes as base64 text in JSON
EXPECTED: dict[str, Any] = {
    "scale": [2.0, 5.0],
    "checksum": {"length": 6, "sum": 27, "A": 12},
    "checksum_upload": {"length": 6, "sum": 27, "A": 12},
    "reverse_bytes": "Y2JhY2Jh",  # b"cbacba"
    "reverse_bytes_upload": "Y2JhLWNiYQ==",  # b"cba-cba"
    "describe": "A B 0 2 NONE",
    "health": "ok",
    "error": [400, "VALIDATION_ERROR"],
}
#: a bytes result asked for raw, by ``Accept: application/octet-stream``
RAW = {"reverse_bytes_raw": ["application/octet-stream", "cba"]}


@dataclass(frozen=True)
class Served:
    url: str
    grpc: str
    document: Path
    log: Path


@pytest.fixture(scope="module")
def served(kitchen: Built, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    folder = tmp_path_factory.mktemp("served")
    port = free_port()
    log = folder / "server.log"
    with serving(kitchen, {"GRPC_PORT": str(port)}, log) as url:
        document = folder / "openapi.json"
        document.write_bytes(httpx.get(f"{url}/openapi.json").content)
        yield Served(url, f"127.0.0.1:{port}", document, log)
    assert "Traceback" not in log.read_text("utf-8")


def run(command: Sequence[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [str(word) for word in command],
        cwd=cwd,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=600,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, f"{command}:\n{done.stdout}\n{done.stderr}"
    return done


def printed(done: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    results: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return results


# ---- REST: generated clients ----


def test_openapi_generator_python_client(served: Served, tmp_path: Path) -> None:
    out = tmp_path / "client"
    run(
        [
            *thirdparty.openapi_generator(),
            "generate",
            "-g",
            "python",
            "-i",
            str(served.document),
            "-o",
            str(out),
            "--package-name",
            "kitchen_client",
        ],
        tmp_path,
    )
    python = thirdparty.python_venv(
        f"openapi-generator-python-{thirdparty.OPENAPI_GENERATOR}",
        thirdparty.OPENAPI_GENERATOR_PYTHON_RUNTIME,
    )
    program = [python, CLIENTS / "openapi_generator_python.py", served.url]
    assert printed(run(program, tmp_path, PYTHONPATH=str(out))) == {**EXPECTED, **RAW}


def test_openapi_generator_typescript_fetch_client(served: Served, tmp_path: Path) -> None:
    run(
        [
            *thirdparty.openapi_generator(),
            "generate",
            "-g",
            "typescript-fetch",
            "-i",
            str(served.document),
            "-o",
            str(tmp_path / "client"),
        ],
        tmp_path,
    )
    shutil.copy(CLIENTS / "openapi_generator_typescript.ts", tmp_path / "main.ts")
    options = {
        "target": "ES2020",
        "module": "commonjs",
        "lib": ["ES2020", "DOM"],
        "strict": True,
        "types": [],
        "outDir": "out",
    }
    config = {"compilerOptions": options, "files": ["main.ts"]}
    (tmp_path / "tsconfig.json").write_text(json.dumps(config), encoding="utf-8")
    run([*thirdparty.tsc(), "-p", str(tmp_path)], tmp_path)
    node = thirdparty.toolchain("node", "apt-get install nodejs")
    results = printed(run([node, tmp_path / "out" / "main.js", served.url], tmp_path))
    assert results == {**EXPECTED, **RAW}


def test_openapi_python_client(served: Served, tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"post_hooks": []}), encoding="utf-8")  # no formatter needed
    generated = run(
        [
            *thirdparty.openapi_python_client(),
            "generate",
            "--path",
            str(served.document),
            "--meta",
            "none",
            "--output-path",
            str(tmp_path / "kitchen_sink_client"),
            "--config",
            str(config),
        ],
        tmp_path,
    )
    # it skips, with a warning, what it cannot turn into code: nothing may be skipped
    assert "Warning" not in generated.stdout + generated.stderr, generated.stdout
    python = thirdparty.openapi_python_client()[0]  # its own venv has httpx and attrs
    program = [python, CLIENTS / "openapi_python_client.py", served.url]
    assert printed(run(program, tmp_path, PYTHONPATH=str(tmp_path))) == EXPECTED


# ---- gRPC: reflection only, and buf ----

GRPC_CASES = [
    ("Scale", {"values": [1, 2.5]}, {"result": [2, 5]}),
    (
        "Checksum",
        {"data": "aMOpbGxv", "tags": {"items": {"a": "2"}}, "upper": True},
        {"result": {"A": "12", "length": "6", "sum": "27"}},  # proto JSON: int64 as text
    ),
    ("ReverseBytes", {"data": "YWJj", "repeat": "2"}, {"result": "Y2JhY2Jh"}),
    (
        "Describe",
        {"words": ["a", "b"], "loud": True, "nested": {"items": {"k": {"items": ["eHk="]}}}},
        {"result": "A B 0 2 5"},
    ),
]


@pytest.fixture(params=["python", "typescript"])
def grpc_address(request: pytest.FixtureRequest) -> str:
    """Where the kitchen-sink service of each language answers gRPC."""
    if request.param == "python":
        served: Served = request.getfixturevalue("served")
        return served.grpc
    request.getfixturevalue("ts_server")  # the one process serving HTTP and gRPC
    return f"127.0.0.1:{request.getfixturevalue('ts_grpc_port')}"


def test_grpcurl_calls_every_rpc_through_reflection(grpc_address: str, tmp_path: Path) -> None:
    grpcurl = [thirdparty.grpcurl(), "-plaintext"]  # never -proto: reflection only
    listed = run([*grpcurl, grpc_address, "list"], tmp_path).stdout.split()
    assert {SERVICE, "grpc.health.v1.Health"} <= set(listed)
    methods = run([*grpcurl, grpc_address, "list", SERVICE], tmp_path).stdout.split()
    assert sorted(methods) == sorted(f"{SERVICE}.{rpc}" for rpc, _, _ in GRPC_CASES)
    for rpc, request, expected in GRPC_CASES:
        answer = run(
            [*grpcurl, "-d", json.dumps(request), grpc_address, f"{SERVICE}/{rpc}"], tmp_path
        )
        assert json.loads(answer.stdout) == expected, rpc
    check = run([*grpcurl, grpc_address, "grpc.health.v1.Health/Check"], tmp_path)
    assert json.loads(check.stdout) == {"status": "SERVING"}
    listing = run([*grpcurl, grpc_address, "grpc.health.v1.Health/List"], tmp_path)
    assert json.loads(listing.stdout) == {
        "statuses": {"": {"status": "SERVING"}, SERVICE: {"status": "SERVING"}}
    }
    refused = subprocess.run(
        [
            *grpcurl,
            "-d",
            '{"data": "YWJj", "repeat": 101}',
            grpc_address,
            f"{SERVICE}/ReverseBytes",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode != 0
    assert "Code: InvalidArgument" in refused.stdout + refused.stderr
    assert "repeat must be 0 to 100, not 101" in refused.stdout + refused.stderr


def test_health_watch_answers(grpc_address: str) -> None:
    """``Watch`` streams the status; with ``Check`` and ``List`` every method of the health
    service answers (and the fixture checks the log holds no traceback)."""
    with grpc.insecure_channel(grpc_address) as channel:
        watch = channel.unary_stream("/grpc.health.v1.Health/Watch")
        stream = watch(b"", timeout=30)  # HealthCheckRequest(service="")
        first = next(stream)
        stream.cancel()
    assert first == b"\x08\x01"  # HealthCheckResponse(status=SERVING)


def test_buf_lint_standard_passes(kitchen: Built, tmp_path: Path) -> None:
    package = kitchen.package
    proto = package / "src/kitchen_sink/v1/kitchen_sink.proto"
    assert "package kitchen_sink.v1;" in proto.read_text("utf-8")
    done = run([thirdparty.buf(), "lint"], package, BUF_CACHE_DIR=str(tmp_path / "buf"))
    assert done.stdout == ""


def test_buf_lint_passes_on_the_typescript_package_too(
    kitchen: Built, ts_built: BuiltTs, tmp_path: Path
) -> None:
    """The TypeScript package ships the Python package's .proto, byte for byte."""
    proto = ts_built.package / "proto/kitchen_sink/v1/kitchen_sink.proto"
    python = kitchen.package / "src/kitchen_sink/v1/kitchen_sink.proto"
    assert proto.read_bytes() == python.read_bytes()
    done = run([thirdparty.buf(), "lint"], ts_built.package, BUF_CACHE_DIR=str(tmp_path / "buf"))
    assert done.stdout == ""
