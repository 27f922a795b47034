"""The npm packages a generated package depends on, pinned, and its ``package-lock.json``.

Each interface names the exact versions it needs (``PINS``). ``npm-packages.json`` beside this
module holds the lockfile entries of all of them together, resolved once from the registry by
``python -m apipack_rules.typescript._npm_update`` (a maintainer command; commit its output). A
build never touches the network: it renders the lock of a package from those entries, keeping
only what its own dependencies reach, so ``npm ci`` works in a clean copy of the folder.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from functools import cache
from importlib import resources
from typing import Any

from ._names import SERVER_INTERFACES

#: the key of what every server interface needs
SERVICE = "service"
#: interface (None: every package; SERVICE: every server) -> ("dependencies" |
#: "devDependencies") -> name -> version
PINS: dict[str | None, dict[str, dict[str, str]]] = {
    None: {
        "devDependencies": {
            "@types/node": "20.19.43",
            "typescript": "5.9.3",
            # the package's own checks: `npm run lint` and `npm run format:check`
            "@eslint/js": "9.39.5",
            "eslint": "9.39.5",
            "globals": "17.14.0",
            "prettier": "3.10.1",
            "typescript-eslint": "8.74.0",
        }
    },
    # the Fastify app and its metrics, for any server interface (see service.py)
    SERVICE: {"dependencies": {"fastify": "5.12.8", "prom-client": "15.1.3"}},
    "rest": {"dependencies": {"@fastify/multipart": "10.1.9"}},
    "cli": {"dependencies": {"commander": "14.0.3"}},
    # the WebSocket, GraphQL and gRPC interfaces (issue 13a)
    "websocket": {
        "dependencies": {"@fastify/websocket": "11.3.7"},
        "devDependencies": {"@types/ws": "8.18.2"},
    },
    "graphql": {"dependencies": {"graphql": "16.15.0", "graphql-yoga": "5.24.1"}},
    "grpc": {
        "dependencies": {
            "@grpc/grpc-js": "1.14.7",
            "@grpc/proto-loader": "0.8.1",
            "@grpc/reflection": "1.0.4",
            "grpc-health-check": "2.1.0",
            # its descriptor extension, to serve protoc's map entry names (see descriptors.ts)
            "protobufjs": "7.6.6",
        }
    },
}
NODE_ENGINES = ">=20"
#: what only the TypeScript flavour needs: the JavaScript flavour runs its sources as they are
TYPESCRIPT_ONLY = frozenset({"@types/node", "typescript", "typescript-eslint"})


def direct(interfaces: Iterable[str], typed: bool = True) -> dict[str, dict[str, str]]:
    """The package's dependencies and devDependencies, for the interfaces it is built with
    (*typed*: the TypeScript flavour, compiled by tsc)."""
    result: dict[str, dict[str, str]] = {"dependencies": {}, "devDependencies": {}}
    chosen = set(interfaces)
    served = [SERVICE] if SERVER_INTERFACES.intersection(chosen) else []
    for key in (None, *served, *sorted(chosen)):
        for group, pins in PINS.get(key, {}).items():
            result[group].update(
                {name: pin for name, pin in pins.items() if typed or name not in TYPESCRIPT_ONLY}
            )
    return {group: dict(sorted(pins.items())) for group, pins in result.items()}


@cache
def entries() -> dict[str, dict[str, Any]]:
    """``npm-packages.json``: the lockfile entry of every package a pin reaches, by path."""
    text = resources.files(__package__).joinpath("npm-packages.json").read_text("utf-8")
    entries: dict[str, dict[str, Any]] = json.loads(text)
    return entries


def lockfile(name: str, version: str, deps: Mapping[str, Mapping[str, str]]) -> dict[str, Any]:
    """The ``package-lock.json`` (version 3) of a package with direct dependencies *deps*."""
    found = entries()
    prod = _reach(found, "", deps["dependencies"])
    dev = _reach(found, "", deps["devDependencies"])
    packages: dict[str, Any] = {
        "": {
            "name": name,
            "version": version,
            **{group: dict(pins) for group, pins in deps.items() if pins},
            "engines": {"node": NODE_ENGINES},
        }
    }
    for path in sorted(prod | dev):
        entry = {k: v for k, v in found[path].items() if k not in ("dev", "devOptional")}
        if path not in prod:
            entry["dev"] = True
        packages[path] = entry
    return {
        "name": name,
        "version": version,
        "lockfileVersion": 3,
        "requires": True,
        "packages": packages,
    }


def _reach(
    entries: Mapping[str, Mapping[str, Any]], start: str, wanted: Mapping[str, str]
) -> set[str]:
    """The paths of every package that *wanted* (required at *start*) reaches, by Node's lookup."""
    found: set[str] = set()
    todo = [(start, name) for name in wanted]
    while todo:
        where, name = todo.pop()
        path = _resolve(entries, where, name)
        if path is None or path in found:
            continue
        found.add(path)
        entry = entries[path]
        optional_peers = {
            n for n, meta in entry.get("peerDependenciesMeta", {}).items() if meta.get("optional")
        }
        for group in ("dependencies", "optionalDependencies", "peerDependencies"):
            for dep in entry.get(group, {}):
                if group == "peerDependencies" and dep in optional_peers:
                    continue
                todo.append((path, dep))
    return found


def _resolve(entries: Mapping[str, Any], where: str, name: str) -> str | None:
    """Where Node finds *name* required from the package at *where*: the nearest node_modules."""
    base = where
    while True:
        candidate = f"{base}/node_modules/{name}" if base else f"node_modules/{name}"
        if candidate in entries:
            return candidate
        if not base:
            return None
        head, sep, _ = base.rpartition("/node_modules/")
        base = head if sep else ""
