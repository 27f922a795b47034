"""The service of a TypeScript package: what every network interface shares — settings, the
error envelope, metrics, the Fastify app (health, metrics, and the routes of REST, GraphQL and
WebSocket) and the server program, which also starts gRPC. Part of typescript.core, built
whenever a server interface is, as the Python target's ``service`` package."""

from __future__ import annotations

from collections.abc import Iterable

from apipack_build.rules import Output, PackageRequest

from ..python import _openapi
from ._names import SERVER, SERVER_INTERFACES, package_root
from ._rest_forms import form

__all__ = ["SERVER", "built", "outputs"]


def built(interfaces: Iterable[str]) -> bool:
    return bool(SERVER_INTERFACES.intersection(interfaces))


def outputs(request: PackageRequest) -> list[Output]:
    if not built(request.interfaces):
        return []
    package, source = request.package, request.package.source
    common = {"source": source}
    interfaces = set(request.interfaces)
    return [
        Output(
            "src/rest/app.ts",
            "typescript/rest/app.ts.j2",
            {
                "source": source,
                # the HTTP interfaces, mounted in the one Fastify app
                **{i: i in interfaces for i in ("rest", "websocket", "graphql")},
                "package_root": package_root(request.language, 2),
                "functions": [
                    {
                        "name": f.name,
                        "offers": _openapi.success_media_types(f),
                        "form": form(f) if _openapi.takes_files(f) else None,
                    }
                    for f in package.functions
                ],
            },
        ),
        Output(
            "src/rest/server.ts",
            "typescript/rest/server.ts.j2",
            {**common, "grpc": "grpc" in interfaces},
        ),
        Output("src/service/config.ts", "typescript/service/config.ts.j2", common),
        Output("src/service/errors.ts", "typescript/service/errors.ts.j2", common),
        Output("src/service/metrics.ts", "typescript/service/metrics.ts.j2", common),
        Output(
            "test/rest_service.test.ts",
            "typescript/rest/test_service.ts.j2",
            {
                **common,
                "rest": "rest" in interfaces,
                "package_root": package_root(request.language, 1),
            },
        ),
    ]
