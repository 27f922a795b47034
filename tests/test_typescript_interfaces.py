"""The TypeScript package's WebSocket, GraphQL and gRPC interfaces, served by the one process
that serves REST (``ts_server`` in conftest.py), driven by real clients: the ``websockets``
client, GraphQL over HTTP with httpx, a gRPC channel. The cross-language cases run in
``test_conformance.py``."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
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
