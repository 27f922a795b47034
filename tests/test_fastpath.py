"""The no-op fast path: a build whose fingerprint still holds answers without planning — and
every kind of change, anywhere a build reads, takes the full path and gives the right output."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import FUNCTIONS, Project, standard_project, tree, write_plugin


@pytest.fixture
def fresh(built: Project) -> Project:
    """A built project whose next no-op build took the fast path (the copy's first build
    records the fingerprint: paths and inodes moved with the copy)."""
    built.generate()
    summary = built.generate()
    assert summary["fast_path"] is True and summary["tasks_run"] == 0
    assert summary["tasks_up_to_date"] == summary["tasks_total"] > 0
    return built


def full_build_agrees(project: Project) -> dict[str, bytes]:
    """The next build takes the full path; the tree equals a from-scratch build's."""
    summary = project.generate()
    assert summary["fast_path"] is False
    result = tree(project.root / "generated")
    scratch = project.root.parent / f"{project.root.name}-scratch"
    shutil.rmtree(scratch, ignore_errors=True)
    shutil.copytree(project.root, scratch, ignore=shutil.ignore_patterns(".apipack", "generated"))
    clone = Project(scratch, Path(project.env["PYTHONPATH"].split(os.pathsep)[0]), project.home)
    clone.generate()
    assert tree(scratch / "generated") == result
    return result


def test_touch_keeps_the_fast_path(fresh: Project) -> None:
    for path in (fresh.root / "specs").iterdir():
        os.utime(path)
    assert fresh.generate()["fast_path"] is True


CHANGES: dict[str, Callable[[Project], None]] = {
    "spec edited": lambda p: p.edit("specs/tools.yml", "First", "Primary"),
    "spec added": lambda p: p.write_spec({"extra": "x"}, "specs/more.yml", name="more"),
    "template edited": lambda p: p.edit("templates/text/fn.txt.j2", ": ", " - "),
    "template added to the user folder": lambda p: (
        (p.home / ".apipack" / "templates" / "text").mkdir(parents=True),
        (p.home / ".apipack" / "templates" / "text" / "summary.txt.j2").write_text("x\n"),
    ),
    "project setting changed": lambda p: p.write("apipack.yml", "deployment: {port: 9000}\n"),
    "output edited by hand": lambda p: (p.out / "index.txt").write_text("hand edit\n"),
    "output deleted": lambda p: (p.out / "index.txt").unlink(),
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_every_change_takes_the_full_path(fresh: Project, change: str) -> None:
    CHANGES[change](fresh)
    full_build_agrees(fresh)


def test_an_environment_override_takes_the_full_path(fresh: Project) -> None:
    summary_path = fresh.root.parent / "env-summary.json"
    fresh.apipack("generate", "--summary-json", summary_path, env={"APIPACK_OUTPUT": "other"})
    summary = json.loads(summary_path.read_text(encoding="utf-8"))
    assert summary["fast_path"] is False and summary["files_written"] > 0
    assert (fresh.root / "other").is_dir()


def test_rule_code_edited_takes_the_full_path(tmp_path: Path) -> None:
    site = write_plugin(tmp_path / "own-site")
    project = standard_project(tmp_path / "p", site, tmp_path / "home", FUNCTIONS)
    project.generate()
    assert project.generate()["fast_path"] is True
    plugin = site / "txtrules" / "__init__.py"
    plugin.write_text(
        plugin.read_text().replace(
            '"description": req.function.description',
            '"description": req.function.description + "!"',
        )
    )
    summary = project.generate()
    assert summary["fast_path"] is False and summary["files_written"] > 0
