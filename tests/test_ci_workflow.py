"""The GitHub Actions workflow we ship (``examples/ci/apipack.yml``): actionlint accepts it,
docs/ci.md shows it verbatim, and its ``run:`` steps do what docs/ci.md says on a project whose
LLM cache was not restored.

actionlint comes from the ``actionlint`` fixture in conftest.py.
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

import yaml
from fake_llm import FakeLLM
from helpers import Project, tool

REPO = Path(__file__).resolve().parents[1]
WORKFLOW = REPO / "examples" / "ci" / "apipack.yml"


def lint(actionlint: str, path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [actionlint, "-no-color", "-shellcheck", tool("shellcheck"), str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_actionlint_accepts_the_workflow_and_catches_a_broken_copy(
    actionlint: str, tmp_path: Path
) -> None:
    done = lint(actionlint, WORKFLOW)
    assert done.returncode == 0, done.stdout + done.stderr
    broken = tmp_path / "broken.yml"
    broken.write_text(WORKFLOW.read_text().replace("hashFiles(", "hashFile("))
    done = lint(actionlint, broken)
    assert done.returncode == 1 and 'undefined function "hashFile"' in done.stdout


def test_docs_show_the_workflow_verbatim() -> None:
    docs = (REPO / "docs" / "ci.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```yaml\n(.*?)```", docs, flags=re.DOTALL)
    assert WORKFLOW.read_text(encoding="utf-8") in blocks


def test_workflow_cache_key_and_steps() -> None:
    """What docs/ci.md promises: the cache of LLM replies keyed on the lock, an offline build."""
    job = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))["jobs"]["build"]
    steps = {step.get("uses", "").split("@")[0] or step["name"]: step for step in job["steps"]}
    cache = steps["actions/cache"]["with"]
    assert cache["path"] == ".apipack/cache"
    assert "hashFiles('apipack.lock')" in cache["key"]
    assert cache["key"].startswith(cache["restore-keys"].strip())
    assert job["env"]["APIPACK_OFFLINE"] == "1"
    runs = [step["run"] for step in job["steps"] if "run" in step]
    assert any(r.startswith("apipack generate --offline --summary-json") for r in runs)
    assert "apipack check" in runs


def test_workflow_steps_build_from_the_lock_and_publish_the_summary(
    project: Project, tmp_path: Path, fake: FakeLLM
) -> None:
    """A developer builds with the model and commits the lock; CI starts with no cache (the
    restore missed) and runs the workflow's own ``run:`` steps after the install."""
    project.write("templates/prompts/text.j2", "Describe {{ function.name }}.\n")
    spec = project.root / "specs/tools.yml"
    spec.write_text(
        spec.read_text() + "  - {name: delta, description: By the model, output_type: string}\n"
    )
    project.apipack("generate", env={"APIPACK_LLM_BASE_URL": fake.url})
    assert fake.chat_count == 1
    shutil.rmtree(project.state)  # a fresh checkout: the lock, no cache, no build state

    workflow = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    job = workflow["jobs"]["build"]
    step_summary = tmp_path / "step-summary.md"
    env = {
        **project.env,
        **job["env"],
        "APIPACK_LLM_BASE_URL": fake.url,  # reachable, yet offline: never asked
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]]),
        "GITHUB_STEP_SUMMARY": str(step_summary),
    }
    for step in job["steps"]:
        if "run" not in step or "pip install" in step["run"]:
            continue
        shell = [sys.executable, "-c"] if step.get("shell") == "python" else ["bash", "-ec"]
        done = subprocess.run(
            [*shell, step["run"]],
            cwd=project.root,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, f"{step['name']}:\n{done.stdout}{done.stderr}"
        assert "Traceback" not in done.stdout + done.stderr

    assert fake.chat_count == 1
    summary: dict[str, Any] = json.loads((project.root / "apipack-summary.json").read_text())
    assert summary["llm_calls"] == 0 and summary["llm_lock_hits"] == 1
    assert (project.state / "cache").is_dir()  # what actions/cache saves for the next run
    table = step_summary.read_text(encoding="utf-8")
    assert table.startswith("### apipack build\n")
    assert "| llm lock hits | 1 |" in table and "| llm calls | 0 |" in table
    assert f"| files written | {summary['files_written']} |" in table
