"""The REST interface of the kitchen-sink package, served by its console script and driven by
httpx over real HTTP: JSON bodies and multipart uploads, raw bytes results, the error envelope,
request ids, metrics and logs; then schemathesis against the packaged OpenAPI document.
``Accept`` negotiation is a conformance case (``conformance.py``)."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from conformance import schemathesis_requests
from helpers import wait_until
from kitchen import Built, serving

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("rest") / "server.log"


@pytest.fixture(scope="module")
def server(kitchen: Built, log: Path) -> Iterator[str]:
    with serving(
        kitchen, {"CORS_ORIGINS": "https://app.example", "MAX_REQUEST_SIZE": "4096"}, log
    ) as url:
        yield url


def test_json_bodies_for_every_type(server: str) -> None:
    scaled = httpx.post(f"{server}/scale", json={"values": [1, 2.5], "factor": 3})
    assert scaled.json() == {"result": [3.0, 7.5]}
    checked = httpx.post(
        f"{server}/checksum",
        json={"data": base64.b64encode(b"abc").decode(), "tags": {"t": 2}, "label": "L"},
    )
    assert checked.json() == {"result": {"length": 3, "sum": 38, "t": 6, "L": 0}}
    described = httpx.post(
        f"{server}/describe",
        json={"words": ["a", "b"], "loud": True, "json": [1, 2], "nested": {"k": ["eHk="]}},
    )
    assert described.json() == {"result": "A B 3 2 5"}
    nothing = httpx.post(f"{server}/describe", json={"words": [], "loud": False})
    assert nothing.json() == {"result": None}


def test_multipart_upload(server: str) -> None:
    response = httpx.post(
        f"{server}/reverse_bytes/upload",
        files={"data": ("doc.bin", b"abc", "application/octet-stream")},
        data={"repeat": "2", "sep": "-"},
    )
    assert response.status_code == 200, response.text
    assert base64.b64decode(response.json()["result"]) == b"cba-cba"
    # a JSON field sent as a part of its own (as typescript-fetch sends objects); a flag in
    # Python's spelling (as Python clients send them)
    form_json = httpx.post(
        f"{server}/checksum/upload",
        files={"data": b"xy", "tags": ("blob", b'{"a": 1}', "application/json")},
        data={"upper": "True"},
    )
    assert form_json.json() == {"result": {"length": 2, "sum": 241, "A": 2}}


@pytest.mark.parametrize("flag", ["yes", "1", ""])
def test_form_flags_say_what_they_expect(server: str, flag: str) -> None:
    response = httpx.post(f"{server}/checksum/upload", files={"data": b"xy"}, data={"upper": flag})
    assert response.status_code == 422, response.text
    assert response.json()["error"]["message"] == f"upper: expected true or false, not {flag!r}"


def test_each_route_takes_one_media_type(server: str) -> None:
    form = httpx.post(f"{server}/reverse_bytes", files={"data": b"abc"})
    assert (form.status_code, form.json()["error"]["code"]) == (415, "UNSUPPORTED_MEDIA_TYPE")
    json_upload = httpx.post(f"{server}/reverse_bytes/upload", json={"data": "YWJj"})
    assert json_upload.status_code == 415


def test_bytes_result_raw_when_asked(server: str) -> None:
    body = {"data": base64.b64encode(b"-FDP%").decode()}  # reversed: a PDF's magic number
    octets = httpx.post(
        f"{server}/reverse_bytes", json=body, headers={"Accept": "application/octet-stream"}
    )
    # only what the OpenAPI document declares: never application/pdf, whatever the bytes
    assert (octets.headers["content-type"], octets.content) == (
        "application/octet-stream",
        b"%PDF-",
    )
    as_json = httpx.post(f"{server}/reverse_bytes", json={"data": "YWJj"})
    assert as_json.json() == {"result": "Y2Jh"}


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"values": "x"}, 422, "VALIDATION_ERROR"),
        ({"values": [1], "factor": True}, 422, "VALIDATION_ERROR"),  # strict: no bool for float
        ({"values": [1], "extra": 1}, 422, "VALIDATION_ERROR"),
        ({"values": [1.7e308], "factor": 10}, 400, "VALIDATION_ERROR"),  # an infinite result
    ],
)
def test_error_envelope(server: str, body: object, status: int, code: str) -> None:
    response = httpx.post(f"{server}/scale", json=body, headers={"X-Request-ID": "req-42"})
    assert response.status_code == status, response.text
    envelope = response.json()
    assert envelope["error"]["code"] == code
    assert set(envelope["error"]) == {"code", "message", "details"}
    assert envelope["request_id"] == "req-42" == response.headers["X-Request-ID"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", envelope["timestamp"])
    assert "Traceback" not in response.text


def test_wrong_media_type_and_size(server: str) -> None:
    text = httpx.post(
        f"{server}/scale", content=b"values=1", headers={"Content-Type": "text/plain"}
    )
    assert (text.status_code, text.json()["error"]["code"]) == (415, "UNSUPPORTED_MEDIA_TYPE")
    big = httpx.post(f"{server}/scale", json={"values": [1.0] * 2000})
    assert (big.status_code, big.json()["error"]["code"]) == (413, "PAYLOAD_TOO_LARGE")


def test_request_id_made_when_absent_or_unsafe(server: str) -> None:
    made = httpx.get(f"{server}/health").headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", made)
    unsafe = httpx.get(f"{server}/health", headers={"X-Request-ID": "a b\tc"}).headers
    assert unsafe["X-Request-ID"] != "a b\tc"


def test_cors_from_the_environment(server: str) -> None:
    allowed = httpx.options(
        f"{server}/scale",
        headers={"Origin": "https://app.example", "Access-Control-Request-Method": "POST"},
    )
    assert allowed.headers["access-control-allow-origin"] == "https://app.example"
    other = httpx.get(f"{server}/health", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in other.headers


def test_metrics_per_function_and_status(server: str) -> None:
    httpx.post(f"{server}/reverse_bytes", json={"data": "YWJj"})
    assert httpx.post(f"{server}/scale", json={"values": "x"}).status_code == 422
    refused = httpx.post(f"{server}/reverse_bytes", json={"data": "YWJj", "repeat": 101})
    assert refused.status_code == 400
    assert refused.json()["error"]["message"] == "repeat must be 0 to 100, not 101"
    text = httpx.get(f"{server}/metrics").text
    counts = {
        status: float(value)
        for status, value in re.findall(
            r'api_requests_total\{function="reverse_bytes",interface="rest",status="(\w+)"\} (\S+)',
            text,
        )
    }
    assert counts["ok"] >= 1 and counts["VALIDATION_ERROR"] >= 1
    assert 'api_request_duration_seconds_count{function="reverse_bytes",interface="rest"}' in text
    assert re.search(r'http_requests_total\{method="POST",route="/scale",status="422"\}', text)


def test_docs_and_openapi(server: str, kitchen: Built) -> None:
    assert "swagger" in httpx.get(f"{server}/docs").text.lower()
    packaged = kitchen.package / "src/kitchen_sink/rest/openapi.json"
    assert httpx.get(f"{server}/openapi.json").json() == json.loads(packaged.read_text("utf-8"))


def test_logs_are_json_lines_with_request_ids(server: str, log: Path) -> None:
    httpx.post(f"{server}/scale", json={"values": [2]}, headers={"X-Request-ID": "log-me"})

    def logged() -> list[dict[str, object]]:
        entries = [json.loads(line) for line in log.read_text("utf-8").splitlines() if line]
        return [e for e in entries if e.get("request_id") == "log-me"]

    # the access line is written once the response has gone, so it may follow the response
    wanted = {"call", "request"}
    wait_until("call and request lines", lambda: {e["message"] for e in logged()} >= wanted, 30)
    calls = logged()
    assert {e["message"] for e in calls} >= wanted
    call = next(e for e in calls if e["message"] == "call")
    assert (call["function"], call["status"], call["interface"]) == ("scale", "ok", "rest")


def test_schemathesis_finds_no_server_error_and_no_schema_break(
    server: str, tmp_path: Path
) -> None:
    assert schemathesis_requests(server, tmp_path) >= 200
