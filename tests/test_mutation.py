"""The every-type (kitchen) package's generated suite tells each function from wrong ones: a
constant, an empty value and a raise are each caught, through every interface's tests. (The
bundled examples get the same check in ``test_bundled_examples_build.py``.)"""

from __future__ import annotations

import shutil
from pathlib import Path

from kitchen import Built
from mutation import survivors

from apipack_build.load.registry import registry
from apipack_build.spec import load_spec


def test_the_kitchen_suite_kills_every_mutant(kitchen: Built, tmp_path: Path) -> None:
    # a copy, first on the path: other tests use the installed package at the same time
    package = tmp_path / "kitchen-sink"
    shutil.copytree(kitchen.package, package, ignore=shutil.ignore_patterns("__pycache__"))
    spec = load_spec(
        kitchen.project / "specs/kitchen.yml", kitchen.project, registry().vocabulary()
    )
    env = {"PYTHONPATH": str(package / "src")}
    found = survivors(kitchen.bin("python"), package, "kitchen_sink", spec.functions, env)
    killed = 3 * len(spec.functions) - len(found)
    assert found == [], f"kill rate {killed}/{3 * len(spec.functions)}"
