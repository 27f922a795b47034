"""typescript.cli: a commander program with one command per function, driven by the same
function table (``src/calls.ts``) as every interface."""

from __future__ import annotations

from apipack_build.rules import Output, PackageRequest, Rule


def package_outputs(request: PackageRequest) -> list[Output]:
    package = request.package
    return [
        Output(
            "src/cli/main.ts",
            "typescript/cli/main.ts.j2",
            {
                "source": package.source,
                "name": package.name,
                "description": " ".join(package.description.split()),
            },
        )
    ]


RULE = Rule(
    name="typescript.cli",
    language="typescript",
    interface="cli",
    version="1",
    package_outputs=package_outputs,
)
