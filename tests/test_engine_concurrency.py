"""Builds at the same time: one project's builds take turns on ``.apipack/build.lock``; builds of
different projects do not wait for each other. Either way the tree and the state stay sound."""

from __future__ import annotations

import json
import select
import sqlite3
import subprocess
from collections.abc import Callable
from pathlib import Path

from filelock import FileLock
from helpers import Project, tree

MANY = {f"fn_{i:02d}": f"Function number {i}" for i in range(20)}


def _finish(job: subprocess.Popen[str]) -> str:
    out, err = job.communicate(timeout=120)
    assert job.returncode == 0, out + err
    assert "Traceback" not in out + err
    return err


def _tasks_run(summary: Path) -> int:
    return int(json.loads(summary.read_text(encoding="utf-8"))["tasks_run"])


def _sqlite_is_sound(path: Path) -> None:
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_two_builds_of_one_project_take_turns(
    make_project: Callable[..., Project], tmp_path: Path
) -> None:
    project = make_project(functions=MANY)
    summaries = [tmp_path / "a.json", tmp_path / "b.json"]

    jobs = [project.popen("apipack", "generate", "--summary-json", s) for s in summaries]
    for job in jobs:
        _finish(job)

    # one build did everything; the other waited for it and found nothing to do
    runs = sorted(_tasks_run(s) for s in summaries)
    assert runs == [0, len(MANY) + 2]
    assert len(tree(project.out)) == len(MANY) + 1
    _sqlite_is_sound(project.state / "doit.sqlite3")
    assert project.generate()["tasks_run"] == 0
    project.apipack("check")


def test_a_build_waits_for_the_lock_and_then_runs(project: Project) -> None:
    project.state.mkdir()
    lock = FileLock(str(project.state / "build.lock"))
    with lock:
        job = project.popen("apipack", "generate")
        assert job.stderr is not None
        ready, _, _ = select.select([job.stderr], [], [], 60)
        assert ready, "the build neither waited nor said so"
        assert "waiting for another build of this project" in job.stderr.readline()
        assert job.poll() is None
        assert not (project.root / "generated").exists()
    _finish(job)
    assert len(tree(project.out)) == 4


def test_builds_of_two_projects_run_side_by_side(make_project: Callable[..., Project]) -> None:
    """While one project's build waits (its lock held here), another project builds from start
    to finish: the two overlap for certain, not by luck of timing."""
    first = make_project("first", functions=MANY)
    second = make_project("second", functions=MANY)
    first.state.mkdir()
    with FileLock(str(first.state / "build.lock")):
        waiting = first.popen("apipack", "generate", "-n", "2")
        assert waiting.stderr is not None
        ready, _, _ = select.select([waiting.stderr], [], [], 60)
        assert ready and "waiting for another build" in waiting.stderr.readline()
        error = _finish(second.popen("apipack", "generate", "-n", "2"))
        assert "waiting" not in error
        assert waiting.poll() is None  # still waiting: the second ran inside the first
    _finish(waiting)

    assert tree(first.out) == tree(second.out)
    assert len(tree(first.out)) == len(MANY) + 1
    for project in (first, second):
        _sqlite_is_sound(project.state / "doit.sqlite3")
        assert project.generate()["tasks_run"] == 0
