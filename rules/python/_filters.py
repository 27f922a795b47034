"""Jinja filters that turn any spec string into a valid Python, TOML, Markdown or Dockerfile piece.

Each filter returns text that is safe where its name says (a literal, a docstring body, a comment,
a table cell…) whatever the input holds: quotes, triple quotes, backslashes, newlines, NUL, other
control characters, bidirectional overrides, Jinja braces, comment terminators. Characters that
would be invisible or would change how an editor shows the line are escaped, so that what a reader
sees is what the string holds. The set of escaped characters is fixed here (not taken from the
running Python's Unicode tables) so that output does not depend on the engine's Python version.
"""

from __future__ import annotations

import json
import math
import re
import shlex
import textwrap
from collections.abc import Callable, Iterable
from typing import Any

from ._wrap import py_format, py_import_from, py_wrap

# C0 and C1 controls, DEL, line/paragraph separators, bidi embeddings/overrides/isolates, BOM,
# and lone surrogates: never written raw into generated text.
_UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff\ud800-\udfff]"
)


def _code_point_escape(char: str) -> str:
    code = ord(char)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def _escape_unsafe(text: str, escape: Callable[[str], str] = _code_point_escape) -> str:
    return _UNSAFE.sub(lambda match: escape(match.group()), text)


def _lines(text: str) -> list[str]:
    """*text* split at its line breaks (LF, CRLF or CR)."""
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


# ---- Python ----


def _quote_for(text: str) -> str:
    # ruff's formatter keeps double quotes unless single quotes need fewer escapes
    return "'" if text.count('"') > text.count("'") else '"'


def _short_escapes(quote: str) -> dict[str, str]:
    other = "'" if quote == '"' else '"'
    return {"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t", quote: "\\" + quote, other: other}


_PY_ESCAPED = re.compile(r"[\\\"'\n\r\t]")


def py_str(value: str) -> str:
    """A Python string literal equal to *value*, quoted as ruff's formatter quotes it."""
    if _PY_ESCAPED.search(value) is None and _UNSAFE.search(value) is None:
        return f'"{value}"'  # the usual text: nothing to escape (most of a template's strings)
    quote = _quote_for(value)
    escapes = _short_escapes(quote)
    escaped = _PY_ESCAPED.sub(lambda m: escapes[m.group()], value)
    return f"{quote}{_escape_unsafe(escaped)}{quote}"


def py_bytes(value: bytes) -> str:
    """A bytes literal: printable ASCII stays readable, everything else is ``\\xNN``."""
    text = value.decode("latin-1")
    quote = _quote_for(text)
    escapes = _short_escapes(quote)
    parts = [
        escapes.get(char) or (char if 0x20 <= ord(char) < 0x7F else f"\\x{ord(char):02x}")
        for char in text
    ]
    return f"b{quote}{''.join(parts)}{quote}"


def py_literal(value: Any) -> str:
    """A Python expression equal to *value* (JSON-like data, bytes allowed), on one line."""
    if value is None or isinstance(value, bool):
        return repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return 'float("nan")'
        if math.isinf(value):
            return 'float("inf")' if value > 0 else '-float("inf")'
        # the shortest repr that round-trips exactly, with the exponent as ruff's formatter
        # writes it (1e20, not 1e+20)
        return repr(value).replace("e+", "e")
    if isinstance(value, str):
        return py_str(value)
    if isinstance(value, (bytes, bytearray)):
        return py_bytes(bytes(value))
    if isinstance(value, (list, tuple)):
        return f"[{', '.join(py_literal(item) for item in value)}]"
    if isinstance(value, dict):
        items = ", ".join(f"{py_str(str(key))}: {py_literal(item)}" for key, item in value.items())
        return f"{{{items}}}"
    raise TypeError(f"py_literal: cannot write a {type(value).__name__} as a Python literal")


def py_docstring(value: str, indent: int = 0) -> str:
    """The text between the quotes of a ``\"\"\"docstring\"\"\"`` equal to *value*.

    Continuation lines are indented by *indent*. Backslashes are doubled, a trailing run of
    quotes and every third quote of other runs are escaped, so the text can neither end the
    docstring early nor start an escape sequence; invisible characters are escaped.
    """
    text = _docstring_body(value.split("\n"))
    trailing = len(text) - len(text.rstrip('"'))
    text = _break_quote_runs(text[: len(text) - trailing]) + '\\"' * trailing
    return _indent_continuation(text, indent)


def py_doc(value: str, indent: int = 0) -> str:
    """Like :func:`py_docstring`, laid out as ruff's formatter lays out docstrings.

    For docstrings of generated code, which ``ruff format`` must leave alone: surrounding blank
    space and trailing spaces are dropped, continuation lines are re-indented, a quote at either
    end is padded with a space, and a multi-line docstring ends with its closing quotes on their
    own line (the result ends with a newline and *indent* spaces).
    """
    first, _, rest = value.strip().partition("\n")
    lines = [first.strip(), *textwrap.dedent(rest).split("\n")] if rest else [first]
    text = _break_quote_runs(_docstring_body(line.rstrip() for line in lines))
    if text.startswith('"'):
        text = " " + text
    if text.endswith('"'):
        text += " "
    text = _indent_continuation(text, indent)
    return f"{text}\n{' ' * indent}" if "\n" in text else text


def _docstring_body(lines: Iterable[str]) -> str:
    return "\n".join(
        _escape_unsafe(line.replace("\\", "\\\\"), _docstring_escape) for line in lines
    )


def _break_quote_runs(text: str) -> str:
    return re.sub(
        r'"{3,}',
        lambda m: "".join('\\"' if i % 3 == 2 else '"' for i in range(len(m.group()))),
        text,
    )


def _indent_continuation(text: str, indent: int) -> str:
    pad = " " * indent
    return "\n".join(
        line if i == 0 or not line.strip() else pad + line
        for i, line in enumerate(text.split("\n"))
    )


def _docstring_escape(char: str) -> str:
    return {"\t": "\\t", "\r": "\\r"}.get(char) or _code_point_escape(char)


def py_comment(value: str, indent: int = 0) -> str:
    """*value* as ``#`` comment lines; the first line's indentation is the template's."""
    lines = [_escape_unsafe(line.replace("\t", " ")) for line in _lines(value)]
    return f"\n{' ' * indent}".join(f"# {line}".rstrip() for line in lines)


def comment_text(value: str) -> str:
    """*value* on one line, fit for the inside of any comment (newlines shown as ``\\n``)."""
    return _escape_unsafe(value.replace("\\", "\\\\").replace("\t", " "))


def one_line(value: str) -> str:
    """*value* with every run of whitespace (newlines included) collapsed to one space."""
    return " ".join(value.split())


def first_sentence(value: str) -> str:
    """The first line of *value*, whitespace collapsed: a summary."""
    for line in value.strip().splitlines():
        if line.strip():
            return one_line(line)
    return ""


def argparse_help(value: str) -> str:
    """*value* for an argparse ``help=``: argparse %-formats it, so ``%`` is doubled."""
    return value.replace("%", "%%")


def argparse_text(value: str) -> str:
    """*value* for an argparse ``description=``: %-formatted only when it holds ``%(prog)``."""
    return value.replace("%", "%%") if "%(prog)" in value else value


# ---- TOML ----


def toml_str(value: str) -> str:
    """A TOML basic string equal to *value*."""

    def escape(match: re.Match[str]) -> str:
        char = match.group()
        return {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(
            char, f"\\u{ord(char):04x}" if ord(char) <= 0xFFFF else f"\\U{ord(char):08x}"
        )

    return '"' + re.sub(f'[\\\\"]|{_UNSAFE.pattern}', escape, value) + '"'


# ---- Markdown and shell (README) ----

# Inline Markdown syntax, escaped anywhere; block syntax only matters where a paragraph starts.
_MD_INLINE = re.compile(r"([\\`*_\[\]<>|~])")
_MD_BLOCK_START = re.compile(r"^([#+=>-]|\d+[.)])")


def md_text(value: str) -> str:
    """*value* as Markdown that shows literally (no emphasis, links, HTML); paragraphs kept."""
    text = "\n".join(_escape_unsafe(line, lambda c: " ") for line in _lines(value))
    paragraphs = [one_line(p) for p in re.split(r"\n\s*\n", text)]
    return "\n\n".join(_md_paragraph(p) for p in paragraphs if p)


def _md_paragraph(text: str) -> str:
    text = _MD_INLINE.sub(r"\\\1", text).replace("&", "&amp;")
    return _MD_BLOCK_START.sub(lambda m: m.group()[:-1] + "\\" + m.group()[-1], text)


def md_inline(value: str) -> str:
    """*value* on one line, showing literally in the middle of a Markdown line."""
    text = one_line(_escape_unsafe(value, lambda c: " "))
    return _MD_INLINE.sub(r"\\\1", text).replace("&", "&amp;")


def md_cell(value: str) -> str:
    """*value* on one line, safe inside a Markdown table cell."""
    return md_inline(value) or " "


def md_code(value: str) -> str:
    """An inline code span holding *value* (one line), fenced by enough backticks."""
    text = one_line(_escape_unsafe(value, lambda c: " "))
    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    padded = f" {text} " if text.startswith("`") or text.endswith("`") else text
    return f"{fence}{padded}{fence}"


def md_code_block(value: str, info: str = "") -> str:
    """A fenced code block holding *value*, with a fence longer than any backtick run in it."""
    text = "\n".join(_escape_unsafe(line, lambda c: " ") for line in _lines(value))
    fence = "`" * max(3, max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    return f"{fence}{info}\n{text}\n{fence}"


def sh_quote(value: str) -> str:
    """*value* as one POSIX shell word."""
    return shlex.quote(value)


def compact_json(value: Any) -> str:
    """JSON on one line, keys in the order given (examples keep the spec's order)."""
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


def pretty_json(value: Any) -> str:
    """A JSON document for a file: indented, keys in the order given, LF-terminated: the text
    of ``json.dumps(value, ensure_ascii=False, indent=2)``, which encodes in pure Python once
    indented; here each scalar goes through the C encoder and only the layout is Python's."""
    parts: list[str] = []
    _pretty(value, "\n", parts)
    parts.append("\n")
    return "".join(parts)


_scalar = json.JSONEncoder(ensure_ascii=False).encode  # C-accelerated for a lone value
_KEY_WORDS = {True: "true", False: "false", None: "null"}


def _pretty(value: Any, newline: str, parts: list[str]) -> None:
    """Append *value*'s indented text to *parts*; *newline* is a line break and the current
    indentation."""
    if isinstance(value, dict) and value:
        inner = newline + "  "
        opening = "{"
        for key, item in value.items():
            parts += (opening, inner, _scalar(_json_key(key)), ": ")
            _pretty(item, inner, parts)
            opening = ","
        parts += (newline, "}")
    elif isinstance(value, (list, tuple)) and value:
        inner = newline + "  "
        opening = "["
        for item in value:
            parts += (opening, inner)
            _pretty(item, inner, parts)
            opening = ","
        parts += (newline, "]")
    else:
        parts.append(_scalar(value))


def _json_key(key: Any) -> str:
    """A dict key as ``json.dumps`` writes it: strings as they are, numbers, booleans and None
    as their JSON text (any other key raises there too)."""
    if isinstance(key, str):
        return key
    if key is True or key is False or key is None:
        return _KEY_WORDS[key]
    if isinstance(key, (int, float)):
        return _scalar(key)
    raise TypeError(f"keys must be str, int, float, bool or None, not {type(key).__name__}")


# ---- Dockerfile ----


def docker_str(value: str) -> str:
    """A double-quoted Dockerfile value (LABEL, ENV) showing *value* on one line.

    Dockerfiles expand ``$`` in LABEL values and end an instruction at a newline, so ``$``,
    ``\\`` and ``"`` are escaped and whitespace runs become one space.
    """
    text = one_line(_escape_unsafe(value, lambda c: " "))
    return '"' + re.sub(r'([\\"$])', r"\\\1", text) + '"'


# ---- YAML ----

# YAML does not allow U+FFFE and U+FFFF raw either (its printable set stops at U+FFFD)
_YAML_ESCAPED = re.compile(rf'[\\"\ufffe\uffff]|{_UNSAFE.pattern}')
_YAML_SHORT_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def yaml_str(value: str) -> str:
    """A double-quoted YAML scalar equal to *value*, on one line.

    Quoting every spec string keeps ``yes``, ``null``, ``1.0``, ``#`` or ``: `` from being read
    as something else; YAML reads ``\\xNN``, ``\\uNNNN`` and ``\\UNNNNNNNN`` escapes.
    """
    escaped = _YAML_ESCAPED.sub(
        lambda m: _YAML_SHORT_ESCAPES.get(m.group()) or _code_point_escape(m.group()), value
    )
    return f'"{escaped}"'


FILTERS: dict[str, Callable[..., str]] = {
    "py_format": py_format,
    "py_import_from": py_import_from,
    "py_wrap": py_wrap,
    "argparse_help": argparse_help,
    "argparse_text": argparse_text,
    "comment_text": comment_text,
    "compact_json": compact_json,
    "pretty_json": pretty_json,
    "docker_str": docker_str,
    "first_sentence": first_sentence,
    "md_cell": md_cell,
    "md_inline": md_inline,
    "md_code": md_code,
    "md_code_block": md_code_block,
    "md_text": md_text,
    "one_line": one_line,
    "py_bytes": py_bytes,
    "py_comment": py_comment,
    "py_doc": py_doc,
    "py_docstring": py_docstring,
    "py_literal": py_literal,
    "py_str": py_str,
    "sh_quote": sh_quote,
    "toml_str": toml_str,
    "yaml_str": yaml_str,
}
