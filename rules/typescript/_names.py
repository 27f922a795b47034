"""Names in a generated TypeScript package: programs it installs and locals that cannot clash."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import PurePosixPath

from apipack_build.rules import Package

#: the interfaces a server serves; ``service.py`` renders the server for any of them
SERVER_INTERFACES = frozenset({"rest", "graphql", "websocket", "grpc"})
#: the server program (under ``built(language)``), installed as ``<name>-server`` and run by
#: ``npm start``
SERVER = "src/rest/server.js"


def local_name(name: str, taken: Iterable[str]) -> str:
    """*name*, or ``_name`` when the module already uses *name* (spec names never start with
    ``_``, so the alias clashes with nothing)."""
    return f"_{name}" if name in set(taken) else name


def built(language: str) -> str:
    """Where the JavaScript that runs lives: tsc's ``dist/`` for TypeScript, the sources
    themselves for the JavaScript flavour."""
    return "" if language == "javascript" else "dist/"


def package_root(language: str, depth: int) -> str:
    """The package folder as a relative URL from a module *depth* folders below the sources'
    root (``src/rest/app.ts``: 2), as the module runs: from ``dist/`` for TypeScript."""
    return "../" * (len(PurePosixPath(built(language)).parts) + depth)


def scripts(
    package: Package, interfaces: tuple[str, ...], language: str = "typescript"
) -> list[dict[str, str]]:
    """The programs the package installs (``bin`` of package.json), by interface."""
    found = []
    if "cli" in interfaces:
        found.append({"name": package.name, "target": f"{built(language)}src/cli/main.js"})
    if SERVER_INTERFACES.intersection(interfaces):
        found.append({"name": f"{package.name}-server", "target": built(language) + SERVER})
    return found


def command_name(function: str) -> str:
    return function.replace("_", "-")
