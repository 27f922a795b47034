"""Spec strings as TypeScript: string literals and comment text that nothing can break out of.

A literal is quoted as prettier quotes it: double quotes, unless the text holds more double
than single quotes. Backticks and ``${`` are plain characters in it; backslashes, the quote
used, line breaks (U+2028/U+2029 included) and control characters are escaped, and so is every
non-ASCII character, which keeps generated files ASCII whatever the spec holds. In a comment,
``*/`` is broken up and line breaks become separate comment lines.
"""

from __future__ import annotations

import json
from typing import Any

_ESCAPES = {
    "\\": "\\\\",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\b": "\\b",
    "\f": "\\f",
}


#: prettier's line width, which generated code keeps to
WIDTH = 80


def ts_string(text: str) -> str:
    """*text* as a TypeScript string literal, in the quotes prettier prefers for it."""
    quote = "'" if text.count('"') > text.count("'") else '"'
    out = []
    for char in text:
        if char == quote:
            out.append("\\" + char)
        elif char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif " " <= char <= "~":
            out.append(char)
        elif ord(char) > 0xFFFF:
            high, low = divmod(ord(char) - 0x10000, 0x400)
            out.append(f"\\u{0xD800 + high:04x}\\u{0xDC00 + low:04x}")
        else:
            out.append(f"\\u{ord(char):04x}")
    return quote + "".join(out) + quote


def ts_const(value: str, declaration: str, indent: int = 0) -> str:
    """``<declaration> = <value>;`` as prettier lays out one that holds a literal: on one line
    if it fits, else *value* on the next line, indented."""
    line = f"{declaration} = {value};"
    if indent + len(line) <= WIDTH:
        return line
    return f"{declaration} =\n{' ' * (indent + 2)}{value};"


def ts_comment(text: str) -> str:
    """*text* safe inside a ``//`` line comment or a ``/* */`` block: one line, no ``*/``."""
    return " ".join(text.split()).replace("*/", "*\u2215")


def ts_doc(text: str, indent: int = 0) -> str:
    """*text* as a ``/** … */`` block comment, each line prefixed with `` * ``."""
    pad = " " * indent
    lines = [line.rstrip().replace("*/", "*\u2215") for line in text.strip().splitlines()]
    body = "".join(f"{pad} *{' ' + line if line else ''}\n" for line in lines)
    return f"/**\n{body}{pad} */"


def json_text(value: Any, indent: int | None = 2) -> str:
    """Canonical JSON (sorted keys, ASCII, LF) for package.json, the lock and the document."""
    return json.dumps(value, indent=indent, sort_keys=True, ensure_ascii=True) + "\n"


FILTERS = {
    "ts_string": ts_string,
    "ts_const": ts_const,
    "ts_comment": ts_comment,
    "ts_doc": ts_doc,
    "ts_json": json_text,
}
