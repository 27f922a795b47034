"""typescript.websocket: ``/ws`` in the Fastify service, on @fastify/websocket, speaking the
protocol every target speaks (``python.websocket`` describes it): ``{"type", "id", "data"}`` in,
``<function>.result`` or ``error`` out, ``ping`` answered by ``pong``."""

from __future__ import annotations

from typing import Any

from apipack_build.rules import Example, Function, FunctionRequest, Output, PackageRequest, Rule

from ._examples import compact, expected, invalid_arguments, json_arguments, title


def function_outputs(request: FunctionRequest) -> list[Output]:
    package, function = request.package, request.function
    invalid = invalid_arguments(function.parameters)
    return [
        Output(
            f"test/websocket_{function.name}.test.ts",
            "typescript/websocket/test_message.ts.j2",
            {
                "source": package.source,
                "function": function.name,
                "examples": [_example(function, i, e) for i, e in enumerate(function.examples, 1)],
                "invalid": compact({"type": function.name, "id": "bad", "data": invalid}),
            },
        )
    ]


def _example(function: Function, index: int, example: Example) -> dict[str, Any]:
    data = json_arguments(function, example.input)
    message_id = f"example-{index}"
    return {
        "title": title(example, index),
        "id": message_id,
        "message": compact({"type": function.name, "id": message_id, "data": data}),
        "has_output": example.has_output,
        "expected": expected(function, example),
    }


def package_outputs(request: PackageRequest) -> list[Output]:
    service = {"source": request.package.source}
    return [
        Output("src/websocket/protocol.ts", "typescript/websocket/protocol.ts.j2", service),
        Output("src/websocket/route.ts", "typescript/websocket/route.ts.j2", service),
        Output("test/exchange.ts", "typescript/websocket/exchange.ts.j2", service),
        Output("test/websocket.test.ts", "typescript/websocket/test_protocol.ts.j2", service),
    ]


RULE = Rule(
    name="typescript.websocket",
    language="typescript",
    interface="websocket",
    version="1",
    function_outputs=function_outputs,
    package_outputs=package_outputs,
)
