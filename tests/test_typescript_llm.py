"""The LLM path for TypeScript: the prompt, the in-process check of every reply (tree-sitter, no
Node), the run of a reply against its spec's examples by Node, the repair loop, and the lock,
against the fake model server of ``fake_llm.py``; and the same check on hand-written code, whose
problems read ``path:line:col``."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml
from fake_llm import FakeLLM, Fault
from helpers import run_apipack
from test_llm_verify import build as build_spec

SPEC = textwrap.dedent("""\
    project: {name: words, description: Word tools}
    language: typescript
    interfaces: [cli]
    functions:
      - name: word_count
        description: How many words the text has
        output_type: int
        parameters:
          - {name: text, type: string}
          - {name: minimum, type: int, default: 1, description: shortest word counted}
        examples:
          - {name: three, input: {text: "a bb ccc"}, output: 3}
          - {name: longer, input: {text: "a bb ccc", minimum: 2}, output: 2}
          - {name: empty, input: {text: ""}, output: 0}
    """)
SIGNATURE = "export function word_count(text: string, minimum: bigint = 1n): bigint"
RIGHT = f"""\
const SPACE = /\\s+/;

{SIGNATURE} {{
  const words = text.split(SPACE).filter((word) => BigInt(word.length) >= minimum);
  return BigInt(words.filter(Boolean).length);
}}
"""
#: the signature of a small model's first try: number instead of bigint
WRONG_SIGNATURE = RIGHT.replace("minimum: bigint = 1n", "minimum: number = 1")
#: the right signature, the wrong behaviour
WRONG = f'{SIGNATURE} {{\n  return BigInt(text.split("zqxj").length - 1);\n}}\n'
#: what a real small model did in Python: a helper it never wrote, a module-level call
UNDEFINED = f"{SIGNATURE} {{\n  return word_count_str(text);\n}}\n"
PRINTS = f'console.log("loaded");\n\n{RIGHT}'
MODULE = "generated/typescript/words/src/functions/word_count.ts"


def fenced(code: str, tag: str = "typescript") -> Fault:
    return Fault(text=f"Here you go:\n\n```{tag}\n{code}```\n")


def build(folder: Path, fake: FakeLLM, spec: str = SPEC, **env: str) -> tuple[Any, dict[str, Any]]:
    """``apipack generate`` of *spec* (default: this module's) against *fake*; the summary."""
    return build_spec(folder, fake, spec, **env)


def test_the_prompt_shows_the_exact_signature_and_the_examples(
    tmp_path: Path, fake: FakeLLM
) -> None:
    fake.faults.append(fenced(RIGHT))
    done, _ = build(tmp_path / "p", fake)
    assert done.returncode == 0, done.stderr
    prompt = fake.chats[0]["body"]["messages"][0]["content"]
    assert "```typescript\n/**\n * How many words the text has\n" in prompt
    assert " * @param minimum (int) shortest word counted\n" in prompt
    assert ' * word_count("a bb ccc", 2n) // => 2n\n' in prompt
    assert f"{SIGNATURE} {{\n" in prompt
    assert "`int` is `bigint`" in prompt


def test_a_valid_reply_is_verified_written_and_locked_as_typescript(
    tmp_path: Path, fake: FakeLLM
) -> None:
    fake.faults.append(fenced(RIGHT))
    project = tmp_path / "p"
    done, summary = build(project, fake)
    assert done.returncode == 0, done.stderr
    assert (summary["llm_calls"], summary["llm_verified"], summary["llm_repairs"]) == (1, 1, 0)
    assert (project / MODULE).read_text(encoding="utf-8") == RIGHT
    (entry,) = yaml.safe_load((project / "apipack.lock").read_text())["entries"]
    assert (entry["language"], entry["code"]) == ("typescript", RIGHT)

    done, summary = build(project, fake)  # the cache answers; nothing is asked or run again
    assert done.returncode == 0 and fake.chat_count == 1 and summary["tasks_run"] == 0


def test_a_wrong_signature_is_repaired(tmp_path: Path, fake: FakeLLM) -> None:
    fake.faults.extend([fenced(WRONG_SIGNATURE), fenced(RIGHT, tag="ts")])
    project = tmp_path / "p"
    done, summary = build(project, fake)
    assert done.returncode == 0, done.stderr
    assert (summary["llm_calls"], summary["llm_repairs"]) == (2, 1)
    repair = fake.chats[-1]["body"]["messages"][-1]["content"]
    assert (
        "3:8: parameter 'minimum' is typed `number`, not `bigint`; the signature must be exactly "
        f"`{SIGNATURE}`" in repair
    )
    assert "complete corrected typescript function `word_count`" in repair
    assert (project / MODULE).read_text(encoding="utf-8") == RIGHT


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (WRONG, "it fails the spec's examples: example 'three': word_count(\"a bb ccc\", 1n) "
         "returned 0n, not 3n"),
        (UNDEFINED, "2:10: `word_count_str` is neither defined nor imported"),
        (PRINTS, "1:1: `console.log(\"loaded\");` runs code at import"),
    ],
    ids=["behaviour", "undefined-name", "module-level-call"],
)  # fmt: skip
def test_a_reply_that_stays_invalid_is_saved_and_never_cached(
    tmp_path: Path, fake: FakeLLM, reply: str, message: str
) -> None:
    fake.faults.extend([fenced(reply)] * 2)
    project = tmp_path / "p"
    done, _ = build(project, fake, APIPACK_LLM_REPAIR_ATTEMPTS="1")
    assert done.returncode == 1, done.stdout + done.stderr  # as for Python
    shown = done.stdout + done.stderr
    assert "words.word_count (typescript)" in shown and message in shown
    assert fake.chat_count == 2
    saved = project / ".apipack/failed/words.word_count.typescript.txt"
    assert saved.read_text(encoding="utf-8").count(reply) == 2
    assert not (project / "apipack.lock").exists()
    assert not (project / MODULE).exists()


def test_hand_written_code_is_checked_with_its_path_line_and_column(tmp_path: Path) -> None:
    (tmp_path / "specs" / "impl").mkdir(parents=True)
    spec = SPEC + "    implementation: {typescript: impl/word_count.ts}\n"
    (tmp_path / "specs" / "words.yml").write_text(spec, encoding="utf-8")
    (tmp_path / "specs" / "impl" / "word_count.ts").write_text(UNDEFINED, encoding="utf-8")
    done = run_apipack(tmp_path, "generate")
    assert done.returncode == 2, done.stdout + done.stderr
    assert (
        "specs/words.yml: function 'word_count' (typescript): specs/impl/word_count.ts:2:10: "
        "`word_count_str` is neither defined nor imported" in done.stderr.splitlines()
    ), done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "generated").exists()

    (tmp_path / "specs" / "impl" / "word_count.ts").write_text(RIGHT, encoding="utf-8")
    done = run_apipack(tmp_path, "generate")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / MODULE).read_text(encoding="utf-8") == RIGHT


def test_a_javascript_reply_with_types_is_sent_back(tmp_path: Path, fake: FakeLLM) -> None:
    """``language: javascript`` asks for plain JavaScript; TypeScript syntax is refused."""
    plain = RIGHT.replace("text: string, minimum: bigint = 1n): bigint", "text, minimum = 1n)")
    fake.faults.extend([fenced(RIGHT, tag="javascript"), fenced(plain, tag="js")])
    project = tmp_path / "p"
    done, summary = build(project, fake, SPEC.replace("typescript", "javascript"))
    assert done.returncode == 0, done.stderr
    prompt = fake.chats[0]["body"]["messages"][0]["content"]
    assert (
        "```javascript\n" in prompt and "export function word_count(text, minimum = 1n) {" in prompt
    )
    repair = fake.chats[-1]["body"]["messages"][-1]["content"]
    assert "3:32: `: string` is TypeScript, not JavaScript" in repair
    assert (summary["llm_verified"], summary["llm_repairs"]) == (1, 1)
    written = project / "generated/javascript/words/src/functions/word_count.js"
    assert written.read_text(encoding="utf-8") == plain
