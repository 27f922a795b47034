"""The README of a TypeScript package: how to build, test, run and call each interface."""

from __future__ import annotations

from typing import Any

from apipack_build.rules import PackageRequest

from ._names import built, command_name, scripts
from ._types import annotation


def context(request: PackageRequest) -> dict[str, Any]:
    package = request.package
    return {
        "source": package.source,
        "name": package.name,
        "version": package.version,
        "description": package.description,
        "interfaces": list(request.interfaces),
        "programs": scripts(package, request.interfaces, request.language),
        "typed": request.language != "javascript",
        "built": built(request.language),
        "functions": [
            {
                "name": f.name,
                "command": command_name(f.name),
                "description": f.description,
                "signature": ", ".join(f"{p.name}: {annotation(p.type_ref)}" for p in f.parameters),
                "returns": annotation(f.output_ref),
            }
            for f in package.functions
        ],
    }
