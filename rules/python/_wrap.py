"""Line splitting for generated Python, the way ruff's formatter (and black) split lines.

Templates render each statement whose length depends on the spec on one line and pass it
through ``py_wrap``. A line that fits in 88 columns stays as it is. Otherwise it is split at its
last bracket (its first, for ``def``): the bracket's content goes on its own line, indented by
four; if that is still too long, or the bracket is a list/dict/tuple display, it is split at
its commas, one item a line with a trailing comma, each item split again the same way. A long
``from x import a, b`` gets parentheses and one name a line. This is the subset of the
formatter's rules that generated statements need, so that ``ruff format`` leaves them unchanged.
"""

from __future__ import annotations

import io
import itertools
import tokenize
from dataclasses import dataclass

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
    text = line.strip()
    lines = _split(text, indent, is_def=text.startswith(("def ", "async def ")))
    return "\n".join(lines) + ("\n" if line.endswith("\n") else "")


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
        return [pad + text]
    bracket = brackets[0] if is_def else brackets[-1]
    head, tail = text[: bracket.start + 1], text[bracket.end:]
    body = text[bracket.start + 1: bracket.end].strip()
    inner = " " * (indent + 4)
    magic = body.endswith(",")
    if bracket.commas and (bracket.is_display or magic
                           or len(inner) + len(body) > LINE_LENGTH):
        items = _items(text, bracket)
        lines = [line for item in items for line in _split(item + ",", indent + 4)]
    elif len(inner) + len(body) <= LINE_LENGTH or not body:
        lines = [inner + body] if body else []
    else:
        lines = _split(body, indent + 4)
    return [pad + head, *lines, pad + tail]


def _items(text: str, bracket: _Bracket) -> list[str]:
    bounds = [bracket.start, *bracket.commas, bracket.end]
    items = [text[a + 1: b].strip() for a, b in itertools.pairwise(bounds)]
    return [item for item in items if item]


def _top_level_brackets(text: str) -> list[_Bracket]:
    """The brackets of *text* at depth zero, with the commas directly inside each."""
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
                or previous.string in (")", "]"))
            stack.append((offset, [], token.string == "{" or not after_name))
        elif token.string in (")", "]", "}") and stack:
            start, commas, is_display = stack.pop()
            if not stack:
                found.append(_Bracket(start, offset, tuple(commas), is_display))
        elif token.string == "," and stack:
            stack[-1][1].append(offset)
        previous = token
    return found


_KEYWORDS = frozenset({"and", "assert", "in", "is", "not", "or", "return", "yield", "else",
                       "if", "lambda", "await", "for", "from", "import", "with", "as"})


def _line_offsets(text: str) -> list[int]:
    offsets, total = [], 0
    for line in text.splitlines(keepends=True) or [""]:
        offsets.append(total)
        total += len(line)
    return offsets
