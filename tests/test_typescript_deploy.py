"""Deployment files of generated npm packages (the TypeScript target and its JavaScript
flavour), checked by the same tools as Python's (``test_python_deploy``): hadolint on the
multi-stage Dockerfile, kubernetes-validate on the manifests every language shares, actionlint
with shellcheck on the workflow."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from helpers import run_apipack
from test_python_deploy import (
    REPO,
    actionlint_run,
    hadolint,
    instructions,
    kubernetes_validate,
    load,
)

#: (language, package): the bundled examples as TypeScript, one as JavaScript
PACKAGES = [
    *(("typescript", name) for name in ("document-tools", "html_to_pdf", "image_resize")),
    ("javascript", "document-tools"),
]
IDS = [f"{language}-{name}" for language, name in PACKAGES]


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled examples built offline as TypeScript and as JavaScript, with every interface
    they ask for; the generated folder."""
    project = tmp_path_factory.mktemp("ts-deploy")
    shutil.copytree(REPO / "specs", project / "specs")
    done = run_apipack(
        project,
        *("generate", "--offline", "-l", "typescript,javascript"),
        *("-o", "generated"),
        env={"APIPACK_LLM_BASE_URL": "http://127.0.0.1:9"},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return project / "generated"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    (tmp_path / "home").mkdir()
    return tmp_path / "home"


@pytest.mark.parametrize(("language", "name"), PACKAGES, ids=IDS)
def test_dockerfile_passes_hadolint_and_runs_a_user_with_a_healthcheck(
    generated: Path, home: Path, language: str, name: str
) -> None:
    dockerfile = generated / language / name / "Dockerfile"
    done = hadolint(dockerfile, home)
    assert (done.returncode, done.stdout + done.stderr) == (0, "")
    text = dockerfile.read_text(encoding="utf-8")
    assert text.count("\nFROM node:20-bookworm-slim") == 2  # multi-stage
    final = dict(instructions(dockerfile))
    assert final["USER"] == "10001:10001"
    assert "/health/live" in final["HEALTHCHECK"]
    server = "dist/src/rest/server.js" if language == "typescript" else "src/rest/server.js"
    assert final["CMD"] == f'["node", "{server}"]'
    assert ("npm run build" in text) == (language == "typescript")


@pytest.mark.parametrize(("language", "name"), PACKAGES, ids=IDS)
def test_manifests_pass_kubernetes_validate(
    generated: Path, home: Path, language: str, name: str
) -> None:
    manifests = sorted((generated / language / name / "kubernetes").glob("*.yaml"))
    assert [p.name for p in manifests] == ["deployment.yaml", "ingress.yaml", "service.yaml"]
    done = kubernetes_validate(manifests, home)
    assert done.returncode == 0, done.stdout + done.stderr
    deployment = load(manifests[0])
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert container["livenessProbe"]["httpGet"]["path"] == "/health/live"
    assert container["readinessProbe"]["httpGet"]["path"] == "/health/ready"


@pytest.mark.parametrize(("language", "name"), PACKAGES, ids=IDS)
def test_compose_has_the_ollama_profile(generated: Path, language: str, name: str) -> None:
    compose = load(generated / language / name / "docker-compose.yml")
    assert compose["services"]["ollama"]["profiles"] == ["ollama"]
    (service,) = (s for key, s in compose["services"].items() if key != "ollama")
    assert service["healthcheck"]["test"][:2] == ["CMD", "node"]


@pytest.mark.parametrize(("language", "name"), PACKAGES, ids=IDS)
def test_workflow_passes_actionlint(
    generated: Path, home: Path, actionlint: str, language: str, name: str
) -> None:
    workflow = generated / language / name / ".github" / "workflows" / "ci.yml"
    done = actionlint_run(actionlint, workflow, home)
    assert (done.returncode, done.stdout + done.stderr) == (0, "")
    steps = [s.get("run") for s in load(workflow)["jobs"]["test"]["steps"]]
    assert "npm ci" in steps and "npm test" in steps and "npm run lint" in steps
    assert ("npm run typecheck" in steps) == (language == "typescript")
    assert ("npm run format:check" in steps) == (language == "typescript")
