"""The ``service`` package of a generated Python package: what every network interface shares
(configuration, logs, errors, metrics, the HTTP app). Part of python.core, built whenever a
server interface is."""

from __future__ import annotations

from apipack_build.rules import Output, PackageRequest

from ._names import module_name
from ._stack import SERVER_INTERFACES

DEFAULT_PORT = 8080
DEFAULT_GRPC_PORT = 50051
#: interfaces the HTTP app mounts a router of, in the order it mounts them
HTTP_INTERFACES = ("rest", "graphql", "websocket")
_STATIC = ("init", "config", "errors", "logs", "metrics", "calls", "middleware")


def built(interfaces: tuple[str, ...]) -> bool:
    return bool(SERVER_INTERFACES.intersection(interfaces))


def ports(request: PackageRequest) -> tuple[int, int]:
    """The HTTP and gRPC ports, from the deployment settings."""
    deployment = request.settings.deployment
    return (
        int(deployment.get("port", DEFAULT_PORT)),
        int(deployment.get("grpc_port", DEFAULT_GRPC_PORT)),
    )


def outputs(request: PackageRequest) -> list[Output]:
    if not built(request.interfaces):
        return []
    package = request.package
    module = module_name(package)
    port, grpc_port = ports(request)
    common = {"source": package.source, "module": module}
    files = [
        Output(
            f"src/{module}/service/{'__init__' if name == 'init' else name}.py",
            f"python/service/{name}.py.j2",
            {**common, "port": port, "grpc_port": grpc_port} if name == "config" else common,
        )
        for name in _STATIC
    ]
    interfaces = set(request.interfaces)
    files.append(
        Output(
            f"src/{module}/service/app.py",
            "python/service/app.py.j2",
            {
                **common,
                "name": package.name,
                "version": package.version,
                "description": package.description,
                "http_interfaces": [i for i in HTTP_INTERFACES if i in interfaces],
                **{i: i in interfaces for i in (*HTTP_INTERFACES, "grpc")},
                "openapi": "rest" in interfaces,
            },
        )
    )
    return files
