"""How a generated npm package is checked and run: its GitHub Actions workflow and, when a
server interface is built, a multi-stage Dockerfile, with the docker-compose.yml and Kubernetes
manifests every language shares (``apipack_rules.python.deploy``).

Part of typescript.core (what it writes depends on which interfaces are built, not on one of
them); the JavaScript flavour's image runs its sources with no compile step.
"""

from __future__ import annotations

from apipack_build.rules import Output, PackageRequest

from ..python.deploy import language_outputs, service_context
from ._names import built

NODE_IMAGE = "node:20-bookworm-slim"
#: the oldest and the newest Node the generated package is tested on
CI_NODE_VERSIONS = ("20", "22")
#: a liveness probe without curl (not in the slim image): Node's own fetch
HEALTH_PROBE = (
    "node",
    "-e",
    "fetch('http://127.0.0.1:' + (process.env.PORT || '8080') + '/health/live')"
    ".then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))",
)


def outputs(request: PackageRequest) -> list[Output]:
    context = {
        **service_context(request),
        "typed": request.language != "javascript",
        "built": built(request.language),
        "rest": "rest" in request.interfaces,
        "node_image": request.settings.deployment.get("docker", {}).get("base_image") or NODE_IMAGE,
        "node_versions": CI_NODE_VERSIONS,
        "health_probe": HEALTH_PROBE,
    }
    return language_outputs("typescript/deploy", context)
