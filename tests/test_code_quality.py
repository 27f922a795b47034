"""The project's own code passes its linters and type checker (settings in pyproject.toml)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    "command",
    [
        ["ruff", "check", "."],
        ["ruff", "format", "--check", "."],
        ["mypy"],
    ],
    ids=["ruff-check", "ruff-format", "mypy"],
)
def test_tool_passes(command: list[str]) -> None:
    done = subprocess.run(
        [sys.executable, "-m", *command], cwd=REPO, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]


#: what lets a suite pass on a machine that lacks a step of the install: a test that skips when
#: an import fails, or finds one of our commands through PATH (see tests/helpers.py: tool())
SOFT_SPOTS = {
    "pytest.importorskip(": "imports a test dependency or skips: put it in the test extras",
    "except ImportError": "hides a missing dependency",
    "except ModuleNotFoundError": "hides a missing dependency",
    'which("apipack")': "finds apipack on PATH: use helpers.tool()",
    'which("actionlint")': "finds a tool on PATH: use helpers.tool() or build it",
}


def test_tests_fail_loudly_on_a_missing_install_step() -> None:
    found = [
        f"{path.relative_to(REPO)}:{number}: {reason}"
        for path in sorted((REPO / "tests").glob("*.py"))
        if path.name != "test_code_quality.py"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        for pattern, reason in SOFT_SPOTS.items()
        if pattern in line
    ]
    assert found == []
