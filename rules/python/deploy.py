"""How a generated package is checked and run: its GitHub Actions workflow and, when a server
interface is built, Dockerfile, docker-compose.yml and Kubernetes manifests (``kubernetes/``).

Part of python.core (what it writes depends on which interfaces are built, not on one of them).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from apipack_build.rules import Output, PackageRequest

from . import service
from ._names import module_name

#: the image's user; numeric, so Kubernetes can check ``runAsNonRoot`` without /etc/passwd
UID = 10001
PYTHON_IMAGE = "python:3.12-slim"
#: the oldest and the newest Python the generated package supports
CI_PYTHON_VERSIONS = ("3.10", "3.13")
OLLAMA_IMAGE = "ollama/ollama:0.20.6"
#: a liveness probe without curl (not in the slim image): urlopen raises on a non-2xx reply
HEALTH_PROBE = (
    "python",
    "-c",
    "import os, urllib.request; urllib.request.urlopen("
    "'http://127.0.0.1:' + os.environ.get('PORT', '8080') + '/health/live', timeout=2)",
)
_DNS_LABEL_MAX = 63


def dns_label(name: str) -> str:
    """*name* as a DNS-1123 label (Kubernetes object, container and image names).

    Spec names are lower-case letters, digits, ``-`` and ``_``, start with a letter and are at
    most 64 characters long; a label has no ``_`` and at most 63.
    """
    return name.replace("_", "-")[:_DNS_LABEL_MAX].rstrip("-")


def version_label(version: str) -> str:
    """*version* as a Kubernetes label value and image tag, or ``""`` if nothing of it fits."""
    text = re.sub(r"[^A-Za-z0-9_.-]", "-", version)[:_DNS_LABEL_MAX]
    return text.strip("-_.")


def outputs(request: PackageRequest) -> list[Output]:
    context = {
        **service_context(request),
        "module": module_name(request.package),
        "python_image": request.settings.deployment.get("docker", {}).get("base_image")
        or PYTHON_IMAGE,
        "python_versions": CI_PYTHON_VERSIONS,
        "health_probe": HEALTH_PROBE,
    }
    return [
        *language_outputs("python/deploy", context),
        *(_platform_outputs(request, context) if context["server"] else []),
    ]


def language_outputs(folder: str, context: dict[str, Any]) -> list[Output]:
    """A language's workflow and, for a server, its Dockerfile (both from *folder*), with the
    files every language shares: docker-compose.yml and the Kubernetes manifests."""
    workflow = Output(".github/workflows/ci.yml", f"{folder}/ci.yml.j2", context)
    if not context["server"]:
        return [workflow]
    return [
        workflow,
        Output("Dockerfile", f"{folder}/Dockerfile.j2", context),
        Output(".dockerignore", f"{folder}/dockerignore.j2", context),
        Output("docker-compose.yml", "deploy/docker-compose.yml.j2", context),
        *(
            Output(f"kubernetes/{kind}.yaml", f"deploy/kubernetes/{kind}.yaml.j2", context)
            for kind in ("deployment", "service", "ingress")
        ),
    ]


def _platform_outputs(request: PackageRequest, context: dict[str, Any]) -> list[Output]:
    """The files of each cloud platform in ``deployment.platforms`` (``apipack deploy``)."""
    platforms = set(request.settings.deployment.get("platforms", ()))
    folder = "python/deploy/platforms"
    outputs: list[Output] = []
    if platforms & {"heroku", "aws-lambda"}:
        requirements = {"source": context["source"], "lambda": "aws-lambda" in platforms}
        outputs.append(Output("requirements.txt", f"{folder}/requirements.txt.j2", requirements))
    if "heroku" in platforms:
        outputs += [
            Output("Procfile", f"{folder}/Procfile.j2", {"name": context["name"]}),
            Output("app.json", f"{folder}/app.json.j2", {"app_json": _heroku_app(context)}),
        ]
    if "aws-lambda" in platforms:
        outputs += [
            Output(
                "lambda_handler.py",
                f"{folder}/lambda_handler.py.j2",
                {"source": context["source"], "module": context["module"]},
            ),
            Output("template.yaml", f"{folder}/template.yaml.j2", context),
        ]
    if "gcp-cloud-run" in platforms:
        outputs.append(Output("service.yaml", f"{folder}/service.yaml.j2", context))
    return outputs


def _heroku_app(context: dict[str, Any]) -> dict[str, Any]:
    """Heroku's app.json: the Python buildpack, one web dyno, the service's settings."""
    environment = {k: v for k, v in context["environment"].items() if k not in ("PORT", "HOST")}
    return {
        "name": context["label"][:30],
        "description": context["description"] or context["name"],
        "buildpacks": [{"url": "heroku/python"}],
        "formation": {"web": {"quantity": 1, "size": "basic"}},
        "env": {key: {"value": value, "required": False} for key, value in environment.items()},
    }


def service_context(request: PackageRequest) -> dict[str, Any]:
    """What every language's deployment files say of the service: names, labels, ports, the
    settings, replicas; the language adds its image, its CI versions and its health probe."""
    package, interfaces = request.package, request.interfaces
    deployment = request.settings.deployment
    label, version = dns_label(package.name), version_label(package.version)
    grpc = "grpc" in interfaces
    port, grpc_port = service.ports(request)
    return {
        "source": package.source,
        "name": package.name,
        "description": package.description,
        "version": package.version,
        "label": label,
        "image": f"{label}:{version or 'latest'}",
        "labels": {
            "app.kubernetes.io/name": label,
            "app.kubernetes.io/component": "server",
            **({"app.kubernetes.io/version": version} if version else {}),
        },
        "server": service.built(interfaces),
        "grpc": grpc,
        "port": port,
        "grpc_port": grpc_port,
        "environment": _environment(port, grpc_port if grpc else None),
        "replicas": _replicas(deployment),
        "readme": request.settings.include_docs,
        "tests": request.settings.include_tests,
        "uid": UID,
        "ollama_image": OLLAMA_IMAGE,
    }


def _replicas(deployment: Mapping[str, Any]) -> int:
    """``deployment.kubernetes.replicas`` (the APIpack README's spelling), else
    ``deployment.replicas``."""
    kubernetes = deployment.get("kubernetes") or {}
    return int(kubernetes.get("replicas") or deployment.get("replicas", 1))


def _environment(port: int, grpc_port: int | None) -> dict[str, str]:
    """The service's settings (read by ``service/config.py``), the same in every file."""
    return {
        "HOST": "0.0.0.0",
        "PORT": str(port),
        **({"GRPC_PORT": str(grpc_port)} if grpc_port is not None else {}),
        "LOG_LEVEL": "INFO",
    }
