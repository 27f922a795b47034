"""The layout printer of the TypeScript rules (``_layout.py``) writes what prettier writes: each
expected text here is prettier 3.10.1's own output (``prettier --check`` passes on it), so the
printer is checked without Node; the generated packages are checked by prettier itself in
``test_typescript_target.py`` and ``test_bundled_examples_typescript.py``."""

from __future__ import annotations

from apipack_rules.typescript._filters import ts_const, ts_string
from apipack_rules.typescript._layout import obj, prop, render, statement


def test_a_call_that_fits_stays_on_one_line_with_keys_quoted_only_where_needed() -> None:
    text = statement(["call", "assertClose", ["result", ["obj", [["a", "1n"], ["-b", "2n"]]]]])
    assert text == 'assertClose(result, { a: 1n, "-b": 2n });'


def test_a_last_object_argument_opens_on_the_calls_line() -> None:
    result = "(JSON.parse(done.stdout) as { result: unknown }).result"
    text = statement(["call", "assertCheck", [result, ["obj", [["min_length", "1"]]]]])
    assert text == f"assertCheck({result}, {{\n    min_length: 1,\n  }});"


def test_arguments_that_do_not_fit_go_one_a_line_with_a_trailing_comma() -> None:
    given = ['["alpha", "beta", "gamma"]', "true", '"separator"', "null", "12345678n"]
    text = statement(["assign", "const result", ["call", "await describe", given]])
    assert text == (
        "const result = await describe(\n"
        '    ["alpha", "beta", "gamma"],\n    true,\n    "separator",\n    null,\n'
        "    12345678n,\n  );"
    )


def test_numbers_fill_their_lines() -> None:
    numbers = [str(n) for n in range(100, 140)]
    text = statement(["call", "f", [["call", "new Uint8Array", [["arr", numbers]]]]])
    assert text == (
        "f(\n    new Uint8Array([\n"
        "      100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111, 112, 113, 114,\n"
        "      115, 116, 117, 118, 119, 120, 121, 122, 123, 124, 125, 126, 127, 128, 129,\n"
        "      130, 131, 132, 133, 134, 135, 136, 137, 138, 139,\n    ]),\n  );"
    )


def test_a_long_string_goes_below_its_key_or_declaration() -> None:
    long = ts_string("A description that is long enough not to fit on the line of its key")
    table = obj([prop("description", long), prop("required", "true")], broken=True)
    assert render(table) == f"{{\n  description:\n    {long},\n  required: true,\n}}"
    text = ts_string("a description long enough that the whole declaration cannot fit")
    assert ts_const(text, "const DESCRIPTION") == f"const DESCRIPTION =\n  {text};"
    assert ts_const('"short"', "export const NAME") == 'export const NAME = "short";'
