"""Names in a generated TypeScript package: programs it installs and locals that cannot clash."""

from __future__ import annotations

from collections.abc import Iterable

from apipack_build.rules import Package


def local_name(name: str, taken: Iterable[str]) -> str:
    """*name*, or ``_name`` when the module already uses *name* (spec names never start with
    ``_``, so the alias clashes with nothing)."""
    return f"_{name}" if name in set(taken) else name


def built(language: str) -> str:
    """Where the JavaScript that runs lives: tsc's ``dist/`` for TypeScript, the sources
    themselves for the JavaScript flavour."""
    return "" if language == "javascript" else "dist/"


def scripts(
    package: Package, interfaces: tuple[str, ...], language: str = "typescript"
) -> list[dict[str, str]]:
    """The programs the package installs (``bin`` of package.json), by interface."""
    found = []
    if "cli" in interfaces:
        found.append({"name": package.name, "target": f"{built(language)}src/cli/main.js"})
    if "rest" in interfaces:
        target = f"{built(language)}src/rest/server.js"
        found.append({"name": f"{package.name}-server", "target": target})
    return found


def command_name(function: str) -> str:
    return function.replace("_", "-")
