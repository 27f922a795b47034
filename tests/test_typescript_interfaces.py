"""The TypeScript package's WebSocket, GraphQL and gRPC interfaces, served by the one process
that serves REST (``ts_server`` in conftest.py), driven by real clients: the ``websockets``
client, GraphQL over HTTP with httpx, a gRPC channel. The cross-language cases run in
``test_conformance.py``."""

from __future__ import annotations

import importlib
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest
from kitchen import Built
from ts_kitchen import BuiltTs, build_ts
from websockets.sync.client import connect

pytestmark = pytest.mark.slow


def exchange(url: str, *messages: str | bytes) -> list[dict[str, Any]]:
    """*messages* sent over one connection to ``/ws``; the replies, in order."""
    with connect(url.replace("http://", "ws://", 1) + "/ws", open_timeout=10) as ws:
        for message in messages:
            ws.send(message)
        return [json.loads(ws.recv(timeout=30)) for _ in messages]


def test_websocket_calls_every_function(ts_server: str) -> None:
    replies = exchange(
        ts_server,
        json.dumps({"type": "scale", "id": 1, "data": {"values": [1, 2.5]}}),
        json.dumps({"type": "checksum", "id": "c", "data": {"data": "aMOpbGxv", "tags": {"a": 2}}}),
        json.dumps({"type": "reverse_bytes", "id": None, "data": {"data": "YWJj"}}),
        json.dumps({"type": "describe", "id": 2.5, "data": {"words": [], "loud": False}}),
    )
    assert replies == [
        {"type": "scale.result", "id": 1, "data": {"result": [2.0, 5.0]}},
        {
            "type": "checksum.result",
            "id": "c",
            "data": {"result": {"length": 6, "sum": 27, "a": 12}},
        },
        {"type": "reverse_bytes.result", "id": None, "data": {"result": "Y2Jh"}},
        {"type": "describe.result", "id": 2.5, "data": {"result": None}},
    ]
    assert type(replies[0]["data"]["result"][0]) is float  # 2.0 stays a float


def test_websocket_errors_keep_the_connection_open(ts_server: str) -> None:
    replies = exchange(
        ts_server,
        "{",
        b"\xff\xfe",
        json.dumps({"type": "nope", "id": "a"}),
        json.dumps({"type": "scale", "id": "b", "data": {"values": ["3"]}}),
        json.dumps({"type": "reverse_bytes", "id": "c", "data": {"data": "YQ==", "repeat": 101}}),
        json.dumps({"type": "ping", "id": "d", "data": {"timestamp": 5}}),
    )
    codes = [(r["type"], r["id"], r["data"].get("code")) for r in replies]
    assert codes == [
        ("error", None, "INVALID_JSON"),
        ("error", None, "INVALID_JSON"),
        ("error", "a", "INVALID_MESSAGE_TYPE"),
        ("error", "b", "VALIDATION_ERROR"),
        ("error", "c", "VALIDATION_ERROR"),
        ("pong", "d", None),
    ]
    assert replies[4]["data"]["message"] == "repeat must be 0 to 100, not 101"
    assert replies[5]["data"]["timestamp"] == 5


def test_websocket_calls_are_counted(ts_server: str) -> None:
    exchange(ts_server, json.dumps({"type": "scale", "id": 1, "data": {"values": [1]}}))
    text = httpx.get(f"{ts_server}/metrics", timeout=30).text
    assert 'api_requests_total{interface="websocket",function="scale",status="ok"}' in text


def graphql(url: str, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    body = {"query": query, "variables": variables or {}}
    response = httpx.post(f"{url}/graphql", json=body, timeout=30)
    answer: dict[str, Any] = response.json()
    return answer


def test_graphql_numbers_are_exact(ts_server: str) -> None:
    """Int64 variables and results keep every digit (beyond 2^53), floats stay floats."""
    big = 2**62 + 1
    answer = graphql(
        ts_server,
        'query ($t: JSON, $r: Int64) { checksum(data: "eA==", tags: $t) { result } '
        "scale(values: [1, 2.5], round_to: $r) { result } }",
        {"t": {"a": big}, "r": 2**63 - 1},
    )
    assert "errors" not in answer, answer
    assert answer["data"]["checksum"]["result"] == {"length": 1, "sum": 120, "a": big}
    result = answer["data"]["scale"]["result"]
    assert result == [2.0, 5.0] and all(type(x) is float for x in result)


def test_graphql_errors_carry_the_service_codes(ts_server: str) -> None:
    syntax = graphql(ts_server, "{ scale(")
    assert syntax["errors"][0]["extensions"] == {"code": "VALIDATION_ERROR"}
    refused = graphql(ts_server, '{ reverse_bytes(data: "YQ==", repeat: 101) { result } }')
    error = refused["errors"][0]
    assert error["extensions"] == {"code": "VALIDATION_ERROR"}
    assert error["message"] == "repeat must be 0 to 100, not 101"
    assert error["path"] == ["reverse_bytes"]
    wrong = graphql(
        ts_server, "query ($v: [Float!]!) { scale(values: $v) { result } }", {"v": ["3"]}
    )
    assert wrong["errors"][0]["extensions"] == {"code": "VALIDATION_ERROR"}


def test_the_sdl_and_proto_are_the_python_packages(kitchen: Built, ts_built: BuiltTs) -> None:
    """Byte for byte the files the Python package of the same spec ships."""
    python = kitchen.package / "src/kitchen_sink"
    sdl = (ts_built.package / "schema.graphql").read_bytes()
    assert sdl == (python / "graphql/schema.graphql").read_bytes()
    proto = (ts_built.package / "proto/kitchen_sink/v1/kitchen_sink.proto").read_bytes()
    assert proto == (python / "v1/kitchen_sink.proto").read_bytes()


def test_grpc_calls_through_stubs_compiled_from_the_shipped_proto(
    ts_built: BuiltTs, ts_server: str, ts_grpc_port: int, tmp_path: Path
) -> None:
    """A Python client of the TypeScript server, its stubs made by protoc from the package's
    own .proto: examples, an int64 at its edge, a refused call."""
    proto = ts_built.package / "proto"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "grpc_tools.protoc",
            f"-I{proto}",
            f"--python_out={tmp_path}",
            "kitchen_sink/v1/kitchen_sink.proto",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    sys.path.insert(0, str(tmp_path))
    try:
        messages = importlib.import_module("kitchen_sink.v1.kitchen_sink_pb2")
    finally:
        sys.path.remove(str(tmp_path))
    service = "/kitchen_sink.v1.KitchenSinkService"
    with grpc.insecure_channel(f"127.0.0.1:{ts_grpc_port}") as channel:

        def call(rpc: str, request: Any, response: Any) -> Any:
            method = channel.unary_unary(
                f"{service}/{rpc}",
                request_serializer=type(request).SerializeToString,
                response_deserializer=response.FromString,
            )
            return method(request, timeout=30)

        scale = call(
            "Scale",
            messages.ScaleRequest(values=[1, 2.5], round_to=2**63 - 1),
            messages.ScaleResponse,
        )
        assert list(scale.result) == [2.0, 5.0]
        checksum = call(
            "Checksum",
            messages.ChecksumRequest(
                data="héllo".encode(), tags=messages.Int64Map(items={"a": 2}), upper=True
            ),
            messages.ChecksumResponse,
        )
        assert dict(checksum.result) == {"length": 6, "sum": 27, "A": 12}
        with pytest.raises(grpc.RpcError) as refused:
            call(
                "ReverseBytes",
                messages.ReverseBytesRequest(data=b"abc", repeat=101),
                messages.ReverseBytesResponse,
            )
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert refused.value.details() == "repeat must be 0 to 100, not 101"


def test_a_package_without_rest_serves_the_other_interfaces(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """The app, its server and settings are the service's, built for any server interface: a
    package of gRPC, GraphQL and WebSocket alone compiles and passes its own tests."""
    built = build_ts(tmp_path_factory.mktemp("no-rest"), ("graphql", "grpc", "websocket"))
    tests = built.npm("test")
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert "# fail 0" in tests.stdout
    assert not (built.package / "openapi.json").exists()
    for name in ("ws scale", "graphql scale", "grpc Scale"):
        assert re.search(rf"^ok \d+ - {name} rejects invalid input$", tests.stdout, re.M), name
