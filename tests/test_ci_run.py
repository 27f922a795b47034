"""`.ci/run` tests what a new user gets: it refuses to start while another apipack could answer
the tests (``.ci/no-shadow``), then runs README's test command verbatim."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
NO_SHADOW = REPO / ".ci" / "no-shadow"


def no_shadow(path: str, pythonpath: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = path
    if pythonpath is not None:
        env["PYTHONPATH"] = pythonpath
    return subprocess.run(
        ["bash", str(NO_SHADOW)], env=env, capture_output=True, text=True, timeout=60
    )


def clean_path() -> str:
    """This PATH without the test venv and without any folder holding an apipack."""
    ours = str(Path(sys.executable).parent)
    dirs = os.environ.get("PATH", "").split(os.pathsep)
    return os.pathsep.join(d for d in dirs if d and d != ours and not Path(d, "apipack").exists())


def test_an_apipack_on_path_or_importable_stops_ci_naming_it(tmp_path: Path) -> None:
    assert no_shadow(clean_path()).returncode == 0

    stray = tmp_path / "bin" / "apipack"
    stray.parent.mkdir()
    stray.write_text("#!/bin/sh\n", encoding="utf-8")
    stray.chmod(0o755)
    done = no_shadow(os.pathsep.join([str(stray.parent), clean_path()]))
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        f"ci: {stray} is on PATH, outside this checkout's .venv: remove it "
        "(a fresh machine has none)"
    ]

    site = tmp_path / "site"
    (site / "apipack_build").mkdir(parents=True)
    (site / "apipack_build" / "__init__.py").write_text("", encoding="utf-8")
    done = no_shadow(clean_path(), pythonpath=str(site))
    assert done.returncode == 1
    assert f"imports apipack_build at {site / 'apipack_build' / '__init__.py'}" in done.stderr


def test_ci_checks_for_shadows_first_and_ends_with_readme_test_command() -> None:
    run = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    commands = [
        line for line in run.splitlines() if line.strip() and not line.lstrip().startswith("#")
    ]
    assert commands[:3] == ["set -euo pipefail", 'cd "$(dirname "$0")/.."', ".ci/no-shadow"]
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    found = re.search(r"\*\*Run the tests\*\*.*?```bash\n(.*?)\n```", readme, flags=re.DOTALL)
    assert found is not None
    venv, _, rest = found.group(1).partition(" && ")
    assert venv == "python3 -m venv .venv" and commands[-1] == rest
