"""The conformance cases of ``conformance.py``, run against every language's service built from
the kitchen-sink spec, on the interfaces each has: Python (one process serving HTTP and gRPC, and
the CLI) and TypeScript (the same five, one process serving HTTP and gRPC)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest
from conformance import (
    ACCEPT_CASES,
    GRPC_SERVICE,
    INTERFACES,
    VALUE_DOMAIN_CASES,
    Service,
    answered_media_type,
    health_status,
    health_watch,
    nested_int_error_code,
    scale_error_code,
)
from conftest import TS_INTERFACES
from kitchen import Built, answers_http, free_port, running, serving
from ts_kitchen import BuiltTs
from websockets.sync.client import connect

pytestmark = pytest.mark.slow

#: each language's interfaces, as (language, interface) cases
SERVED = {"python": INTERFACES, "typescript": TS_INTERFACES}
PAIRS = [
    pytest.param(language, interface, id=f"{language}-{interface}")
    for language, interfaces in SERVED.items()
    for interface in interfaces
]
#: gRPC's int64 cannot even carry an int beyond 64 bits
WIRE_PAIRS = [pair for pair in PAIRS if pair.values[1] != "grpc"]


@pytest.fixture(scope="module")
def python_service(kitchen: Built, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    port = free_port()
    log = tmp_path_factory.mktemp("conformance") / "server.log"
    with serving(kitchen, {"GRPC_PORT": str(port)}, log) as url:
        yield Service(http=url, grpc=f"127.0.0.1:{port}", cli=[kitchen.bin("kitchen-sink")])
    assert "Traceback" not in log.read_text("utf-8")


@pytest.fixture(scope="module")
def typescript_service(ts_built: BuiltTs, ts_server: str, ts_grpc_port: int) -> Service:
    return Service(
        http=ts_server,
        grpc=f"127.0.0.1:{ts_grpc_port}",
        cli=["node", str(ts_built.package / "dist/src/cli/main.js")],
    )


@pytest.fixture
def service(request: pytest.FixtureRequest, language: str) -> Service:
    found: Service = request.getfixturevalue(f"{language}_service")
    return found


@pytest.mark.parametrize(("language", "interface"), PAIRS)
@pytest.mark.parametrize("case", sorted(VALUE_DOMAIN_CASES))
def test_one_value_domain_on_every_interface(service: Service, case: str, interface: str) -> None:
    """An int beyond 64 bits, NaN, infinity and a result that overflows to infinity: the same
    VALIDATION_ERROR from REST, GraphQL, WebSocket, gRPC and the CLI."""
    assert scale_error_code(service, interface, VALUE_DOMAIN_CASES[case]) == "VALIDATION_ERROR"


@pytest.mark.parametrize(("language", "interface"), PAIRS)
@pytest.mark.parametrize(
    "arguments",
    [
        {"values": [1.0, 2.5]},
        {"values": [1.0], "round_to": 2**63 - 1},
        {"values": [1.0], "round_to": -(2**63)},
        {"values": [1e308], "factor": 1.5},
        # an int is a float input too (GraphQL coerces it), to the nearest float beyond 2^53
        {"values": [2**53 + 1, -(2**63) - 1], "factor": 2**53 + 1},
    ],
)
def test_the_edges_of_the_domain_are_inside(
    service: Service, interface: str, arguments: dict[str, Any]
) -> None:
    assert scale_error_code(service, interface, arguments) == "OK"


@pytest.mark.parametrize(("language", "interface"), WIRE_PAIRS)
@pytest.mark.parametrize("round_to", [2**63, -(2**63) - 1])
def test_just_beyond_signed_64_bits(service: Service, interface: str, round_to: int) -> None:
    """gRPC's int64 cannot even carry these; every interface that can refuses them."""
    arguments = {"values": [1.0], "round_to": round_to}
    assert scale_error_code(service, interface, arguments) == "VALIDATION_ERROR"


@pytest.mark.parametrize("language", sorted(SERVED))
@pytest.mark.parametrize(("accept", "bytes_result", "json_result"), ACCEPT_CASES)
def test_accept_negotiation(
    service: Service, accept: str, bytes_result: str | None, json_result: str | None
) -> None:
    """RFC 9110: q-values, the most specific range, the client's order; only media types the
    OpenAPI document declares; 406 with the envelope when none of them is acceptable."""
    assert answered_media_type(service, "reverse_bytes", accept) == bytes_result
    assert answered_media_type(service, "scale", accept) == json_result


@pytest.mark.parametrize(("language", "interface"), WIRE_PAIRS)
@pytest.mark.parametrize(("weight", "code"), [(2**63 - 1, "OK"), (2**63, "VALIDATION_ERROR")])
def test_ints_inside_a_dict_are_64_bits_too(
    service: Service, interface: str, weight: int, code: str
) -> None:
    assert nested_int_error_code(service, interface, weight) == code


@pytest.mark.parametrize("language", sorted(SERVED))
def test_the_error_envelope(service: Service) -> None:
    """Arguments that do not match the schema: 422, the envelope with the client's request id,
    and details saying where, as FastAPI reports them."""
    response = httpx.post(
        f"{service.http}/scale",
        json={"values": [1, "3"]},
        headers={"X-Request-ID": "conformance-1"},
        timeout=30,
    )
    assert response.status_code == 422
    body = response.json()
    assert set(body) == {"error", "timestamp", "request_id"}
    assert body["request_id"] == "conformance-1" == response.headers["x-request-id"]
    error = body["error"]
    assert (error["code"], error["message"]) == ("VALIDATION_ERROR", "the request is not valid")
    assert [detail["loc"] for detail in error["details"]] == [["values", 1]]
    assert {"msg", "type"} <= set(error["details"][0])


@pytest.mark.parametrize("language", sorted(SERVED))
def test_health_metrics_and_ping(service: Service) -> None:
    health = httpx.get(f"{service.http}/health", timeout=30).json()
    assert health == {"status": "ok", "name": "kitchen-sink", "version": "1.2.3"}
    for path in ("/health/live", "/health/ready"):
        assert httpx.get(f"{service.http}{path}", timeout=30).json() == {"status": "ok"}
    url = service.http.replace("http://", "ws://", 1) + "/ws"
    with connect(url, open_timeout=10) as ws:
        ws.send(json.dumps({"type": "ping", "id": 3, "data": {"timestamp": "t"}}))
        pong = json.loads(ws.recv(timeout=30))
    assert (pong["type"], pong["id"], pong["data"]["timestamp"]) == ("pong", 3, "t")
    assert set(pong["data"]) == {"server_timestamp", "timestamp"}
    metrics = httpx.get(f"{service.http}/metrics", timeout=30).text
    for name in ("api_requests_total", "api_request_duration_seconds", "http_requests_total"):
        assert f"# TYPE {name} " in metrics, name


@pytest.mark.parametrize("language", sorted(SERVED))
def test_grpc_health_watch_follows_the_status(
    language: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """grpc.health.v1 Watch: the status at once, SERVICE_UNKNOWN for an unknown service with
    the stream left open, and NOT_SERVING when the server shuts down."""
    if language == "python":
        built: Built = request.getfixturevalue("kitchen")
        command, cwd = [built.bin("kitchen-sink-server")], built.project
    else:
        ts: BuiltTs = request.getfixturevalue("ts_built")
        command, cwd = ["node", "dist/src/rest/server.js"], ts.package
    url, grpc_port = f"http://127.0.0.1:{(port := free_port())}", free_port()
    env = {"HOST": "127.0.0.1", "PORT": str(port), "GRPC_PORT": str(grpc_port)}
    log = tmp_path / "server.log"
    with (
        running(command, cwd, env, answers_http(url), log) as server,
        grpc.insecure_channel(f"127.0.0.1:{grpc_port}") as channel,
    ):
        watches = [health_watch(channel, name) for name in ("", GRPC_SERVICE, "no.Such")]
        firsts = [health_status(next(watch)) for watch in watches]
        assert firsts == ["SERVING", "SERVING", "SERVICE_UNKNOWN"]
        assert watches[2].is_active()
        server.terminate()
        assert [health_status(next(watch)) for watch in watches[:2]] == ["NOT_SERVING"] * 2
        for watch in watches:  # so that the server need not wait out its grace period
            watch.cancel()
    assert "Traceback" not in log.read_text("utf-8")
