"""The WebSocket interface: the kitchen-sink package served by its console script and driven by
the ``websockets`` client: every function's examples, ping, malformed messages, validation
errors, id echo, and many requests on one connection that errors never close."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import pytest
from kitchen import Built, run, serving
from websockets.sync.client import ClientConnection, connect

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(kitchen: Built) -> Iterator[str]:
    with serving(kitchen) as url:
        yield url.replace("http://", "ws://") + "/ws"


@pytest.fixture
def ws(server: str) -> Iterator[ClientConnection]:
    with connect(server, open_timeout=10) as connection:
        yield connection


def ask(ws: ClientConnection, message: Any) -> dict[str, Any]:
    ws.send(message if isinstance(message, (str, bytes)) else json.dumps(message))
    reply: dict[str, Any] = json.loads(ws.recv(timeout=10))
    return reply


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


EXAMPLES = [
    ("scale", {"values": [1, 2.5]}, [2.0, 5.0]),
    ("scale", {"values": [0.1234], "factor": 3, "round_to": 2}, [0.37]),
    (
        "checksum",
        {"data": b64("héllo".encode()), "tags": {"a": 2}, "upper": True},
        {"length": 6, "sum": 27, "A": 12},
    ),
    ("checksum", {"data": b64(b"x"), "label": "-dash"}, {"length": 1, "sum": 120, "-dash": 0}),
    ("reverse_bytes", {"data": b64(b"abc"), "repeat": 2}, b64(b"cbacba")),
    (
        "describe",
        {
            "words": ["a", 'b"c'],
            "loud": True,
            "nested": {"k": [b64(b"xy"), b64(b"z")]},
            "bonus": None,
        },
        'A B"C 0 3 NONE',
    ),
    ("describe", {"words": [], "loud": False}, None),
    ("describe", {"words": ["x", "y"], "loud": False, "sep": "-", "json": [2, 3]}, "x-y 5 0 5"),
]


@pytest.mark.parametrize(("function", "data", "result"), EXAMPLES)
def test_examples(ws: ClientConnection, function: str, data: Any, result: Any) -> None:
    reply = ask(ws, {"type": function, "id": "r1", "data": data})
    assert reply == {"type": f"{function}.result", "id": "r1", "data": {"result": result}}


def test_ping(ws: ClientConnection) -> None:
    reply = ask(ws, {"type": "ping", "id": 1, "data": {"timestamp": "2024-01-01T00:00:00Z"}})
    assert (reply["type"], reply["id"]) == ("pong", 1)
    assert reply["data"]["timestamp"] == "2024-01-01T00:00:00Z"
    assert reply["data"]["server_timestamp"].endswith("Z")


@pytest.mark.parametrize(
    ("message", "code", "request_id"),
    [
        ("{not json", "INVALID_JSON", None),
        (b"\xff\xfe", "INVALID_JSON", None),
        ({"type": "no_such_function", "id": "u"}, "INVALID_MESSAGE_TYPE", "u"),
        ({"type": "scale", "id": 5, "data": {"values": "x"}}, "VALIDATION_ERROR", 5),
        ({"type": "scale", "id": 6, "data": {"values": ["1"]}}, "VALIDATION_ERROR", 6),
        ({"type": "scale", "id": 7, "data": {"values": [1], "extra": 1}}, "VALIDATION_ERROR", 7),
        ({"type": "reverse_bytes", "id": 8, "data": {"data": "!!"}}, "VALIDATION_ERROR", 8),
        ({"type": "checksum", "id": 9, "data": []}, "VALIDATION_ERROR", 9),
        ([1, 2], "VALIDATION_ERROR", None),
        ({"id": 3}, "VALIDATION_ERROR", 3),
    ],
)
def test_errors(ws: ClientConnection, message: Any, code: str, request_id: Any) -> None:
    reply = ask(ws, message)
    assert (reply["type"], reply["id"], reply["data"]["code"]) == ("error", request_id, code)
    assert reply["data"]["message"]
    # the connection is still open and answering
    assert ask(ws, {"type": "ping"})["type"] == "pong"


def test_many_requests_on_one_connection(ws: ClientConnection) -> None:
    for index in range(20):
        ws.send(json.dumps({"type": "scale", "id": index, "data": {"values": [index]}}))
    ws.send("oops")
    ws.send(json.dumps({"type": "ping", "id": "last"}))
    replies = [json.loads(ws.recv(timeout=10)) for _ in range(22)]
    assert [r["id"] for r in replies[:20]] == list(range(20))
    assert [r["data"]["result"] for r in replies[:20]] == [[2.0 * i] for i in range(20)]
    assert replies[20]["data"]["code"] == "INVALID_JSON"
    assert (replies[21]["type"], replies[21]["id"]) == ("pong", "last")


def test_generated_websocket_tests_pass(kitchen: Built) -> None:
    result = run(
        [kitchen.bin("python"), "-m", "pytest", "-q", "-p", "no:cacheprovider", "-k", "websocket"],
        kitchen.package,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_result_json_cannot_carry_is_a_validation_error(ws: ClientConnection) -> None:
    reply = ask(ws, {"type": "scale", "id": 9, "data": {"values": [1.7e308], "factor": 10}})
    assert (reply["type"], reply["id"], reply["data"]["code"]) == ("error", 9, "VALIDATION_ERROR")
