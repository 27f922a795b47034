"""An LLM's body is accepted only when it passes its spec's examples: run in a separate process,
in an empty folder, with no inherited environment and a time limit, before it is cached or
locked. Against the fake model server of ``fake_llm.py``, answering with bodies given here."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

from fake_llm import FakeLLM, Fault
from helpers import run_apipack

SPEC = textwrap.dedent("""\
    project: {name: words, description: Word tools}
    language: python
    interfaces: [cli]
    functions:
      - name: word_count
        description: How many words the text has
        output_type: int
        parameters: [{name: text, type: string}]
        examples:
          - {name: three, input: {text: "a b c"}, output: 3}
          - {name: empty, input: {text: ""}, output: 0}
    """)
SIGNATURE = "def word_count(text: str) -> int:"
RIGHT = f"{SIGNATURE}\n    return len(text.split())\n"
WRONG = f'{SIGNATURE}\n    return text.count("zqxj")\n'  # the right signature, wrong behaviour
MODULE = "generated/python/words/src/words/functions/word_count.py"


def fenced(code: str) -> Fault:
    return Fault(text=f"```python\n{code}```")


def build(folder: Path, fake: FakeLLM, spec: str = SPEC, **env: str) -> tuple[Any, dict[str, Any]]:
    if not folder.exists():
        (folder / "specs").mkdir(parents=True)
        (folder / "specs" / "words.yml").write_text(spec, encoding="utf-8")
    summary = folder.parent / f"{folder.name}-summary.json"
    summary.unlink(missing_ok=True)
    environ = {"APIPACK_LLM_BASE_URL": fake.url, "APIPACK_LLM_RETRIES": "0", **env}
    done = run_apipack(folder, "generate", "--summary-json", str(summary), env=environ)
    return done, json.loads(summary.read_text()) if summary.exists() else {}


def every_file_holds(folder: Path, text: str) -> list[str]:
    return [
        p.relative_to(folder).as_posix()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and text.encode() in p.read_bytes()
    ]


def test_a_wrong_body_goes_back_with_the_failing_example(tmp_path: Path, fake: FakeLLM) -> None:
    fake.faults.extend([fenced(WRONG), fenced(RIGHT)])
    project = tmp_path / "p"
    done, summary = build(project, fake)

    assert done.returncode == 0, done.stderr
    assert fake.chat_count == summary["llm_calls"] == 2
    assert (summary["llm_verified"], summary["llm_repairs"]) == (1, 1)
    assert "1 verified, 1 repairs" in done.stdout
    repair = fake.chats[-1]["body"]["messages"][-1]["content"]
    assert "example 'three': word_count(text='a b c') returned 0, not 3" in repair
    assert "example 'empty'" not in repair  # that one held
    assert RIGHT in (project / MODULE).read_text(encoding="utf-8")
    # the wrong body is nowhere: not in the output, the cache, the lock or the state
    assert every_file_holds(project, "zqxj") == []
    assert every_file_holds(project, "return len(text.split())") != []


def test_a_body_that_never_passes_is_saved_and_never_cached(tmp_path: Path, fake: FakeLLM) -> None:
    fake.faults.extend([fenced(WRONG)] * 3)
    project = tmp_path / "p"
    done, _ = build(project, fake, APIPACK_LLM_REPAIR_ATTEMPTS="2")

    assert done.returncode == 1
    shown = done.stdout + done.stderr
    assert "word_count" in shown and "fails the spec's examples" in shown
    assert fake.chat_count == 3
    assert (project / ".apipack/failed/words.word_count.python.txt").is_file()
    assert every_file_holds(project / ".apipack/cache", "zqxj") == []
    assert not (project / "apipack.lock").exists()

    fake.faults.append(fenced(RIGHT))  # the next build asks again, and takes a right answer
    done, summary = build(project, fake)
    assert done.returncode == 0, done.stderr
    assert summary["llm_calls"] == 1 and summary["llm_verified"] == 1


def test_bodies_run_without_the_callers_environment_folder_or_time(
    tmp_path: Path, fake: FakeLLM
) -> None:
    """A body sees no variable of apipack's environment and writes only into its own empty
    folder; one that runs too long is refused and sent back."""
    nosy = (
        "import os\n\n\n"
        f"{SIGNATURE}\n"
        '    open("leak.txt", "w").write(os.environ.get("PROBE_SECRET", ""))\n'
        "    return len(text.split()) + len(os.environ.get('PROBE_SECRET', ''))\n"
    )
    slow = f"import time\n\n\n{SIGNATURE}\n    time.sleep(60)\n    return 0\n"
    fake.faults.extend([fenced(slow), fenced(nosy)])
    project = tmp_path / "p"
    done, summary = build(project, fake, PROBE_SECRET="s3cret", APIPACK_LLM_VERIFY_TIMEOUT="2")

    assert done.returncode == 0, done.stderr
    assert fake.chat_count == 2 and summary["llm_verified"] == 1
    first_repair = fake.chats[1]["body"]["messages"][-1]["content"]
    assert "running its examples took longer than 2 s" in first_repair
    assert not any(tmp_path.rglob("leak.txt"))
    assert "os.environ" in (project / MODULE).read_text(encoding="utf-8")


def test_verification_can_be_turned_off(tmp_path: Path, fake: FakeLLM) -> None:
    fake.faults.append(fenced(WRONG))
    done, summary = build(tmp_path / "p", fake, APIPACK_LLM_VERIFY="false")
    assert done.returncode == 0, done.stderr
    assert fake.chat_count == 1 and summary["llm_verified"] == 0
    assert WRONG in (tmp_path / "p" / MODULE).read_text(encoding="utf-8")


def test_a_body_needing_a_library_not_installed_here_is_accepted_unverified(
    tmp_path: Path, fake: FakeLLM
) -> None:
    needs = f"import no_such_library_here\n\n\n{SIGNATURE}\n    return 0\n"
    fake.faults.append(fenced(needs))
    done, summary = build(tmp_path / "p", fake)
    assert done.returncode == 0, done.stderr
    assert fake.chat_count == 1 and summary["llm_verified"] == 0


def test_a_body_importing_an_installed_library_is_verified_with_it(
    tmp_path: Path, fake: FakeLLM
) -> None:
    """A body that imports only the standard library runs without ``site``; one that imports an
    installed library, by name or by ``__import__``, runs with it and is verified, and a wrong
    one among them is still refused."""
    listed = "'[' + ','.join(text.split()) + ']'"
    by_name = f"import yaml\n\n\n{SIGNATURE}\n    return len(yaml.safe_load({listed}))\n"
    dynamic = f"{SIGNATURE}\n    return len(__import__('yaml').safe_load(repr(text.split())))\n"
    wrong = f"import yaml\n\n\n{SIGNATURE}\n    return len(yaml.__name__)\n"
    for number, body in enumerate([by_name, dynamic]):
        fake.faults.extend([fenced(wrong), fenced(body)])
        done, summary = build(tmp_path / f"p{number}", fake)
        assert done.returncode == 0, done.stderr
        assert summary["llm_verified"] == 1, done.stderr  # not "unverified": yaml was found
        repair = fake.chats[-1]["body"]["messages"][-1]["content"]
        assert "it fails the spec's examples" in repair
        assert body in (tmp_path / f"p{number}" / MODULE).read_text(encoding="utf-8")


def test_an_example_check_is_verified_too(tmp_path: Path, fake: FakeLLM) -> None:
    spec = textwrap.dedent("""\
        project: {name: words, description: Word tools}
        language: python
        interfaces: [cli]
        functions:
          - name: shout
            description: The text in capitals
            output_type: string
            parameters: [{name: text, type: string}]
            examples:
              - {name: greeting, input: {text: hi there}, check: {starts_with: HI}}
        """)
    signature = "def shout(text: str) -> str:"
    fake.faults.extend(
        [
            fenced(f"{signature}\n    return text\n"),
            fenced(f"{signature}\n    return text.upper()\n"),
        ]
    )
    done, summary = build(tmp_path / "p", fake, spec)
    assert done.returncode == 0, done.stderr
    assert fake.chat_count == 2 and summary["llm_verified"] == 1
    repair = fake.chats[-1]["body"]["messages"][-1]["content"]
    assert "returned 'hi there', for which `result.startswith(\"HI\")` does not hold" in repair
