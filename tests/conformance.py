"""Cross-interface conformance cases, written once for the server of every language target.

Everything here talks to a running service only through its public interfaces: HTTP (REST,
``/graphql``, ``/ws``) at a base URL, gRPC at ``host:port`` (raw protobuf bytes on a generic
channel, so no language's generated stubs are used) and the CLI as a command line. A target's
tests build the kitchen-sink spec (``kitchen.SPEC``) for its language, start the service, and
drive these functions with a :class:`Service`; ``test_conformance.py`` does so for Python.
The cases: the value domain (``VALUE_DOMAIN_CASES``, the same error code from all five
interfaces) and ``Accept`` negotiation (``ACCEPT_CASES``).

Every interface names an error the same way: the REST envelope's ``error.code``, GraphQL's
``extensions.code``, the WebSocket error's ``data.code``; gRPC's ``INVALID_ARGUMENT`` is
``VALIDATION_ERROR`` and ``INTERNAL`` is ``INTERNAL_ERROR``; the CLI has exit statuses only:
1 (the function failed) or 2 (bad usage) with one line on stderr is ``VALIDATION_ERROR``.
"""

from __future__ import annotations

import json
import math
import re
import struct
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import httpx
from websockets.sync.client import connect

INTERFACES = ("rest", "graphql", "websocket", "grpc", "cli")
#: the proto package and service of the kitchen-sink spec, the same in every language
GRPC_SERVICE = "kitchen_sink.v1.KitchenSinkService"
OK = "OK"


@dataclass(frozen=True)
class Service:
    """Where a running kitchen-sink service answers."""

    http: str  # http://host:port
    grpc: str  # host:port
    cli: Sequence[str]  # the command line of the CLI program


#: ``scale(values: list[float], factor: float = 2.0, round_to: int | None)`` arguments outside
#: the value domain (ints within signed 64 bits, finite floats), and a result outside it
VALUE_DOMAIN_CASES: dict[str, dict[str, Any]] = {
    # beyond 64 bits even unsigned, so that gRPC's wire format cannot hold it either
    "int_beyond_64_bits": {"values": [1.0], "round_to": 2**70},
    "nan": {"values": [1.0], "factor": math.nan},
    "infinity": {"values": [math.inf]},
    "overflowing_result": {"values": [1.7e308], "factor": 10.0},
}


OCTETS, JSON = "application/octet-stream", "application/json"
#: ``Accept`` headers, and what ``POST /reverse_bytes`` (JSON or raw bytes) and ``POST /scale``
#: (JSON only) answer to them: a media type, or None for 406
ACCEPT_CASES: list[tuple[str, str | None, str | None]] = [
    (OCTETS, OCTETS, None),
    (f"{OCTETS};q=0", None, None),
    (f"{OCTETS};q=0, */*", JSON, JSON),
    (f"{JSON};q=0.5, {OCTETS}", OCTETS, JSON),
    (f"{JSON}, {OCTETS};q=0.9", JSON, JSON),
    (f"{OCTETS}, {JSON}", OCTETS, JSON),
    (f"{JSON}, {OCTETS}", JSON, JSON),
    ("*/*", JSON, JSON),
    ("application/*", JSON, JSON),
    (f"application/*;q=0.2, {OCTETS};q=0.4", OCTETS, JSON),
    (f"APPLICATION/OCTET-STREAM; Q=0.3, {JSON};q=0.2", OCTETS, JSON),
    ("image/png", None, None),  # what the bytes may look like is no type the document declares
    ("application/pdf, text/html;q=0.9", None, None),
    ("*/*;q=0", None, None),
]


def nested_int_error_code(service: Service, interface: str, weight: int) -> str:
    """The error code for ``checksum(data=b"", tags={"a": weight})``: an int inside a dict, on
    the interfaces whose wire format can hold any int (gRPC's ``map<string, int64>`` cannot)."""
    if interface == "rest":
        body = {"data": "", "tags": {"a": weight}}
        response = httpx.post(f"{service.http}/checksum", json=body, timeout=30)
        return OK if response.status_code == 200 else str(response.json()["error"]["code"])
    if interface == "graphql":
        query = 'query ($t: JSON) { checksum(data: "", tags: $t) { result } }'
        payload = {"query": query, "variables": {"t": {"a": weight}}}
        answer = httpx.post(f"{service.http}/graphql", json=payload, timeout=30).json()
        return str(answer["errors"][0]["extensions"]["code"]) if answer.get("errors") else OK
    if interface == "websocket":
        with connect(service.http.replace("http://", "ws://", 1) + "/ws", open_timeout=10) as ws:
            message = {"type": "checksum", "id": "n", "data": {"data": "", "tags": {"a": weight}}}
            ws.send(json.dumps(message))
            reply = json.loads(ws.recv(timeout=30))
        return OK if reply["type"] == "checksum.result" else str(reply["data"]["code"])
    assert interface == "cli", interface
    command = [*service.cli, "checksum", "--data=-", f'--tags={{"a": {weight}}}']
    done = subprocess.run(command, input="", capture_output=True, text=True, timeout=60)
    if done.returncode == 0:
        return OK
    assert done.returncode in (1, 2) and len(done.stderr.splitlines()) == 1, done
    return "VALIDATION_ERROR"


def answered_media_type(service: Service, function: str, accept: str) -> str | None:
    """The media type of the answer to a valid call of *function* (``reverse_bytes`` or
    ``scale``) with *accept*; None for a 406 with the error envelope."""
    body = {"reverse_bytes": {"data": "YWJj"}, "scale": {"values": [1]}}[function]
    response = httpx.post(
        f"{service.http}/{function}", json=body, headers={"Accept": accept}, timeout=30
    )
    if response.status_code == 406:
        assert response.json()["error"]["code"] == "NOT_ACCEPTABLE", response.text
        return None
    assert response.status_code == 200, response.text
    return response.headers["content-type"].split(";")[0]


def scale_error_code(service: Service, interface: str, arguments: dict[str, Any]) -> str:
    """The error code the service gives for ``scale(**arguments)`` on *interface*, or ``OK``."""
    call = {
        "rest": _rest,
        "graphql": _graphql,
        "websocket": _websocket,
        "grpc": _grpc,
        "cli": _cli,
    }[interface]
    return call(service, arguments)


def _json(value: Any) -> str:
    # NaN and Infinity as the JS literals that Python's and JavaScript's parsers know: what a
    # careless client sends
    return json.dumps(value, allow_nan=True)


def _rest(service: Service, arguments: dict[str, Any]) -> str:
    response = httpx.post(
        f"{service.http}/scale",
        content=_json(arguments),
        headers={"Content-Type": "application/json"},
        timeout=30,
    )
    if response.status_code == 200:
        return OK
    assert 400 <= response.status_code < 500, response.text
    code: str = response.json()["error"]["code"]
    return code


def _graphql(service: Service, arguments: dict[str, Any]) -> str:
    types = {"values": "[Float!]!", "factor": "Float!", "round_to": "Int64"}
    declared = ", ".join(f"${name}: {types[name]}" for name in arguments)
    passed = ", ".join(f"{name}: ${name}" for name in arguments)
    query = f"query ({declared}) {{ scale({passed}) {{ result }} }}"
    response = httpx.post(
        f"{service.http}/graphql",
        content=_json({"query": query, "variables": arguments}),
        headers={"Content-Type": "application/json"},
        timeout=30,
    )
    body = response.json()
    if not body.get("errors"):
        return OK
    codes = {error.get("extensions", {}).get("code") for error in body["errors"]}
    assert len(codes) == 1, body
    return str(codes.pop())


def _websocket(service: Service, arguments: dict[str, Any]) -> str:
    url = service.http.replace("http://", "ws://", 1) + "/ws"
    with connect(url, open_timeout=10) as ws:
        ws.send(_json({"type": "scale", "id": "case", "data": arguments}))
        reply = json.loads(ws.recv(timeout=30))
    assert reply["id"] == "case", reply
    if reply["type"] == "scale.result":
        return OK
    assert reply["type"] == "error", reply
    return str(reply["data"]["code"])


def _varint(number: int) -> bytes:
    """Protobuf's base-128 varint of *number* (a negative one in two's complement), of any size:
    beyond 64 bits it is longer than the ten bytes a parser accepts, which is how such an int
    reaches a server."""
    number = number + 2**64 if number < 0 else number
    out = bytearray()
    while True:
        byte, number = number & 0x7F, number >> 7
        out.append(byte | (0x80 if number else 0))
        if not number:
            return bytes(out)


def scale_request(arguments: dict[str, Any]) -> bytes:
    """``ScaleRequest`` in protobuf's wire format: ``values`` (1, packed doubles), ``factor``
    (2, double), ``round_to`` (3, int64)."""
    out = bytearray()
    if "values" in arguments:
        packed = b"".join(struct.pack("<d", value) for value in arguments["values"])
        out += _varint(1 << 3 | 2) + _varint(len(packed)) + packed
    if "factor" in arguments:
        out += _varint(2 << 3 | 1) + struct.pack("<d", arguments["factor"])
    if "round_to" in arguments:
        out += _varint(3 << 3 | 0) + _varint(arguments["round_to"])
    return bytes(out)


def _grpc(service: Service, arguments: dict[str, Any]) -> str:
    with grpc.insecure_channel(service.grpc) as channel:
        method = channel.unary_unary(f"/{GRPC_SERVICE}/Scale")
        try:
            method(scale_request(arguments), timeout=30)
        except grpc.RpcError as exc:
            codes = {
                grpc.StatusCode.INVALID_ARGUMENT: "VALIDATION_ERROR",
                grpc.StatusCode.INTERNAL: "INTERNAL_ERROR",
            }
            return codes.get(exc.code(), exc.code().name)
    return OK


#: grpc.health.v1.HealthCheckResponse.ServingStatus, by number
HEALTH_STATUSES = {0: "UNKNOWN", 1: "SERVING", 2: "NOT_SERVING", 3: "SERVICE_UNKNOWN"}


def health_watch(channel: grpc.Channel, service: str) -> Any:
    """A ``grpc.health.v1.Health/Watch`` call of *service*: an iterator of the replies, which
    ``health_status`` reads, with ``is_active()``."""
    watch = channel.unary_stream("/grpc.health.v1.Health/Watch")
    name = service.encode()
    # HealthCheckRequest: service (1, a string); proto3 leaves out the empty one
    return watch(_varint(1 << 3 | 2) + _varint(len(name)) + name if name else b"", timeout=120)


def health_status(reply: bytes) -> str:
    """The status of a ``HealthCheckResponse`` (1, an enum; proto3 leaves out UNKNOWN, 0)."""
    return HEALTH_STATUSES[reply[1] if reply else 0]


def _cli(service: Service, arguments: dict[str, Any]) -> str:
    words = [f"--values={_json(arguments['values'])}"]
    if "factor" in arguments:
        words.append(f"--factor={arguments['factor']!r}")
    if "round_to" in arguments:
        words.append(f"--round-to={arguments['round_to']}")
    done = subprocess.run(
        [*service.cli, "scale", *words], capture_output=True, text=True, timeout=60
    )
    if done.returncode == 0:
        return OK
    lines = done.stderr.splitlines()
    assert done.returncode in (1, 2) and len(lines) == 1 and not done.stdout, done
    assert "Traceback" not in done.stderr
    return "VALIDATION_ERROR"


def schemathesis_requests(url: str, folder: Path) -> int:
    """How many requests schemathesis generated from the service's ``/openapi.json`` (seeded,
    so every run sends the same), once none got a server error, a response outside the
    document's schemas, or an undeclared status or content type; its state stays in *folder*."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "schemathesis.cli",
            "run",
            f"{url}/openapi.json",
            "--checks",
            "not_a_server_error,response_schema_conformance,status_code_conformance,"
            "content_type_conformance",
            "--max-examples",
            "60",
            "--seed",
            "1",
            "--no-color",
        ],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=folder,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    generated = re.search(r"(\d+) generated", result.stdout)
    assert generated, result.stdout[-2000:]
    return int(generated.group(1))
