"""The generated server against hostile clients: JSON nested too deep on every interface, and
clients that send half a request. The kitchen-sink package, served by its console script over
real sockets on 127.0.0.1."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import httpx
import pytest
from kitchen import Built, serving
from websockets.sync.client import connect

pytestmark = pytest.mark.slow

DEEP = "[" * 5000 + "]" * 5000  # deeper than any parser's recursion limit


@pytest.fixture(scope="module")
def server(kitchen: Built) -> Iterator[str]:
    with serving(kitchen, {"HEADER_TIMEOUT": "1", "BODY_TIMEOUT": "1"}) as url:
        yield url


def assert_envelope(response: httpx.Response, status: int, code: str, says: str) -> None:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code and says in error["message"]


def test_rest_refuses_json_nested_too_deep(server: str) -> None:
    body = '{"values": ' + DEEP + ', "factor": 2}'
    response = httpx.post(
        f"{server}/scale", content=body, headers={"content-type": "application/json"}
    )
    assert_envelope(response, 400, "VALIDATION_ERROR", "more than 64 levels deep")
    # brackets inside strings are text, and a body of ordinary depth is served
    fine = httpx.post(f"{server}/describe", json={"words": ["[[[[" * 100], "loud": False})
    assert fine.status_code == 200, fine.text


def test_graphql_refuses_json_nested_too_deep(server: str) -> None:
    body = '{"query": "{ __typename }", "variables": {"v": ' + DEEP + "}}"
    response = httpx.post(
        f"{server}/graphql", content=body, headers={"content-type": "application/json"}
    )
    assert_envelope(response, 400, "VALIDATION_ERROR", "more than 64 levels deep")


def test_websocket_answers_json_nested_too_deep_and_stays_open(server: str) -> None:
    with connect(server.replace("http://", "ws://") + "/ws", open_timeout=10) as ws:
        ws.send('{"type": "ping", "id": 1, "data": ' + DEEP + "}")
        reply = json.loads(ws.recv(timeout=10))
        assert reply["type"] == "error" and reply["data"]["code"] == "VALIDATION_ERROR"
        ws.send(json.dumps({"type": "ping", "id": 2}))
        assert json.loads(ws.recv(timeout=10))["type"] == "pong"


def _connect(server: str) -> socket.socket:
    host, port = server.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=30)


def _read_all(client: socket.socket) -> bytes:
    data = b""
    while chunk := client.recv(65536):
        data += chunk
    return data


def test_half_sent_headers_are_cut_off(server: str) -> None:
    with _connect(server) as client:
        client.sendall(b"POST /scale HTTP/1.1\r\nHost: x\r\n")  # and never the rest
        assert _read_all(client) == b""  # closed by the server (the socket timeout is 30 s)
    assert httpx.get(f"{server}/health").status_code == 200


def test_half_sent_body_gets_408(server: str) -> None:
    with _connect(server) as client:
        client.sendall(
            b"POST /scale HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b'Content-Length: 100\r\n\r\n{"values": ['
        )
        answer = _read_all(client)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408"), answer
    assert json.loads(body)["error"]["code"] == "REQUEST_TIMEOUT"
