"""The TypeScript package's REST service and CLI, built from the every-type spec and run from a
clean copy of the generated folder: real HTTP on 127.0.0.1 driven by httpx, and the conformance
cases (``conformance.py``) that the Python service passes, on the interfaces TypeScript has."""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from conformance import (
    ACCEPT_CASES,
    VALUE_DOMAIN_CASES,
    Service,
    answered_media_type,
    scale_error_code,
)
from helpers import tool
from kitchen import answers_http, free_port, run, running
from ts_kitchen import BuiltTs, build_ts, spec

pytestmark = pytest.mark.slow

#: the interfaces both targets have today
INTERFACES = ("rest", "cli")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> BuiltTs:
    base = tmp_path_factory.getbasetemp()
    return build_ts(base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base, INTERFACES)


@pytest.fixture(scope="module")
def server(built: BuiltTs, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = f"http://127.0.0.1:{(port := free_port())}"
    log = tmp_path_factory.mktemp("ts-rest") / "server.log"
    env = {"HOST": "127.0.0.1", "PORT": str(port), "LOG_LEVEL": "INFO"}
    command = ["node", "dist/src/rest/server.js"]
    with running(command, built.package, env, answers_http(url), log):
        yield url


@pytest.fixture(scope="module")
def service(built: BuiltTs, server: str) -> Service:
    return Service(http=server, grpc="", cli=["node", str(built.package / "dist/src/cli/main.js")])


def test_the_package_tests_pass(built: BuiltTs) -> None:
    tests = built.npm("test")
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert "# fail 0" in tests.stdout
    for name in ("POST /scale", "scale"):  # the REST and the CLI tests ran and passed too
        assert re.search(rf"^ok \d+ - {name} rejects invalid input$", tests.stdout, re.M)


@pytest.mark.parametrize(
    ("function", "body", "expected"),
    [
        ("scale", {"values": [1, 2.5]}, [2.0, 5.0]),
        ("scale", {"values": [0.1234], "factor": 3, "round_to": 2}, [0.37]),
        (
            "checksum",
            {"data": "aMOpbGxv", "tags": {"a": 2}, "upper": True},
            {"length": 6, "sum": 27, "A": 12},
        ),
        ("reverse_bytes", {"data": "YWJj", "repeat": 2}, "Y2JhY2Jh"),
        (
            "describe",
            {"words": ["a", 'b"c'], "loud": True, "nested": {"k": ["eHk=", "eg=="]}, "bonus": None},
            'A B"C 0 3 NONE',
        ),
        ("describe", {"words": [], "loud": False}, None),
    ],
)
def test_examples_over_http(
    server: str, function: str, body: dict[str, Any], expected: Any
) -> None:
    response = httpx.post(f"{server}/{function}", json=body, timeout=30)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    result = response.json()["result"]
    assert result == expected
    assert type(result) is type(expected)  # 2.0 stays a float


def test_bad_input_is_a_validation_error_envelope(server: str) -> None:
    response = httpx.post(
        f"{server}/scale", json={"values": ["3"]}, timeout=30, headers={"X-Request-ID": "req-1"}
    )
    assert response.status_code == 422
    body = response.json()
    assert body["error"]["code"] == "VALIDATION_ERROR"
    assert set(body) == {"error", "timestamp", "request_id"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["request_id"] == "req-1" == response.headers["x-request-id"]
    unknown = httpx.post(f"{server}/scale", json={"values": [1], "extra": 1}, timeout=30)
    assert unknown.status_code == 422 and unknown.json()["error"]["code"] == "VALIDATION_ERROR"
    not_json = httpx.post(
        f"{server}/scale", content=b"{", headers={"Content-Type": "application/json"}, timeout=30
    )
    assert not_json.status_code == 400 and not_json.json()["error"]["code"] == "VALIDATION_ERROR"


def test_a_failing_function_is_a_validation_error(server: str) -> None:
    response = httpx.post(
        f"{server}/reverse_bytes", json={"data": "YWJj", "repeat": 101}, timeout=30
    )
    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "VALIDATION_ERROR",
        "message": "repeat must be 0 to 100, not 101",
        "details": None,
    }


def test_uploads_take_files_and_form_fields(server: str) -> None:
    """POST /<fn>/upload, as the shared OpenAPI document declares it: bytes as files (or text),
    flags as true or false in any case, dicts as JSON text; urlencoded forms too."""
    response = httpx.post(
        f"{server}/checksum/upload",
        files={"data": ("data.bin", "héllo".encode())},
        data={"tags": '{"a": 2}', "upper": "TRUE"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"result": {"length": 6, "sum": 27, "A": 12}}
    raw = httpx.post(
        f"{server}/reverse_bytes/upload",
        files={"data": ("d", b"abc"), "sep": ("s", b"--")},
        data={"repeat": "2"},
        headers={"Accept": "application/octet-stream"},
        timeout=30,
    )
    assert raw.status_code == 200, raw.text
    assert raw.content == b"cba--cba"
    form = httpx.post(f"{server}/reverse_bytes/upload", data={"data": "abc"}, timeout=30)
    assert form.json() == {"result": "Y2Jh"}
    flag = httpx.post(
        f"{server}/checksum/upload",
        files={"data": ("d", b"x")},
        data={"upper": "maybe"},
        timeout=30,
    )
    assert flag.status_code == 422 and flag.json()["error"]["code"] == "VALIDATION_ERROR"
    as_json = httpx.post(f"{server}/checksum/upload", json={"data": "eA=="}, timeout=30)
    assert as_json.status_code == 415
    assert as_json.json()["error"]["code"] == "UNSUPPORTED_MEDIA_TYPE"


def test_health_and_request_ids(server: str) -> None:
    health = httpx.get(f"{server}/health", timeout=30)
    assert health.json() == {"status": "ok", "name": "kitchen-sink", "version": "1.2.3"}
    assert re.fullmatch(r"[0-9a-f-]{36}", health.headers["x-request-id"])
    for path in ("/health/live", "/health/ready"):
        assert httpx.get(f"{server}{path}", timeout=30).json() == {"status": "ok"}
    missing = httpx.get(f"{server}/nowhere", timeout=30)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "NOT_FOUND"


def test_the_openapi_document_is_the_python_packages(
    server: str, built: BuiltTs, tmp_path: Path
) -> None:
    """Byte for byte the document the Python package of the same spec serves."""
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs/kitchen.yml").write_text(spec(), encoding="utf-8")
    result = run(
        [
            tool("apipack"),
            "generate",
            "specs/kitchen.yml",
            "-l",
            "python",
            "-i",
            "rest",
            "-o",
            "out",
        ],
        tmp_path,
        env={**os.environ, "HOME": str(tmp_path / "home")},
    )
    assert result.returncode == 0, result.stderr
    python = (tmp_path / "out/python/kitchen-sink/src/kitchen_sink/rest/openapi.json").read_bytes()
    assert httpx.get(f"{server}/openapi.json", timeout=30).content == python


def test_metrics_have_the_python_targets_names(server: str) -> None:
    httpx.post(f"{server}/scale", json={"values": [1]}, timeout=30)
    httpx.post(f"{server}/scale", json={"values": "no"}, timeout=30)
    text = httpx.get(f"{server}/metrics", timeout=30).text
    samples = {
        line.split("{")[0].split(" ")[0]
        for line in text.splitlines()
        if line and not line.startswith("#")
    }
    assert {
        "api_requests_total",
        "api_request_duration_seconds_bucket",
        "api_request_duration_seconds_count",
        "api_request_duration_seconds_sum",
        "http_requests_total",
    } <= samples
    assert 'api_requests_total{interface="rest",function="scale",status="VALIDATION_ERROR"}' in text
    assert 'http_requests_total{method="POST",route="/scale",status="422"}' in text


def test_logs_are_json_lines_with_the_request_id(built: BuiltTs, tmp_path: Path) -> None:
    """pino writes JSON lines to stdout; each call's line carries the request's id."""
    url = f"http://127.0.0.1:{(port := free_port())}"
    log = tmp_path / "stdout.log"
    env = {**os.environ, "HOST": "127.0.0.1", "PORT": str(port)}
    with log.open("wb") as stdout:
        process = subprocess.Popen(
            ["node", "dist/src/rest/server.js"], cwd=built.package, env=env, stdout=stdout
        )
        try:
            ready, deadline = answers_http(url), time.monotonic() + 30
            while not ready():
                assert process.poll() is None and time.monotonic() < deadline
                time.sleep(0.2)
            headers = {"X-Request-ID": "log-me"}
            httpx.post(f"{url}/scale", json={"values": [1]}, headers=headers, timeout=30)
        finally:
            process.terminate()
            process.wait(timeout=10)
    lines = [json.loads(line) for line in log.read_text("utf-8").splitlines() if line.strip()]
    calls = [line for line in lines if line.get("msg") == "call"]
    assert len(calls) == 1
    assert calls[0]["request_id"] == "log-me"
    assert (calls[0]["function"], calls[0]["status"]) == ("scale", "ok")


@pytest.mark.parametrize("interface", INTERFACES)
@pytest.mark.parametrize("case", sorted(VALUE_DOMAIN_CASES))
def test_conformance_value_domain(service: Service, case: str, interface: str) -> None:
    assert scale_error_code(service, interface, VALUE_DOMAIN_CASES[case]) == "VALIDATION_ERROR"


@pytest.mark.parametrize("interface", INTERFACES)
@pytest.mark.parametrize(
    "arguments",
    [
        {"values": [1.0, 2.5]},
        {"values": [1.0], "round_to": 2**63 - 1},
        {"values": [1.0], "round_to": -(2**63)},
        {"values": [1e308], "factor": 1.5},
    ],
)
def test_conformance_edges_of_the_domain(
    service: Service, interface: str, arguments: dict[str, Any]
) -> None:
    assert scale_error_code(service, interface, arguments) == "OK"


@pytest.mark.parametrize("interface", INTERFACES)
@pytest.mark.parametrize("round_to", [2**63, -(2**63) - 1])
def test_conformance_just_beyond_64_bits(service: Service, interface: str, round_to: int) -> None:
    arguments = {"values": [1.0], "round_to": round_to}
    assert scale_error_code(service, interface, arguments) == "VALIDATION_ERROR"


@pytest.mark.parametrize(("accept", "bytes_result", "json_result"), ACCEPT_CASES)
def test_conformance_accept_negotiation(
    service: Service, accept: str, bytes_result: str | None, json_result: str | None
) -> None:
    assert answered_media_type(service, "reverse_bytes", accept) == bytes_result
    assert answered_media_type(service, "scale", accept) == json_result


def test_adding_typescript_to_a_python_project_writes_only_typescript(tmp_path: Path) -> None:
    def generate(languages: str) -> None:
        result = run(
            [tool("apipack"), "generate", "specs/kitchen.yml", "-l", languages, "-o", "generated"],
            tmp_path,
            env={**os.environ, "HOME": str(tmp_path / "home")},
        )
        assert result.returncode == 0, result.stdout + result.stderr

    (tmp_path / "specs").mkdir()
    (tmp_path / "specs/kitchen.yml").write_text(spec(), encoding="utf-8")
    generate("python")
    python = tmp_path / "generated/python"
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in python.rglob("*") if p.is_file()}
    assert before
    generate("python,typescript")
    after = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in python.rglob("*") if p.is_file()}
    assert after == before
    assert (tmp_path / "generated/typescript/kitchen-sink/package-lock.json").is_file()
