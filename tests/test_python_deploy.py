"""Deployment files of generated Python packages, checked by the tools that consume them:
hadolint on the Dockerfile, kubernetes-validate (offline, with the schemas it ships) on the
manifests, actionlint with shellcheck on the workflow, openapi-spec-validator on the OpenAPI
document; docker-compose.yml by its structure (``docker compose config`` needs Docker).

For the bundled examples, and for a package with every interface the Python target has and a
name and description made to break YAML and Dockerfiles. Each check also runs its tool on a
broken copy, to show that the tool looks at what it is given.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # the same parser, as a package
    import tomli as tomllib

import pytest
import yaml
from apipack_rules.python import LANGUAGE, RULES, deploy
from apipack_rules.python._filters import yaml_str
from helpers import run_apipack, tool
from openapi_spec_validator import validate as validate_openapi

from apipack_build.base.lookup import builtin_template_dir
from apipack_build.base.render import Renderer
from apipack_build.rules import Package, PackageRequest, Settings

REPO = Path(__file__).resolve().parents[1]
K8S_VERSION = "1.37.0"
HTTP_PORT, GRPC_PORT = 8080, 50051
DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?\Z")
LABEL_VALUE = re.compile(r"([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?\Z")

#: 64 characters (one more than a DNS label holds), underscores, a double hyphen, a YAML boolean
AWKWARD_NAME = "on--" + "a_" * 29 + "z9"
AWKWARD_DESCRIPTION = (
    'Says "hi": it\'s #1 — ünïcödé ✓ 😀\n- not a list\n---\nkey: value # not a comment\n'
    "${{ github.token }} $HOME `whoami` \\back\\slash & *alias !tag {{ jinja }} %s\t"
    "tab\r\nNUL\x00 separator\u2028 end"
)
#: every interface the Python target has a rule for
INTERFACES = sorted({rule.interface for rule in RULES if rule.interface})
BUNDLED = ("document-tools", "html_to_pdf", "image_resize", "pdf_to_text")
PACKAGES = (*BUNDLED, AWKWARD_NAME)

AWKWARD_SPEC = f"""\
project:
  name: {AWKWARD_NAME}
  description: {yaml_str(AWKWARD_DESCRIPTION)}
  version: "1.0+local build"
language: python
interfaces: [{", ".join(INTERFACES)}]
functions:
  - name: echo
    description: Echo the text.
    parameters: [{{name: text, type: string}}]
    output_type: string
    code: |
      def echo(text: str) -> str:
          return text
    examples:
      - {{input: {{text: hi}}, output: hi}}
"""


def run(args: list[str], cwd: Path, home: Path) -> subprocess.CompletedProcess[str]:
    # a private HOME and XDG folder: no user configuration of the linters applies
    env = {**os.environ, "HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config")}
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled examples and the awkward spec, built offline; the Python packages folder."""
    project = tmp_path_factory.mktemp("deploy")
    shutil.copytree(REPO / "specs", project / "specs")
    shutil.copy(REPO / "apipack.yml", project / "apipack.yml")
    (project / "specs" / "awkward.yml").write_text(AWKWARD_SPEC, encoding="utf-8")
    done = run_apipack(
        project, "generate", "--offline", env={"APIPACK_LLM_BASE_URL": "http://127.0.0.1:9"}
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return project / "generated" / "python"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    (tmp_path / "home").mkdir()
    return tmp_path / "home"


def module_of(name: str) -> str:
    return name.replace("-", "_")


def built(package: Path, interface: str) -> bool:
    return (package / "src" / module_of(package.name) / interface).is_dir()


def load(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


# ---- Dockerfile ----


def hadolint(dockerfile: Path, home: Path) -> subprocess.CompletedProcess[str]:
    return run([tool("hadolint"), "--no-color", dockerfile.name], dockerfile.parent, home)


@pytest.mark.parametrize("name", PACKAGES)
def test_dockerfile_passes_hadolint(generated: Path, home: Path, name: str) -> None:
    dockerfile = generated / name / "Dockerfile"
    done = hadolint(dockerfile, home)
    assert (done.returncode, done.stdout + done.stderr) == (0, "")

    broken = home / "Dockerfile"
    broken.write_text(re.sub(r"(?m)^FROM python:\S+", "FROM python", dockerfile.read_text()))
    done = hadolint(broken, home)
    assert done.returncode == 1 and "DL3006" in done.stdout


def instructions(dockerfile: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the final stage, continuation lines joined."""
    text = re.sub(r"\\\n\s*", " ", dockerfile.read_text(encoding="utf-8"))
    lines = [line.split(None, 1) for line in text.splitlines() if line and line[0] != "#"]
    stages = [i for i, parts in enumerate(lines) if parts[0] == "FROM"]
    return [(parts[0], parts[1] if len(parts) > 1 else "") for parts in lines[stages[-1] :]]


@pytest.mark.parametrize("name", PACKAGES)
def test_dockerfile_runs_the_server_as_a_user_with_a_healthcheck(
    generated: Path, name: str
) -> None:
    package = generated / name
    final = dict(instructions(package / "Dockerfile"))
    assert final["FROM"].startswith("python:") and final["FROM"].endswith("-slim")
    assert final["USER"].isdigit() and int(final["USER"]) > 0
    assert json.loads(final["CMD"]) == [f"{name}-server"]
    assert "/health/live" in final["HEALTHCHECK"]
    exposed = {int(port) for port in final["EXPOSE"].split()}
    assert exposed == ({HTTP_PORT, GRPC_PORT} if built(package, "grpc") else {HTTP_PORT})
    env = dict(re.findall(r'(\w+)=("[^"]*"|\S+)', final["ENV"]))
    assert env["PORT"] == f'"{HTTP_PORT}"' and env["HOST"] == '"0.0.0.0"'


# ---- Kubernetes ----


def kubernetes_validate(paths: list[Path], home: Path) -> subprocess.CompletedProcess[str]:
    command = [tool("kubernetes-validate"), "--strict", "-k", K8S_VERSION, *map(str, paths)]
    return run(command, home, home)


@pytest.mark.parametrize("name", PACKAGES)
def test_manifests_pass_kubernetes_validate(generated: Path, home: Path, name: str) -> None:
    manifests = sorted((generated / name / "kubernetes").glob("*.yaml"))
    assert [p.name for p in manifests] == ["deployment.yaml", "ingress.yaml", "service.yaml"]
    done = kubernetes_validate(manifests, home)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()  # a kind without a schema is only a WARN: not good enough
    assert len(lines) == 3 and all(line.startswith("INFO") and " passed " in line for line in lines)

    broken = home / "deployment.yaml"
    broken.write_text(manifests[0].read_text().replace("readinessProbe:", "readynessProbe:"))
    done = kubernetes_validate([broken], home)
    assert done.returncode == 1 and "readynessProbe" in done.stdout


def manifests(package: Path) -> tuple[Any, Any, Any]:
    """The Deployment, the Service and the Ingress."""
    folder = package / "kubernetes"
    return (
        load(folder / "deployment.yaml"),
        load(folder / "service.yaml"),
        load(folder / "ingress.yaml"),
    )


@pytest.mark.parametrize("name", PACKAGES)
def test_manifests_fit_together(generated: Path, name: str) -> None:
    package = generated / name
    deployment, service, ingress = manifests(package)
    names = {doc["metadata"]["name"] for doc in (deployment, service, ingress)}
    assert len(names) == 1
    label = names.pop()
    assert DNS_LABEL.match(label) and len(label) <= 63, label

    pod = deployment["spec"]["template"]
    for labels in (deployment["metadata"]["labels"], pod["metadata"]["labels"]):
        assert all(LABEL_VALUE.match(v) and len(v) <= 63 for v in labels.values()), labels
    selector = deployment["spec"]["selector"]["matchLabels"]
    assert selector.items() <= pod["metadata"]["labels"].items()
    assert service["spec"]["selector"].items() <= pod["metadata"]["labels"].items()

    (container,) = pod["spec"]["containers"]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    grpc = built(package, "grpc")
    assert ports == ({"http": HTTP_PORT, "grpc": GRPC_PORT} if grpc else {"http": HTTP_PORT})
    assert {p["targetPort"] for p in service["spec"]["ports"]} == set(ports)
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend == {"name": label, "port": {"name": "http"}}

    assert container["livenessProbe"]["httpGet"] == {"path": "/health/live", "port": "http"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/health/ready", "port": "http"}
    assert set(container["resources"]) == {"requests", "limits"}
    security = pod["spec"]["securityContext"]
    assert security["runAsNonRoot"] is True and security["runAsUser"] > 0
    assert container["securityContext"]["allowPrivilegeEscalation"] is False

    final = dict(instructions(package / "Dockerfile"))
    assert int(final["USER"]) == security["runAsUser"]
    env = {e["name"]: e["value"] for e in container["env"]}
    assert {"HOST", "PORT", "LOG_LEVEL"} <= env.keys()
    assert ("GRPC_PORT" in env) == grpc
    assert all(f"{key}=" in final["ENV"] for key in env)


def test_spec_strings_stay_strings(generated: Path) -> None:
    """The awkward description is in the manifests exactly, and on one Dockerfile line."""
    package = generated / AWKWARD_NAME
    deployment, _, _ = manifests(package)
    assert deployment["metadata"]["annotations"]["description"] == AWKWARD_DESCRIPTION
    assert deployment["metadata"]["labels"]["app.kubernetes.io/version"] == "1.0-local-build"
    label = deployment["metadata"]["name"]
    assert label == AWKWARD_NAME.replace("_", "-")[:63]
    dockerfile = (package / "Dockerfile").read_text(encoding="utf-8")
    (line,) = [x for x in dockerfile.splitlines() if "image.description=" in x]
    assert line.endswith('"') and "ünïcödé ✓ 😀 - not a list --- key: value" in line


# ---- docker-compose ----


@pytest.mark.parametrize("name", PACKAGES)
def test_compose_runs_the_service_and_an_optional_ollama(generated: Path, name: str) -> None:
    package = generated / name
    compose = load(package / "docker-compose.yml")
    deployment, _, _ = manifests(package)
    label = deployment["metadata"]["name"]
    assert set(compose["services"]) == {label, "ollama"}

    server = compose["services"][label]
    assert server["build"] == "." and "profiles" not in server
    grpc = built(package, "grpc")
    expected_ports = [f"{HTTP_PORT}:{HTTP_PORT}", *([f"{GRPC_PORT}:{GRPC_PORT}"] if grpc else [])]
    assert server["ports"] == expected_ports
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    k8s_env = {e["name"]: e["value"] for e in container["env"]}
    assert k8s_env.items() <= server["environment"].items()
    assert all(isinstance(v, str) for v in server["environment"].values())
    assert server["healthcheck"]["test"][0] == "CMD"
    assert "/health/live" in " ".join(server["healthcheck"]["test"])
    assert server["restart"] == "unless-stopped"
    # compose substitutes $VARIABLES in values; none of ours may hold one
    assert "$" not in json.dumps(server)

    ollama = compose["services"]["ollama"]
    assert ollama["profiles"] == ["ollama"]
    image, _, tag = ollama["image"].partition(":")
    assert image == "ollama/ollama" and tag and tag != "latest"
    volumes = {v.split(":")[0] for v in ollama["volumes"]}
    assert volumes <= set(compose["volumes"])


# ---- GitHub Actions ----


def actionlint_run(actionlint: str, workflow: Path, home: Path) -> subprocess.CompletedProcess[str]:
    command = [actionlint, "-no-color", "-shellcheck", tool("shellcheck"), str(workflow)]
    return run(command, workflow.parent, home)


@pytest.mark.parametrize("name", PACKAGES)
def test_workflow_passes_actionlint(
    generated: Path, home: Path, actionlint: str, name: str
) -> None:
    workflow = generated / name / ".github" / "workflows" / "ci.yml"
    done = actionlint_run(actionlint, workflow, home)
    assert (done.returncode, done.stdout + done.stderr) == (0, "")

    broken = home / "ci.yml"
    broken.write_text(workflow.read_text().replace("sleep 1", "sleep $delay"))
    done = actionlint_run(actionlint, broken, home)
    assert done.returncode == 1 and "SC2086" in done.stdout


@pytest.mark.parametrize("name", PACKAGES)
def test_workflow_checks_tests_and_builds_the_package(generated: Path, name: str) -> None:
    package = generated / name
    jobs = load(package / ".github" / "workflows" / "ci.yml")["jobs"]
    assert set(jobs) == {"test", "docker"}
    runs = [step["run"] for step in jobs["test"]["steps"] if "run" in step]
    assert runs == [
        'python -m pip install ".[test,lint]"',
        "ruff check .",
        "ruff format --check .",
        "mypy",
        "pytest",
    ]
    extras = tomllib.loads((package / "pyproject.toml").read_text())["project"]
    lint = " ".join(extras["optional-dependencies"]["lint"])
    assert "ruff" in lint and "mypy" in lint
    docker = "\n".join(step.get("run", "") for step in jobs["docker"]["steps"])
    assert "docker build" in docker and "/health/live" in docker


# ---- OpenAPI ----


@pytest.mark.parametrize("name", PACKAGES)
def test_openapi_document_is_valid(generated: Path, name: str) -> None:
    """Wherever the REST rule puts it: the package root or beside the routes."""
    package = generated / name
    candidates = [package / "openapi.json", package / "src" / module_of(name) / "rest/openapi.json"]
    documents = [path for path in candidates if path.is_file()]
    assert documents or not built(package, "rest"), f"REST is built, but {name} has no openapi.json"
    for path in documents:
        document = json.loads(path.read_text(encoding="utf-8"))
        validate_openapi(document)
        assert document["info"]["title"] == name


# ---- gRPC, whether or not its rule is installed ----


def test_grpc_port_is_deployed_when_grpc_is_built(tmp_path: Path, home: Path) -> None:
    """The deployment files alone, rendered in this process for a gRPC-only package."""
    package = Package(
        name="rpc",
        description="gRPC only",
        version="1.0",
        source="specs/rpc.yml",
        functions=(),
        interfaces=None,
        languages=None,
        dependencies={},
    )
    request = PackageRequest(package, "python", ("grpc",), Settings({"port": HTTP_PORT}))
    renderer = Renderer([("builtin", builtin_template_dir())], LANGUAGE.filters)
    for output in deploy.outputs(request):
        path = tmp_path / output.path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(renderer.render(output.template, output.context), encoding="utf-8")

    assert hadolint(tmp_path / "Dockerfile", home).returncode == 0
    final = dict(instructions(tmp_path / "Dockerfile"))
    assert final["EXPOSE"].split() == [str(HTTP_PORT), str(GRPC_PORT)]
    assert f'GRPC_PORT="{GRPC_PORT}"' in final["ENV"]
    done = kubernetes_validate(sorted((tmp_path / "kubernetes").glob("*.yaml")), home)
    assert done.returncode == 0, done.stdout
    deployment, service, _ = manifests(tmp_path)
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert {"name": "grpc", "containerPort": GRPC_PORT, "protocol": "TCP"} in container["ports"]
    assert {"name": "GRPC_PORT", "value": str(GRPC_PORT)} in container["env"]
    assert [p["port"] for p in service["spec"]["ports"]] == [HTTP_PORT, GRPC_PORT]
    compose = load(tmp_path / "docker-compose.yml")
    assert f"{GRPC_PORT}:{GRPC_PORT}" in compose["services"]["rpc"]["ports"]
