"""README's main command, end to end: the bundled examples build offline with no LLM server, the
generated packages (every interface) install in one fresh venv, ruff and mypy pass on them with
their own configuration, and their generated test suites pass."""

from __future__ import annotations

import shutil
import subprocess
import venv
from pathlib import Path

import pytest
from helpers import run_apipack
from mutation import survivors

from apipack_build.load.registry import registry
from apipack_build.spec import load_spec

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("document-tools", "html_to_pdf", "image_resize", "pdf_to_text")
SPECS = {name: name.replace("-", "_") + ".yml" for name in PACKAGES}


def apipack(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_apipack(folder, *args, env={"APIPACK_LLM_BASE_URL": "http://127.0.0.1:9"})


def test_bundled_examples_build_install_and_pass_their_tests(tmp_path: Path) -> None:
    project = tmp_path / "examples"
    shutil.copytree(REPO / "specs", project / "specs")
    shutil.copy(REPO / "apipack.yml", project / "apipack.yml")

    done = apipack(project, "generate", "--offline")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 calls" in done.stdout
    assert apipack(project, "check").returncode == 0
    packages = project / "generated" / "python"
    assert sorted(p.name for p in packages.iterdir()) == sorted(PACKAGES)

    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    install = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    for name in PACKAGES:
        install += ["-e", f"{packages / name}[test,lint]"]
    done = subprocess.run(install, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]

    checks = (
        ["ruff", "check", "--no-cache", "."],
        ["ruff", "format", "--no-cache", "--check", "."],
        ["mypy"],
        ["pytest", "-q", "-p", "no:cacheprovider"],
    )
    for name in PACKAGES:
        for check in checks:
            done = subprocess.run(
                [str(python), "-m", *check],
                cwd=packages / name,
                capture_output=True,
                text=True,
                timeout=300,
            )
            assert done.returncode == 0, f"{name}: {check[0]}\n{done.stdout[-3000:]}"
        assert " passed" in done.stdout

    # each suite tells its functions from wrong ones: a constant, an empty value, a raise
    found = []
    for name in PACKAGES:
        spec = load_spec(project / "specs" / SPECS[name], project, registry().vocabulary())
        found += survivors(
            str(python), packages / name, spec.name.replace("-", "_"), spec.functions, {}
        )
    assert found == []

    # running the package's tests left nothing that `check` calls extra or stale
    done = apipack(project, "check")
    assert done.returncode == 0, done.stdout + done.stderr
