"""typescript.websocket: ``/ws`` in the Fastify service, on @fastify/websocket, speaking the
protocol every target speaks (``python.websocket`` describes it): ``{"type", "id", "data"}`` in,
``<function>.result`` or ``error`` out, ``ping`` answered by ``pong``."""

from __future__ import annotations

from typing import Any

from apipack_build.rules import FunctionRequest, Output, PackageRequest, Rule

from ._examples import example_tests, invalid_arguments, json_arguments


def function_outputs(request: FunctionRequest) -> list[Output]:
    function = request.function

    def message(message_id: str, given: dict[str, Any]) -> dict[str, Any]:
        return {"type": function.name, "id": message_id, "data": json_arguments(function, given)}

    invalid = invalid_arguments(function.parameters)
    return [
        example_tests(
            request,
            "websocket",
            "test_message.ts.j2",
            message,
            {"type": function.name, "id": "bad", "data": invalid},
        )
    ]


#: the package's files: path -> template in typescript/websocket/
_FILES = {
    "src/websocket/protocol.ts": "protocol.ts.j2",
    "src/websocket/route.ts": "route.ts.j2",
    "test/exchange.ts": "exchange.ts.j2",
    "test/websocket.test.ts": "test_protocol.ts.j2",
}


def package_outputs(request: PackageRequest) -> list[Output]:
    context = {"source": request.package.source}
    return [Output(path, f"typescript/websocket/{name}", context) for path, name in _FILES.items()]


RULE = Rule(
    name="typescript.websocket",
    language="typescript",
    interface="websocket",
    version="1",
    function_outputs=function_outputs,
    package_outputs=package_outputs,
)
