"""Malformed specs: every problem is found, located and worded as promised, and nothing else.

Each file in ``tests/corpus/bad/`` starts with comment lines

    # expect: LINE:COL: FIELD: SUBSTRING

one per problem it must report (FIELD is empty for problems with the YAML itself). Loading the
file must report exactly those ``path:LINE:COL: FIELD:`` prefixes, each message containing its
SUBSTRING. A line ``# needs: interfaces rest, cli`` skips a file until rules for those interfaces
are installed. The bundled ``specs/`` must load without a problem.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers import tool, without_settings

from apipack_build.errors import SpecError
from apipack_build.load.registry import registry
from apipack_build.load.types import TypeRef, TypeSyntaxError, parse_type, value_problem
from apipack_build.spec import Package, Vocabulary, load_spec

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "corpus" / "bad"
BAD = sorted(CORPUS.glob("*.yml"))
GOOD = sorted((ROOT / "specs").glob("*.yml"))
EXPECT = re.compile(r"# expect: (\d+):(\d+): (\S*): (.+)")
NEEDS = re.compile(r"# needs: interfaces (.+)")


@dataclass(frozen=True)
class Expected:
    line: int
    column: int
    field: str
    substring: str

    def prefix(self, shown: str) -> str:
        where = f"{shown}:{self.line}:{self.column}: "
        return f"{where}{self.field}: " if self.field else where


def expectations(path: Path) -> list[Expected]:
    found = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if match := EXPECT.fullmatch(line):
            found.append(Expected(int(match[1]), int(match[2]), match[3], match[4]))
        elif line.startswith("# expect"):
            raise AssertionError(f"{path.name}: malformed expectation {line!r}")
    return found


def vocabulary() -> Vocabulary:
    return registry().vocabulary()


def skip_unless_interfaces(path: Path) -> None:
    """Skip *path* while the rules it needs (``# needs: interfaces ...``) are not installed."""
    match = NEEDS.search(path.read_text(encoding="utf-8"))
    needed = {name.strip() for name in match[1].split(",")} if match else set()
    missing = sorted(needed - vocabulary().interfaces)
    if missing:
        pytest.skip(f"no installed rule provides the interface(s) {', '.join(missing)}")


def unmatched(
    lines: list[str], expected: list[Expected], shown: str
) -> tuple[list[str], list[str]]:
    """(expectations no line meets, lines no expectation accounts for)."""
    left = list(lines)
    missing = []
    for item in expected:
        hit = next(
            (
                line
                for line in left
                if line.startswith(item.prefix(shown))
                and item.substring in line[len(item.prefix(shown)) :]
            ),
            None,
        )
        if hit is None:
            missing.append(f"{item.prefix(shown)}...{item.substring}...")
        else:
            left.remove(hit)
    return missing, left


# ---- the corpus ----


def test_corpus_is_there_and_every_file_says_what_it_expects() -> None:
    assert len(BAD) >= 40
    for path in BAD:
        assert expectations(path), f"{path.name} has no '# expect:' line"


@pytest.mark.parametrize("path", BAD, ids=lambda p: p.stem)
def test_bad_spec_reports_exactly_the_expected_problems(path: Path) -> None:
    skip_unless_interfaces(path)
    with pytest.raises(SpecError) as caught:
        load_spec(path, CORPUS, vocabulary())
    reported = [str(problem) for problem in caught.value.problems]
    missing, extra = unmatched(reported, expectations(path), path.name)
    assert (missing, extra) == ([], []), "\n".join(reported)


def test_every_problem_of_a_file_is_in_the_error_message() -> None:
    path = CORPUS / "many_problems.yml"
    with pytest.raises(SpecError) as caught:
        load_spec(path, CORPUS, vocabulary())
    assert str(caught.value).splitlines() == [str(p) for p in caught.value.problems]
    assert len(caught.value.problems) == len(expectations(path)) == 8


@pytest.mark.parametrize("path", BAD, ids=lambda p: p.stem)
def test_cli_validate_exits_2_listing_the_same_problems(path: Path, tmp_path: Path) -> None:
    skip_unless_interfaces(path)
    env = without_settings()
    env["HOME"] = str(tmp_path)  # no user settings
    result = subprocess.run(
        [tool("apipack"), "validate", path.name],
        cwd=CORPUS,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert "Traceback" not in result.stdout + result.stderr
    assert result.returncode == 2, result.stderr
    missing, extra = unmatched(result.stderr.splitlines(), expectations(path), path.name)
    assert (missing, extra) == ([], []), result.stderr


# ---- the bundled specs ----


def load_good(name: str) -> Package:
    path = ROOT / "specs" / name
    skip_unless_interfaces(path)
    return load_spec(path, ROOT, vocabulary())


@pytest.mark.parametrize("path", GOOD, ids=lambda p: p.stem)
def test_bundled_spec_loads(path: Path) -> None:
    package = load_good(path.name)
    assert package.functions
    assert package.languages == ("python",)
    assert package.interfaces == ("cli", "graphql", "grpc", "rest", "websocket")
    for function in package.functions:
        assert function.examples
        assert bool(function.code) != bool(function.implementation)


def test_single_function_file_keeps_what_was_not_written() -> None:
    (function,) = load_good("image_resize.yml").functions
    image_data, width, height = function.parameters
    assert (image_data.required, image_data.has_default) == (True, False)
    assert (width.required, width.default, height.default) == (False, 800, 600)
    assert [e.has_output for e in function.examples] == [False, False]
    assert function.implementation == {
        "python": "specs/impl/image_resize.py",
        "typescript": "specs/impl/image_resize.ts",
    }
    assert function.dependencies == {"*": ("Pillow>=10",)}


def test_input_type_alone_gives_one_data_parameter() -> None:
    (function,) = load_good("pdf_to_text.yml").functions
    assert [(p.name, p.type, p.required) for p in function.parameters] == [("data", "bytes", True)]
    (example,) = function.examples
    assert example.input["data"].startswith(b"%PDF-")
    assert example.output == "Hello from apipack\n\nSecond page"


def test_multi_function_file_mixes_inline_code_and_files() -> None:
    package = load_good("document_tools.yml")
    assert package.name == "document-tools"
    by_name = {f.name: f for f in package.functions}
    assert sorted(name for name, f in by_name.items() if f.code) == [
        "extract_emails",
        "longest_word",
        "word_count",
    ]
    assert by_name["text_stats"].implementation == {
        "python": "specs/impl/text_stats.py",
        "typescript": "specs/impl/text_stats.ts",
    }
    limit = by_name["word_frequencies"].parameters[1]
    assert (limit.type, limit.required, limit.has_default, limit.default) == (
        "optional[int]",
        False,
        True,
        None,
    )
    empty = by_name["longest_word"].examples[1]
    assert (empty.has_output, empty.output) == (True, None)


# ---- the type language ----


@pytest.mark.parametrize(
    ("text", "normal"),
    [
        ("string", "string"),
        ("list[ int ]", "list[int]"),
        ("dict[string,optional[list[bytes]]]", "dict[string, optional[list[bytes]]]"),
        ("optional[dict[ string , float ]]", "optional[dict[string, float]]"),
    ],
)
def test_parse_type_normalizes(text: str, normal: str) -> None:
    assert str(parse_type(text)) == normal
    assert parse_type(normal) == parse_type(text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("strng", "unknown type 'strng' (did you mean 'string'?)"),
        ("Int", "unknown type 'Int' (did you mean 'int'?)"),
        ("list", "'list' needs a type argument, e.g. list[string]"),
        ("list[int", "expected ',' or ']' in type 'list[int'"),
        ("list[", "type 'list[' ends too early"),
        ("list[int]]", "unexpected ']' in type 'list[int]]'"),
        ("list[int, int]", "'list' takes 1 type argument(s), got 2"),
        ("dict[int, string]", "dict keys must be string: dict[string, T]"),
        ("optional[optional[int]]", "optional[optional[T]] is the same as optional[T]"),
        ("list[in$t]", "unexpected character '$' in type 'list[in$t]'"),
        ("  ", "type is empty"),
    ],
)
def test_parse_type_rejects(text: str, message: str) -> None:
    with pytest.raises(TypeSyntaxError) as caught:
        parse_type(text)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("type_text", "value", "problem"),
    [
        ("int", 3, None),
        ("int", True, "expected int, got bool True"),
        ("int", 3.0, "expected int, got float 3.0"),
        ("float", 3, None),
        ("float", False, "expected float, got bool False"),
        ("bool", 0, "expected bool, got int 0"),
        ("string", None, "expected string, got null"),
        ("bytes", b"\x89PNG", None),
        ("bytes", "text is bytes too", None),
        ("optional[int]", None, None),
        ("optional[int]", "1", "expected int, got string '1'"),
        ("list[int]", [1, "a"], "item 1: expected int, got string 'a'"),
        ("dict[string, int]", {"a": 1, "b": 1.5}, "key 'b': expected int, got float 1.5"),
        ("dict[string, int]", [], "expected dict[string, int], got list []"),
        ("list[list[string]]", [["a"], [1]], "item 1: item 0: expected string, got int 1"),
    ],
)
def test_value_problem(type_text: str, value: object, problem: str | None) -> None:
    assert value_problem(parse_type(type_text), value) == problem


def test_type_ref_item_is_the_last_argument() -> None:
    assert parse_type("dict[string, bool]").item == TypeRef("bool")
    assert parse_type("optional[bytes]").item == TypeRef("bytes")
