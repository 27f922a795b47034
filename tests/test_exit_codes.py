"""The four stable exit codes of docs/ci.md, one case each, through the real ``apipack``."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from helpers import Project


def _ok(p: Project) -> list[str]:
    return ["generate"]


def _stale(p: Project) -> list[str]:
    p.apipack("generate")
    p.edit("specs/tools.yml", '"Second"', '"Second, revised"')
    return ["check"]


def _bad_input(p: Project) -> list[str]:
    p.edit("specs/tools.yml", "output_type: string", "output_type: strng")
    return ["generate"]


def _offline_miss(p: Project) -> list[str]:
    p.write("templates/prompts/text.j2", "Describe {{ function.name }}.\n")
    spec = p.root / "specs/tools.yml"
    spec.write_text(spec.read_text().replace('    code: "x"\n', "", 1))  # alpha: the LLM's job
    return ["generate", "--offline"]


CASES: dict[str, tuple[Callable[[Project], list[str]], int, str]] = {
    "ok": (_ok, 0, "apipack: 5 tasks: 5 run"),
    "stale output": (_stale, 1, "generated/text/tools/docs/beta.txt: stale"),
    "bad input": (
        _bad_input,
        2,
        "specs/tools.yml:7:18: functions[0].output_type: unknown type 'strng'",
    ),
    "offline and no response": (
        _offline_miss,
        3,
        "no cached or locked response for:\n  tools.alpha",
    ),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_exit_code(project: Project, case: str) -> None:
    prepare, code, message = CASES[case]
    done = project.apipack(*prepare(project), expect=code)  # and never a traceback
    assert message in done.stdout + done.stderr
