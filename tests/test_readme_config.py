"""The APIpack README's configuration, read and honoured: ``~/.apipack/config.yml`` with
``llm.provider: mistral``, ``templates:`` and ``output:`` as a mapping, and the other shape of
``project.apipack.yml`` (``name``, ``language``, ``functions: [{spec}]``, ``deployment``)."""

from __future__ import annotations

import re

import yaml
from helpers import Project, tree

USER_CONFIG = """\
llm:
  provider: mistral
  model: mistral:7b
  temperature: 0.1
  max_tokens: 2048

templates:
  auto_discover: true
  cache_enabled: true
  validation_level: strict

output:
  format: package
  include_tests: true
  include_docs: true
"""

PROJECT = """\
name: my-api-service
language: python
interfaces:
  - rest
  - grpc

functions:
  - spec: functions/pdf_processor.yml
  - spec: functions/image_resizer.yml

deployment:
  docker:
    base_image: python:3.11-slim
  kubernetes:
    replicas: 3
"""


def _function(name: str, output: str, body: str) -> str:
    return (
        f"name: {name}\ninput_type: bytes\noutput_type: {output}\ncode: |\n"
        f"  def {name}(data: bytes) -> {'str' if output == 'string' else 'bytes'}:\n"
        f"      return {body}\n"
    )


def _config(project: Project, *args: str) -> dict[str, str]:
    lines = project.apipack("config", *args).stdout.splitlines()
    pairs = (re.match(r"(\S+) = (.*)", line) for line in lines if not line.startswith("#"))
    return {m[1]: m[2] for m in pairs if m}


def _readme_project(project: Project) -> None:
    project.write_user_config(USER_CONFIG)
    project.write("project.apipack.yml", PROJECT)
    project.write("functions/pdf_processor.yml", _function("pdf_processor", "string", "'x'"))
    project.write("functions/image_resizer.yml", _function("image_resizer", "bytes", "data"))


def test_the_readme_configuration_is_shown_with_its_origins(project: Project) -> None:
    _readme_project(project)

    shown = _config(project)

    assert shown["llm.provider"] == "mistral  # ~/.apipack/config.yml:2:13"
    assert shown["templates.validation_level"] == "strict  # ~/.apipack/config.yml:10:21"
    assert shown["templates.cache_enabled"] == "True  # ~/.apipack/config.yml:9:18"
    assert shown["templates.auto_discover"] == "True  # ~/.apipack/config.yml:8:18"
    assert shown["output.format"] == "package  # ~/.apipack/config.yml:13:11"
    assert shown["output.include_tests"] == "True  # ~/.apipack/config.yml:14:18"
    assert shown["output.include_docs"] == "True  # ~/.apipack/config.yml:15:17"
    assert shown["output"] == "generated  # default"
    assert shown["name"] == "my-api-service  # project.apipack.yml:1:7"
    assert shown["languages"] == "python  # project.apipack.yml:2:11"
    assert shown["deployment.kubernetes.replicas"] == "3  # project.apipack.yml:15:15"


def test_the_readme_project_file_drives_one_package_and_its_deployment(project: Project) -> None:
    _readme_project(project)

    project.apipack("generate")

    package = project.root / "generated/python/my-api-service"
    functions = sorted(p.name for p in (package / "src/my_api_service/functions").glob("*.py"))
    functions = [name for name in functions if name != "__init__.py"]
    assert functions == ["image_resizer.py", "pdf_processor.py"]
    dockerfile = (package / "Dockerfile").read_text()
    assert dockerfile.count("FROM python:3.11-slim") == 2
    deployment = yaml.safe_load((package / "kubernetes/deployment.yaml").read_text())
    assert deployment["spec"]["replicas"] == 3
    assert (package / "src/my_api_service/grpc").is_dir()


def test_a_package_without_tests_or_docs_when_asked(project: Project) -> None:
    _readme_project(project)
    project.write_user_config(
        USER_CONFIG.replace("include_tests: true", "include_tests: false").replace(
            "include_docs: true", "include_docs: false"
        )
    )

    project.apipack("generate")

    files = tree(project.root / "generated/python/my-api-service")
    assert files and not [f for f in files if f.startswith("tests/") or f == "README.md"]
    pyproject = files["pyproject.toml"].decode()
    assert "README.md" not in pyproject and '"tests"' not in pyproject
    assert "README.md" not in files["Dockerfile"].decode()


def test_validation_level_warn_builds_a_function_strict_refuses(project: Project) -> None:
    _readme_project(project)
    project.write("functions/image_resizer.yml", _function("image_resizer", "bytes", "data"))
    project.edit("functions/image_resizer.yml", "def image_resizer(", "def other_name(")

    refused = project.apipack("generate", expect=2)
    assert "function 'image_resizer'" in refused.stderr

    project.edit(
        "project.apipack.yml",
        "language: python",
        "language: python\ntemplates: {validation_level: warn}",
    )
    warned = project.apipack("generate")
    assert "warning:" in warned.stderr and "image_resizer" in warned.stderr


def test_auto_discover_false_ignores_project_templates(project: Project) -> None:
    _readme_project(project)
    project.write("templates/python/core/py.typed.j2", "overridden\n")
    project.apipack("generate")
    typed = project.root / "generated/python/my-api-service/src/my_api_service/py.typed"
    assert typed.read_text() == "overridden\n"

    project.edit(
        "project.apipack.yml",
        "language: python",
        "language: python\ntemplates: {auto_discover: false}",
    )
    project.apipack("generate")
    assert typed.read_text() != "overridden\n"


def test_cache_enabled_false_plans_every_build(project: Project) -> None:
    _readme_project(project)
    project.apipack("generate")
    assert project.generate()["fast_path"] is True
    project.edit(
        "project.apipack.yml",
        "language: python",
        "language: python\ntemplates: {cache_enabled: false}",
    )
    project.apipack("generate")
    second = project.generate()
    assert second["fast_path"] is False and second["tasks_up_to_date"] == second["tasks_total"]


def test_bad_readme_shapes_are_located(project: Project) -> None:
    project.write("project.apipack.yml", "name: x\nfunctions:\n  - name: f\n")
    done = project.apipack("config", expect=2)
    assert done.stderr.startswith("project.apipack.yml:3:5: functions[0]: expected a mapping")
    project.write("project.apipack.yml", "output: {include_tests: maybe}\n")
    done = project.apipack("config", expect=2)
    assert "project.apipack.yml:1:25: output.include_tests:" in done.stderr
