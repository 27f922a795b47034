"""The APIpack README's commands: ``generate --spec``, ``build`` (wheel, sdist, Docker) and
``deploy --platform`` (each platform's files checked against its schema or linter)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import jsonschema
import pytest
import yaml
from helpers import Project, tool
from test_readme_config import _readme_project

SCHEMAS = Path(__file__).parent / "schemas"
PACKAGE = "generated/python/my-api-service"


def _schema(name: str) -> dict[str, object]:
    loaded: dict[str, object] = json.loads((SCHEMAS / name).read_text())
    return loaded


def test_generate_spec_flag_is_a_spec_argument(project: Project) -> None:
    _readme_project(project)
    project.apipack("generate", "--spec", "functions/pdf_processor.yml", "--interfaces", "rest")
    functions = project.root / PACKAGE / "src/my_api_service/functions"
    assert (functions / "pdf_processor.py").is_file()
    assert not (functions / "image_resizer.py").exists()


@pytest.mark.parametrize("kind", ["wheel", "sdist"])
def test_build_config_generates_then_builds(project: Project, kind: str) -> None:
    _readme_project(project)

    done = project.apipack("build", "--config", "project.apipack.yml", "--type", kind)

    built = sorted((project.root / PACKAGE / "dist").iterdir())
    assert [p.name for p in built] == [
        "my_api_service-0.1.0-py3-none-any.whl"
        if kind == "wheel"
        else "my_api_service-0.1.0.tar.gz"
    ]
    assert f"built {built[0]}" in done.stdout
    if kind == "wheel":
        names = zipfile.ZipFile(built[0]).namelist()
        assert "my_api_service/functions/pdf_processor.py" in names
    project.apipack("check")  # dist/ is the language's own, never an "extra" file


def test_build_docker_without_docker_exits_3_with_the_command(project: Project) -> None:
    _readme_project(project)
    project.apipack("generate")
    # a PATH without docker: the same answer a machine without Docker gives
    path = os.pathsep.join([str(Path(sys.executable).parent), "/nonexistent"])

    done = project.apipack(
        "build", PACKAGE, "--type", "docker", "--push", expect=3, env={"PATH": path}
    )

    assert "docker: the docker CLI is not installed" in done.stderr
    assert "docker build -t my-api-service:latest ." in done.stderr
    assert "docker push my-api-service:latest" in done.stderr


def test_build_docker_names_a_missing_daemon(project: Project) -> None:
    _readme_project(project)
    project.apipack("generate")
    done = project.apipack("build", PACKAGE, "--type", "docker", "--tag", "t:1", expect=None)
    if done.returncode == 0:
        assert "built image t:1" in done.stdout  # a daemon answers on this machine
    else:
        assert done.returncode == 3, done.stderr
        assert re.search(r"docker: (no Docker daemon|the docker CLI)", done.stderr)


def test_deploy_heroku_files_match_their_schema(project: Project) -> None:
    _readme_project(project)

    done = project.apipack("deploy", "--platform", "heroku")

    package = project.root / PACKAGE
    assert "heroku create my-api-service" in done.stdout
    assert "deployment: {platforms: [heroku]}" in done.stdout
    jsonschema.validate(
        json.loads((package / "app.json").read_text()), _schema("heroku-app-json.json")
    )
    procfile = (package / "Procfile").read_text().splitlines()
    assert procfile == ["web: my-api-service-server"]
    assert all(re.fullmatch(r"[A-Za-z0-9_-]+: \S.*", line) for line in procfile)
    assert (package / "requirements.txt").read_text().splitlines()[-1] == "."


def test_deploy_aws_lambda_template_passes_cfn_lint(project: Project) -> None:
    _readme_project(project)

    done = project.apipack("deploy", "--platform", "aws-lambda")

    package = project.root / PACKAGE
    assert "sam deploy --guided" in done.stdout
    lint = subprocess.run(
        [tool("cfn-lint"), "template.yaml"], cwd=package, capture_output=True, text=True
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr
    handler = (package / "lambda_handler.py").read_text()
    assert "Mangum(create_app()" in handler and "from my_api_service.service.app" in handler
    assert "mangum" in (package / "requirements.txt").read_text()


def test_deploy_cloud_run_service_matches_knative(project: Project) -> None:
    _readme_project(project)

    done = project.apipack("deploy", "--platform", "gcp-cloud-run")

    service = yaml.safe_load((project.root / PACKAGE / "service.yaml").read_text())
    jsonschema.validate(service, _schema("knative-service.json"))
    assert "gcloud run services replace service.yaml" in done.stdout


def test_deploy_apply_without_the_cli_exits_3(project: Project) -> None:
    _readme_project(project)
    path = os.pathsep.join([str(Path(sys.executable).parent), "/nonexistent"])
    for platform, cli in (("heroku", "heroku"), ("aws-lambda", "sam"), ("gcp-cloud-run", "gcloud")):
        done = project.apipack(
            "deploy", "--platform", platform, "--apply", expect=3, env={"PATH": path}
        )
        assert done.stderr.startswith(f"{cli}: not installed"), done.stderr
