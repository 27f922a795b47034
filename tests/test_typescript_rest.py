"""The TypeScript package's REST service and CLI, built from the every-type spec and run from a
clean copy of the generated folder (``ts_built`` and ``ts_server`` in conftest.py): real HTTP on
127.0.0.1 driven by httpx. The conformance cases run in ``test_conformance.py``."""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from conformance import schemathesis_requests
from helpers import tool
from kitchen import answers_http, free_port, run
from ts_kitchen import BuiltTs, spec

pytestmark = pytest.mark.slow


def test_the_package_tests_pass(ts_built: BuiltTs) -> None:
    tests = ts_built.npm("test")
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
    ts_server: str, function: str, body: dict[str, Any], expected: Any
) -> None:
    response = httpx.post(f"{ts_server}/{function}", json=body, timeout=30)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    result = response.json()["result"]
    assert result == expected
    assert type(result) is type(expected)  # 2.0 stays a float


def test_bad_input_is_a_validation_error_envelope(ts_server: str) -> None:
    response = httpx.post(
        f"{ts_server}/scale", json={"values": ["3"]}, timeout=30, headers={"X-Request-ID": "req-1"}
    )
    assert response.status_code == 422
    body = response.json()
    assert body["error"]["code"] == "VALIDATION_ERROR"
    assert set(body) == {"error", "timestamp", "request_id"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["request_id"] == "req-1" == response.headers["x-request-id"]
    unknown = httpx.post(f"{ts_server}/scale", json={"values": [1], "extra": 1}, timeout=30)
    assert unknown.status_code == 422 and unknown.json()["error"]["code"] == "VALIDATION_ERROR"
    not_json = httpx.post(
        f"{ts_server}/scale", content=b"{", headers={"Content-Type": "application/json"}, timeout=30
    )
    assert not_json.status_code == 400 and not_json.json()["error"]["code"] == "VALIDATION_ERROR"


def test_a_failing_function_is_a_validation_error(ts_server: str) -> None:
    response = httpx.post(
        f"{ts_server}/reverse_bytes", json={"data": "YWJj", "repeat": 101}, timeout=30
    )
    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "VALIDATION_ERROR",
        "message": "repeat must be 0 to 100, not 101",
        "details": None,
    }


def test_uploads_take_files_and_form_fields(ts_server: str) -> None:
    """POST /<fn>/upload, as the shared OpenAPI document declares it: bytes as files (or text),
    flags as true or false in any case, dicts as JSON text; urlencoded forms too."""
    response = httpx.post(
        f"{ts_server}/checksum/upload",
        files={"data": ("data.bin", "héllo".encode())},
        data={"tags": '{"a": 2}', "upper": "TRUE"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"result": {"length": 6, "sum": 27, "A": 12}}
    raw = httpx.post(
        f"{ts_server}/reverse_bytes/upload",
        files={"data": ("d", b"abc"), "sep": ("s", b"--")},
        data={"repeat": "2"},
        headers={"Accept": "application/octet-stream"},
        timeout=30,
    )
    assert raw.status_code == 200, raw.text
    assert raw.content == b"cba--cba"
    form = httpx.post(f"{ts_server}/reverse_bytes/upload", data={"data": "abc"}, timeout=30)
    assert form.json() == {"result": "Y2Jh"}
    flag = httpx.post(
        f"{ts_server}/checksum/upload",
        files={"data": ("d", b"x")},
        data={"upper": "maybe"},
        timeout=30,
    )
    assert flag.status_code == 422 and flag.json()["error"]["code"] == "VALIDATION_ERROR"
    as_json = httpx.post(f"{ts_server}/checksum/upload", json={"data": "eA=="}, timeout=30)
    assert as_json.status_code == 415
    assert as_json.json()["error"]["code"] == "UNSUPPORTED_MEDIA_TYPE"


def test_health_and_request_ids(ts_server: str) -> None:
    health = httpx.get(f"{ts_server}/health", timeout=30)
    assert health.json() == {"status": "ok", "name": "kitchen-sink", "version": "1.2.3"}
    assert re.fullmatch(r"[0-9a-f]{32}", health.headers["x-request-id"])
    for path in ("/health/live", "/health/ready"):
        assert httpx.get(f"{ts_server}{path}", timeout=30).json() == {"status": "ok"}
    missing = httpx.get(f"{ts_server}/nowhere", timeout=30)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "NOT_FOUND"


def test_the_openapi_document_is_the_python_packages(
    ts_server: str, ts_built: BuiltTs, tmp_path: Path
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
    assert httpx.get(f"{ts_server}/openapi.json", timeout=30).content == python


def test_metrics_have_the_python_targets_names(ts_server: str) -> None:
    httpx.post(f"{ts_server}/scale", json={"values": [1]}, timeout=30)
    httpx.post(f"{ts_server}/scale", json={"values": "no"}, timeout=30)
    text = httpx.get(f"{ts_server}/metrics", timeout=30).text
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


def test_logs_are_json_lines_with_the_request_id(ts_built: BuiltTs, tmp_path: Path) -> None:
    """pino writes JSON lines to stderr, as the Python service does; each call's line carries
    the request's id; stdout stays empty."""
    url = f"http://127.0.0.1:{(port := free_port())}"
    log, out = tmp_path / "stderr.log", tmp_path / "stdout.log"
    env = {**os.environ, "HOST": "127.0.0.1", "PORT": str(port)}
    with log.open("wb") as stderr, out.open("wb") as stdout:
        process = subprocess.Popen(
            ["node", "dist/src/rest/server.js"],
            cwd=ts_built.package,
            env=env,
            stdout=stdout,
            stderr=stderr,
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
    assert out.read_text("utf-8") == ""
    lines = [json.loads(line) for line in log.read_text("utf-8").splitlines() if line.strip()]
    calls = [line for line in lines if line.get("message") == "call"]
    assert len(calls) == 1
    assert calls[0]["request_id"] == "log-me"
    assert (calls[0]["function"], calls[0]["status"]) == ("scale", "ok")
    assert calls[0]["level"] == "INFO" and "timestamp" in calls[0]  # the Python service's keys


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


def test_schemathesis_finds_no_server_error_and_no_schema_break(
    ts_server: str, tmp_path: Path
) -> None:
    assert schemathesis_requests(ts_server, tmp_path) >= 200
