"""An example's ``check:`` as each language's tests read it: Python expressions that hold of a
right result and not of a wrong one, TypeScript object literals whose values nothing in the spec
can break out of, and both reading a check's text as bytes for a bytes result."""

from __future__ import annotations

import base64
from typing import Any

from apipack_rules.python._checks import check_expressions, check_values
from apipack_rules.typescript._checks import check_context

from apipack_build.rules import parse_type
from apipack_build.spec import Example

HOSTILE = 'a "quote", a \\ and ${x} `tick` */\nnew line'


def _holds(expressions: list[str], result: Any) -> bool:
    scope = {"base64": base64, "result": result}
    return all(eval(expression, scope) for expression in expressions)


def test_python_checks_hold_of_a_right_result_and_not_of_a_wrong_one() -> None:
    check = {"starts_with": HOSTILE, "max_length": 60}
    found = check_expressions(parse_type("string"), check, "result", as_json=False)
    assert _holds(found, HOSTILE + "!")
    assert not _holds(found, "!" + HOSTILE)
    assert not _holds(found, HOSTILE + "!" * 60)


def test_a_bytes_result_reads_check_text_as_latin1_bytes_and_json_as_base64() -> None:
    ref, check = parse_type("optional[bytes]"), {"starts_with": "\x89PNG", "min_length": 5}
    assert check_values(ref, check) == {"min_length": 5, "starts_with": b"\x89PNG"}
    found = check_expressions(ref, check, "result", as_json=True)
    assert _holds(found, base64.b64encode(b"\x89PNG!").decode())
    assert _holds(found, None)  # an optional result that is not there
    assert not _holds(found, base64.b64encode(b"PNG!!").decode())


def test_typescript_checks_are_literals_of_the_result_type() -> None:
    example = Example(name="e", input={}, has_output=False, check={"contains": HOSTILE})
    shown = check_context(parse_type("string"), example, as_json=True)
    # prettier's quote: single, since the text holds more double quotes than single ones
    assert shown["check"] == "{ contains: 'a \"quote\", a \\\\ and ${x} `tick` */\\nnew line' }"
    assert shown["decode"] is False
    example = Example(name="e", input={}, has_output=False, check={"ends_with": "é", "max": 3})
    shown = check_context(parse_type("bytes"), example, as_json=True)
    assert shown["check"] == "{ ends_with: new Uint8Array([233]), max: 3 }"
    assert shown["decode"] is True
    no_check = Example(name="e", input={}, has_output=True, output="x")
    assert check_context(parse_type("string"), no_check, as_json=False)["check"] == ""
