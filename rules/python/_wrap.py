"""Line splitting for generated Python, the way ruff's formatter (and black) split lines.

Templates render each statement whose length depends on the spec on one line and pass it
through ``py_wrap``. A line that fits in 88 columns stays as it is. Otherwise it is split at its
last bracket (its first, for ``def``): the bracket's content goes on its own line, indented by
four; if that is still too long, or the bracket is a list/dict/tuple display, it is split at
its commas, one item a line with a trailing comma, each item split again the same way. A long
``from x import a, b`` gets parentheses and one name a line; so does a long string assigned to
a name, when that makes it fit; ``assert x == "long"`` is split before ``==``. This is the
subset of the formatter's rules that generated statements need, so that ``ruff format`` leaves
them unchanged.
"""

from __future__ import annotations

import ast
import functools
import io
import itertools
import re
import tokenize
import warnings
from dataclasses import dataclass
from typing import Any

LINE_LENGTH = 88
_OPENING = {"(": ")", "[": "]", "{": "}"}


@dataclass(frozen=True)
class _Bracket:
    start: int  # offset of the opening bracket
    end: int  # offset of the closing bracket
    commas: tuple[int, ...]  # offsets of the commas directly inside
    is_display: bool  # a list/dict/tuple display, not a call, subscript or signature


def py_wrap(line: str, indent: int = 0) -> str:
    """*line* (one statement) split to fit, every line indented by *indent*.

    Use it as ``{% filter py_wrap(4) %}...{% endfilter %}`` at column 0; a trailing newline is kept.
    """
    return _wrapped(line.strip(), indent) + ("\n" if line.endswith("\n") else "")


@functools.lru_cache(maxsize=4096)
def _wrapped(text: str, indent: int) -> str:
    """``py_wrap`` of a stripped statement, kept: the functions of a project share parameters,
    so their statements repeat (an option's ``add_argument``, a field's validator), and a long
    one costs a scan of its brackets."""
    return "\n".join(_split(text, indent, is_def=text.startswith(("def ", "async def "))))


def _split(text: str, indent: int, is_def: bool = False) -> list[str]:
    pad = " " * indent
    if len(pad) + len(text) <= LINE_LENGTH:
        return [pad + text]
    if text.startswith("from ") and " import " in text and "(" not in text:
        head, names = text.split(" import ", 1)
        items = [name.strip() for name in names.split(",")]
        return [f"{pad}{head} import (", *(f"{pad}    {name}," for name in items), f"{pad})"]
    brackets = _top_level_brackets(text)
    if not brackets:
        return _split_without_brackets(text, indent)
    bracket = brackets[0] if is_def else brackets[-1]
    head, tail = text[: bracket.start + 1], text[bracket.end :]
    body = text[bracket.start + 1 : bracket.end].strip()
    inner = " " * (indent + 4)
    magic = body.endswith(",")
    if bracket.commas and (bracket.is_display or magic or len(inner) + len(body) > LINE_LENGTH):
        items = _items(text, bracket)
        lines = [line for item in items for line in _split(item + ",", indent + 4)]
    elif len(inner) + len(body) <= LINE_LENGTH or not body:
        # a lone parameter of a def gets a trailing comma when split, a lone argument does not
        lines = [inner + body + ("," if is_def and not bracket.commas else "")] if body else []
    else:
        lines = _split(body, indent + 4)
    return [pad + head, *lines, pad + tail]


@functools.lru_cache(maxsize=256)
def py_format(source: str) -> str:
    """*source* with every over-long one-line statement split by :func:`py_wrap`.

    A safety net over a whole rendered module: statements already on several lines, lines with
    comments, and lone strings (docstrings) are left as they are. Remembered by its text: a
    process that builds again and again (``apipack watch``, the daemon) renders the same
    package-level modules on every edit, and tokenizing one costs more than rendering it.

    Most long lines of a rendered module are docstrings, which it leaves as they are; the module
    is tokenized only when a long line may be a statement it splits. A long line is not when,
    tokenized on its own, it is no whole statement (in its module it is then part of a longer
    one, or of a string) or one it leaves (a comment, a lone string), or when the module's
    syntax tree puts it in a statement of several rows (a docstring's middle). Either way the
    result is the one tokenizing the whole module gives, at a fraction of its cost.
    """
    lines = source.split("\n")
    maybe = {
        row
        for row, line in enumerate(lines, 1)
        if len(line) > LINE_LENGTH and not _is_comment(line) and _splits_alone(line)
    }
    if not maybe or maybe <= _multirow_statement_rows(source):
        return source  # nothing it would split: not worth tokenizing
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, SyntaxError):
        return source
    too_long: set[int] = set()
    statement: list[tokenize.TokenInfo] = []
    for token in tokens:
        if token.type in _LAYOUT:
            continue
        statement.append(token)
        if token.type != tokenize.NEWLINE:
            continue
        row = statement[0].start[0]
        if len(lines[row - 1]) > LINE_LENGTH and _is_split(statement):
            too_long.add(row)
        statement = []
    for row in too_long:
        line = lines[row - 1]
        lines[row - 1] = py_wrap(line, len(line) - len(line.lstrip(" ")))
    return "\n".join(lines)


def _is_split(statement: list[tokenize.TokenInfo]) -> bool:
    """Whether ``py_format`` splits the statement of these tokens (layout left out), if long:
    it is on one row, with no comment, and not a lone string."""
    row = statement[0].start[0]
    return (
        all(t.start[0] == row for t in statement)
        and not any(t.type == tokenize.COMMENT for t in statement)
        and [t.type for t in statement] != [tokenize.STRING, tokenize.NEWLINE]
    )


def _splits_alone(line: str) -> bool:
    """Whether *line*, tokenized on its own, is one whole statement that ``py_format`` splits.
    A line that starts a statement tokenizes alone as in its module, so False means it is not
    split there either."""
    try:
        tokens = tokenize.generate_tokens(io.StringIO(line + "\n").readline)
        statement = [t for t in tokens if t.type not in _LAYOUT]
    except (tokenize.TokenError, SyntaxError):
        return False  # no whole statement: in its module, part of a longer one or of a string
    return bool(statement) and statement[-1].type == tokenize.NEWLINE and _is_split(statement)


def _multirow_statement_rows(source: str) -> set[int]:
    """The rows of the simple statements (docstrings, mostly) that *source* spreads over several
    rows: none of them holds a statement of one row, so a long line there is never split."""
    try:
        with warnings.catch_warnings():  # an escape sequence Python warns about is not ours
            warnings.simplefilter("ignore")
            todo: list[Any] = ast.parse(source).body
    except (SyntaxError, ValueError):
        return set()  # tokenize decides
    rows: set[int] = set()
    while todo:
        node = todo.pop()
        blocks = [getattr(node, name, None) for name in _BLOCKS]
        if any(blocks):  # a compound statement (its header may fit one row): look inside
            todo.extend(child for block in blocks if block for child in block)
        elif node.end_lineno is not None and node.end_lineno > node.lineno:
            rows.update(range(node.lineno, node.end_lineno + 1))
    return rows


#: what holds a compound statement's statements (``handlers`` and ``cases`` hold clauses,
#: which hold statements in their ``body``)
_BLOCKS = ("body", "orelse", "finalbody", "handlers", "cases")


def _is_comment(line: str) -> bool:
    """A line that starts with ``#``: a comment, which is never split, or a line inside a
    string, where no statement starts."""
    return line.lstrip(" ").startswith("#")


_LAYOUT = frozenset(
    {tokenize.NL, tokenize.INDENT, tokenize.DEDENT, tokenize.ENCODING, tokenize.ENDMARKER}
)


def py_import_from(names: list[str] | list[dict[str, str]], module: str) -> str:
    """``from module import ...`` statements as ruff's isort writes them: plain names together,
    each ``name as alias`` on its own, statements ordered by their first name, long ones split.

    *names* are strings, or ``{"name", "local"}`` dicts where ``local`` is the alias (or name).
    """
    pairs = sorted((n, n) if isinstance(n, str) else (n["name"], n["local"]) for n in names)
    plain = [name for name, local in pairs if name == local]
    statements = [(name, f"{name} as {local}") for name, local in pairs if name != local]
    if plain:
        statements.append((plain[0], ", ".join(plain)))
    return "\n".join(py_wrap(f"from {module} import {text}") for _, text in sorted(statements))


def _split_without_brackets(text: str, indent: int) -> list[str]:
    """``NAME = "long"`` gets parentheses when that makes it fit; ``assert x == "long"`` is
    split before ``==``; anything else cannot be split."""
    pad, inner = " " * indent, " " * (indent + 4)
    target = re.match(r"([A-Za-z_][A-Za-z0-9_.]*(?:: [^=]+)?) = (.+)", text, re.DOTALL)
    if target and len(inner) + len(target.group(2)) <= LINE_LENGTH:
        return [f"{pad}{target.group(1)} = (", inner + target.group(2), f"{pad})"]
    comparison = re.match(r"assert (\S+) == (.+)", text, re.DOTALL)
    if comparison:
        left, right = comparison.groups()
        return [f"{pad}assert (", inner + left, f"{inner}== {right}", f"{pad})"]
    return [pad + text]


def _items(text: str, bracket: _Bracket) -> list[str]:
    bounds = [bracket.start, *bracket.commas, bracket.end]
    items = [text[a + 1 : b].strip() for a, b in itertools.pairwise(bounds)]
    return [item for item in items if item]


def _top_level_brackets(text: str) -> list[_Bracket]:
    """The brackets of *text* at depth zero, with the commas directly inside each."""
    scanned = _scanned_brackets(text)
    return scanned if scanned is not None else _tokenized_brackets(text)


#: what makes a scan differ from tokenize's reading: line breaks (``str.splitlines``'),
#: a backslash, and any character that is not ASCII, outside a string
_NOT_SCANNED = re.compile(r"[\n\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")
#: where the scan stops: a quote, a bracket, a comma, a comment, and a character that makes it
#: give up. No token of the code between two stops (a name, a number, an operator) holds one,
#: so that code is read token by token only where the token before a stop matters.
_STOP = re.compile(r"""["'()\[\]{},#\\]|[^\x00-\x7f]""")
#: a token of the code between two stops, tried in this order: ``...`` (one token, as tokenize
#: reads it, not ".5"), a number as far as tokenize reads one, a name, blanks, anything else
_TOKEN = re.compile(
    rf"(?P<ellipsis>\.\.\.)|(?P<number>{tokenize.Number})|(?P<word>\w+)|(?P<blanks>[ \t]+)|.",
    re.ASCII,
)


def _string_rest(mark: str) -> re.Pattern[str]:
    """The rest of a string after its opening *mark*: a backslash escapes the next character,
    and the first closing mark ends it (in a triple-quoted string, a quote or two do not)."""
    quote = mark[0]
    lone = f"|{quote}(?!{quote * 2})" if len(mark) == 3 else ""
    return re.compile(rf"(?:[^\\{quote}]|\\.{lone})*{mark}")


_STRING_REST = {mark: _string_rest(mark) for mark in ('"', "'", '"' * 3, "'" * 3)}


def _scanned_brackets(text: str) -> list[_Bracket] | None:
    """``_tokenized_brackets`` of a one-line statement read by a plain scan (tokenizing costs
    about half of rendering a module with long lines); None where the scan might read it
    otherwise (several lines, a backslash or a character that is not ASCII outside a string,
    an f-string, an unterminated string or bracket): then tokenize reads it."""
    if _NOT_SCANNED.search(text):
        return None
    stack: list[tuple[int, list[int], bool]] = []
    found: list[_Bracket] = []
    previous = ""  # the last token, if a name or a closing bracket: then "(" is a call
    level = 0  # brackets opened less those closed, as tokenize counts (it refuses all but 0)
    index = 0
    while (stop := _STOP.search(text, index)) is not None:
        at, char = stop.start(), stop.group()
        code = text[index:at]
        if char in "'\"":
            if code[-1:].isalnum() or code.endswith("_"):  # a prefix, or a name before it
                last = _last_token(code)
                if last is not None and "f" in last.lower():
                    return None  # an f-string (or a name before a string: not code to split)
            index = _string_end(text, at)
            if index < 0:
                return None
            previous = ""
            continue
        index = at + 1
        if char == "#":  # a comment, to the end of the line
            break
        if char == "\\" or not char.isascii():
            return None
        if char in _OPENING:
            level += 1
            if code:
                last = _last_token(code, previous)
                previous = "" if last is None or last in _KEYWORDS else last
            stack.append((at, [], char == "{" or not previous))
        elif char in ")]}":
            level -= 1
            if stack:
                start, commas, is_display = stack.pop()
                if not stack:
                    found.append(_Bracket(start, at, tuple(commas), is_display))
        elif char == "," and stack:
            stack[-1][1].append(at)
        previous = char if char in ")]" else ""
    return None if level else found


def _last_token(code: str, previous: str = "") -> str | None:
    """The last token of *code*, blanks aside, if it is a name; None if it is another token;
    *previous* if there is none."""
    last: str | None = previous
    for token in _TOKEN.finditer(code):
        kind = token.lastgroup
        if kind != "blanks":
            last = token.group() if kind == "word" else None
    return last


def _string_end(text: str, quote: int) -> int:
    """The offset after the string whose quote is at *quote*; -1 if it does not end."""
    mark = text[quote] * 3 if text.startswith(text[quote] * 3, quote) else text[quote]
    rest = _STRING_REST[mark].match(text, quote + len(mark))
    return rest.end() if rest is not None else -1


def _tokenized_brackets(text: str) -> list[_Bracket]:
    """``_top_level_brackets`` as tokenize reads *text*."""
    offsets = _line_offsets(text)
    stack: list[tuple[int, list[int], bool]] = []
    found: list[_Bracket] = []
    previous: tokenize.TokenInfo | None = None
    tokens = tokenize.generate_tokens(io.StringIO(text).readline)
    for token in tokens:
        if token.type != tokenize.OP:
            if token.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.ENDMARKER):
                previous = token
            continue
        offset = offsets[token.start[0] - 1] + token.start[1]
        if token.string in _OPENING:
            after_name = previous is not None and (
                (previous.type == tokenize.NAME and previous.string not in _KEYWORDS)
                or previous.string in (")", "]")
            )
            stack.append((offset, [], token.string == "{" or not after_name))
        elif token.string in (")", "]", "}") and stack:
            start, commas, is_display = stack.pop()
            if not stack:
                found.append(_Bracket(start, offset, tuple(commas), is_display))
        elif token.string == "," and stack:
            stack[-1][1].append(offset)
        previous = token
    return found


_KEYWORDS = frozenset(
    {
        "and",
        "assert",
        "in",
        "is",
        "not",
        "or",
        "return",
        "yield",
        "else",
        "if",
        "lambda",
        "await",
        "for",
        "from",
        "import",
        "with",
        "as",
    }
)


def _line_offsets(text: str) -> list[int]:
    offsets, total = [], 0
    for line in text.splitlines(keepends=True) or [""]:
        offsets.append(total)
        total += len(line)
    return offsets
