"""``kill -9`` at evenly spaced points of a build: the next ``generate`` must finish the job, so
that ``check`` is clean and the output tree is byte for byte a clean build's. Whatever a killed
build left — temporary files, half a task state, a manifest not yet written — is apipack's to
repair, never the user's."""

from __future__ import annotations

import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from helpers import Project, tool, tree

KILL_POINTS = 20
FUNCTIONS = {f"function_{index:03d}": f"Function number {index}" for index in range(60)}


def start(project: Project, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [tool("apipack"), "generate", *args],
        cwd=project.root,
        env=project.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def test_kill_9_anywhere_then_generate_equals_a_clean_build(
    make_project: Callable[..., Project], tmp_path: Path
) -> None:
    clean = make_project("clean", functions=FUNCTIONS)
    started = time.monotonic()
    clean.apipack("generate")
    duration = time.monotonic() - started
    expected = tree(clean.root / "generated")
    pristine = make_project("pristine", functions=FUNCTIONS)
    for point in range(KILL_POINTS):
        project = make_project(f"killed-{point}", bare=True)
        shutil.rmtree(project.root)
        shutil.copytree(pristine.root, project.root)
        jobs = ("-n", "2") if point % 2 else ()
        build = start(project, *jobs)
        time.sleep(duration * point / KILL_POINTS)
        build.send_signal(signal.SIGKILL)
        build.wait()
        project.apipack("generate", *jobs)
        checked = project.apipack("check", expect=None)
        assert checked.returncode == 0, f"kill point {point}:\n{checked.stdout}{checked.stderr}"
        assert tree(project.root / "generated") == expected, f"kill point {point}"
        shutil.rmtree(project.root)
