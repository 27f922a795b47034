"""Names in a generated TypeScript package: programs it installs and locals that cannot clash."""

from __future__ import annotations

from collections.abc import Iterable

from apipack_build.rules import Package

#: the interfaces a server serves; ``service.py`` renders the server for any of them
SERVER_INTERFACES = frozenset({"rest", "graphql", "websocket", "grpc"})
#: the server program, installed as ``<name>-server`` and run by ``npm start``
SERVER = "dist/src/rest/server.js"


def local_name(name: str, taken: Iterable[str]) -> str:
    """*name*, or ``_name`` when the module already uses *name* (spec names never start with
    ``_``, so the alias clashes with nothing)."""
    return f"_{name}" if name in set(taken) else name


def scripts(package: Package, interfaces: tuple[str, ...]) -> list[dict[str, str]]:
    """The programs the package installs (``bin`` of package.json), by interface."""
    found = []
    if "cli" in interfaces:
        found.append({"name": package.name, "target": "dist/src/cli/main.js"})
    if SERVER_INTERFACES.intersection(interfaces):
        found.append({"name": f"{package.name}-server", "target": SERVER})
    return found


def command_name(function: str) -> str:
    return function.replace("_", "-")
