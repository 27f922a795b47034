"""Every way a TypeScript or JavaScript body can fail to implement its spec function, and the
``line:col`` message that says so, from the in-process check (``check_code``, tree-sitter; no
Node). The build and the LLM path around it are tested in ``test_typescript_llm.py``."""

from __future__ import annotations

import pytest
from apipack_rules.typescript._implementation import check_code, check_javascript, signature

from apipack_build.rules import Function, Parameter

FUNCTION = Function(
    name="shout",
    description="The text in capitals, repeated",
    output_type="string",
    parameters=(
        Parameter(name="text", type="string", required=True, has_default=False),
        Parameter(name="times", type="int", required=False, has_default=True, default=2),
    ),
    examples=(),
    dependencies={},
    code={},
    implementation={},
)
SIGNATURE = "export function shout(text: string, times: bigint = 2n): string"
BODY = " {\n  return text.toUpperCase().repeat(Number(times));\n}\n"
GOOD = SIGNATURE + BODY

#: (case, code, the message)
BAD = [
    ("syntax", SIGNATURE + " {\n  return text\n", "2:14: not valid TypeScript: missing `}`"),
    ("missing", "export function yell(text: string): string" + BODY,
     "1:1: it exports no function 'shout'"),
    ("not-exported", SIGNATURE.removeprefix("export ") + BODY, "1:1: 'shout' is not exported"),
    ("arrow", "export const shout = (text: string, times: bigint): string => text;\n",
     "1:14: 'shout' must be a function declaration"),
    ("async", "export async " + SIGNATURE.removeprefix("export ") + BODY,
     "1:8: 'shout' must be a plain function, not async"),
    ("optional", "export function shout(text: string, times?: bigint): string" + BODY,
     "1:8: parameter `times?: bigint` is optional, variadic or destructured"),
    ("names", "export function shout(words: string, times: bigint): string" + BODY,
     "1:8: its parameters are (words, times), not (text, times)"),
    ("type", "export function shout(text: string, times: number): string" + BODY,
     "1:8: parameter 'times' is typed `number`, not `bigint`"),
    ("returns", "export function shout(text: string, times: bigint): String" + BODY,
     "1:8: it returns `String`, not `string`"),
    ("empty", SIGNATURE + " {\n  // TODO\n}\n", "1:65: the body of 'shout' does nothing"),
    ("undefined", SIGNATURE + " {\n  return loud(text);\n}\n",
     "2:10: `loud` is neither defined nor imported"),
    ("undefined-type", SIGNATURE + " {\n  const t: Loud = text;\n  return t;\n}\n",
     "2:12: type `Loud` is neither defined nor imported"),
    ("module-call", "console.log(1);\n" + GOOD, "1:1: `console.log(1);` runs code at import"),
    ("impure-constant", "const START = Date.now();\n" + GOOD,
     "1:1: `Date.now()` calls `Date.now` at import"),
    ("enum", "enum Mode { Loud }\n" + GOOD, "1:1: an enum is not erasable TypeScript"),
    ("parameter-property", "class K {\n  constructor(readonly x: string) {}\n}\n" + GOOD,
     "2:15: a parameter property is not erasable TypeScript"),
    ("default-export", GOOD + "export default shout;\n", "4:1: a default export"),
]  # fmt: skip


def test_the_prompt_signature_is_the_one_checked() -> None:
    assert signature(FUNCTION) == SIGNATURE
    assert signature(FUNCTION, typed=False) == "export function shout(text, times = 2n)"


@pytest.mark.parametrize(
    "code",
    [
        GOOD,
        # whitespace in types, its own default, helpers, classes, pure constants, imports
        "import { ValidationError } from '../types.js';\n"
        "const LOUD = new Set<string>(['!']);\n"
        "type Mode = 'loud' | 'quiet';\n"
        "class Box {\n  readonly value: string;\n  constructor(value: string) {\n"
        "    this.value = value;\n  }\n}\n"
        "function twice(value: string, mode: Mode): string {\n"
        "  if (LOUD.has(value)) throw new ValidationError(mode);\n  return value + value;\n}\n"
        "export function shout(text:string, times:bigint): string {\n"
        "  const { value } = new Box(twice(text, 'loud'));\n"
        "  return [...value].map((c) => c.toUpperCase()).join('').repeat(Number(times));\n}\n",
    ],
    ids=["plain", "helpers"],
)
def test_good_bodies_pass(code: str) -> None:
    assert check_code(code, FUNCTION) is None


@pytest.mark.parametrize(("case", "code", "message"), BAD, ids=[case for case, _, _ in BAD])
def test_each_problem_is_named_at_its_place(case: str, code: str, message: str) -> None:
    problem = check_code(code, FUNCTION)
    assert problem is not None and problem.startswith(message), problem


def test_javascript_has_no_types() -> None:
    plain = "export function shout(text, times = 2n)" + BODY
    assert check_javascript(plain, FUNCTION) is None
    problem = check_javascript(GOOD, FUNCTION)
    assert problem is not None and problem.startswith("1:27: `: string` is TypeScript")
