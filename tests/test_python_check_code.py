"""Every way a Python body can fail to implement its spec function, and the message that says so:
on the hand-written path (a spec's ``code:``, exit 2 before anything is written) and on the LLM
path (the message goes back to the model in the repair request). Both go through
``check_code`` of the Python rules; each rejection message is asserted here once per path."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from fake_llm import FakeLLM, Fault
from helpers import run_apipack

SIGNATURE = "def shout(text: str, times: int = 2) -> str:"
GOOD = f"{SIGNATURE}\n    return (text.upper() + ' ') * times\n"

#: (case, code, what the message says)
BAD = [
    ("syntax", "def shout(text: str, times: int = 2) -> str\n    return text\n",
     "it is not valid Python: expected ':' (line 1)"),
    ("missing", "def yell(text: str, times: int = 2) -> str:\n    return text\n",
     "it defines no top-level function 'shout'"),
    ("async", "async def shout(text: str, times: int = 2) -> str:\n    return text\n",
     "'shout' must be a plain function, not async"),
    ("variadic", "def shout(text: str, *rest: int) -> str:\n    return text\n",
     "it takes positional-only, keyword-only or variadic parameters"),
    ("names", "def shout(words: str, times: int = 2) -> str:\n    return words\n",
     "its parameters are (words, times), not (text, times)"),
    ("annotation", "def shout(text: bytes, times: int = 2) -> str:\n    return str(text)\n",
     "parameter 'text' is annotated `bytes`, not `str`"),
    ("default", "def shout(text: str, times: int = 3) -> str:\n    return text * times\n",
     "its default values differ from the spec's"),
    ("returns", "def shout(text: str, times: int = 2) -> int:\n    return times\n",
     "it returns `int`, not `str`"),
    ("trivial", f'{SIGNATURE}\n    """Shout."""\n    ...\n',
     "the body of 'shout' does nothing (only a docstring, pass or ...)"),
]  # fmt: skip
SIGNATURE_HINT = f"; the signature must be exactly `{SIGNATURE}`"
WITH_HINT = {"variadic", "names", "annotation", "default", "returns"}


def spec(code: str | None = None, package: str = "shouting") -> str:
    text = textwrap.dedent(f"""\
        project: {{name: {package}, description: Loud words}}
        language: python
        interfaces: [cli]
        functions:
          - name: shout
            description: The text in capitals, repeated
            output_type: string
            parameters:
              - {{name: text, type: string}}
              - {{name: times, type: int, default: 2}}
        """)
    if code is not None:
        text += "    code: " + json.dumps(code) + "\n"
    return text


def expected(case: str, message: str) -> str:
    return message + (SIGNATURE_HINT if case in WITH_HINT else "")


def test_the_good_body_passes(tmp_path: Path) -> None:
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "good.yml").write_text(spec(GOOD), encoding="utf-8")
    done = run_apipack(tmp_path, "generate", "specs/good.yml")
    assert done.returncode == 0, done.stderr


def test_hand_written_bodies_are_refused_with_every_message(tmp_path: Path) -> None:
    (tmp_path / "specs").mkdir()
    for case, code, _ in BAD:
        (tmp_path / "specs" / f"{case}.yml").write_text(
            spec(code, f"loud-{case}"), encoding="utf-8"
        )
    done = run_apipack(tmp_path, "generate")
    assert done.returncode == 2, done.stdout + done.stderr
    lines = done.stderr.splitlines()
    for case, _, message in BAD:
        line = f"specs/{case}.yml: function 'shout' (python): its inline code: "
        assert line + expected(case, message) in lines, done.stderr
    assert not (tmp_path / "generated").exists()


@pytest.mark.parametrize(("case", "code", "message"), BAD, ids=[case for case, _, _ in BAD])
def test_a_reply_is_sent_back_with_its_message(
    tmp_path: Path, fake: FakeLLM, case: str, code: str, message: str
) -> None:
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "shout.yml").write_text(spec(), encoding="utf-8")
    fake.faults.append(Fault(text=f"```python\n{code}```"))
    done = run_apipack(tmp_path, "generate", env={"APIPACK_LLM_BASE_URL": fake.url})
    assert done.returncode == 0, done.stderr
    assert fake.chat_count == 2  # the bad reply, then the repair
    repair = fake.chats[-1]["body"]["messages"][-1]["content"]
    assert expected(case, message) in repair
    written = tmp_path / "generated/python/shouting/src/shouting/functions/shout.py"
    assert code not in written.read_text(encoding="utf-8")
