"""GraphQL SDL pieces written exactly as strawberry's ``print_schema`` writes them.

The generated ``schema.graphql`` is rendered from a template, and a generated test checks that
``print_schema(schema)`` gives the same text. These functions follow graphql-core 3.3's printer
(``print_description``, ``print_block_string``, ``print_string``, list values) for the few
constructs a generated schema uses. Any spec text goes through them, so it can never end a
string or a block early.
"""

from __future__ import annotations

import math
import re
from typing import Any

from apipack_build.rules import TypeRef

from ._types import contains
from ._values import json_value

#: the GraphQL name of each spec scalar (``int`` is not GraphQL's 32-bit ``Int``)
SCALARS = {
    "string": "String",
    "int": "Int64",
    "float": "Float",
    "bool": "Boolean",
    "bytes": "Base64",
}
_LINE_BREAK = re.compile(r"\r\n|[\n\r]")


def sdl_type(ref: TypeRef, nullable: bool = False) -> str:
    """``[Float!]!`` for ``list[float]``; a ``dict`` (and all inside it) is one ``JSON``."""
    if ref.kind == "optional":
        return sdl_type(ref.item, nullable=True)
    if ref.kind == "list":
        text = f"[{sdl_type(ref.item)}]"
    elif ref.kind == "dict":
        text = "JSON"
    else:
        text = SCALARS[ref.kind]
    return text if nullable else f"{text}!"


def scalars_used(refs: list[TypeRef]) -> list[str]:
    """Custom scalar names the types need, sorted as the printer sorts types."""
    names = set()
    for ref in refs:
        if contains(ref, "dict"):
            names.add("JSON")
        outside = ref
        while outside.kind in ("list", "optional"):
            outside = outside.item
        if outside.kind in ("int", "bytes"):
            names.add(SCALARS[outside.kind])
    return sorted(names)


def description(text: str, indentation: str = "", first_in_block: bool = True) -> str:
    """graphql-core's ``print_description``: the description and its line break, or ''."""
    if not text:
        return ""
    literal = block_string(text) if printable_as_block_string(text) else string(text)
    prefix = "\n" + indentation if indentation and not first_in_block else indentation
    return prefix + literal.replace("\n", "\n" + indentation) + "\n"


def string(value: str) -> str:
    """A GraphQL string literal (``print_string``)."""
    return '"' + "".join(_escape(char) for char in value) + '"'


def _escape(char: str) -> str:
    code = ord(char)
    named = {0x08: "\\b", 0x09: "\\t", 0x0A: "\\n", 0x0C: "\\f", 0x0D: "\\r"}
    if code in named:
        return named[code]
    if char in '"\\':
        return "\\" + char
    if code < 0x20 or 0x7F <= code <= 0x9F:
        return f"\\u{code:04X}"
    return char


def printable_as_block_string(value: str) -> bool:
    """graphql-core's ``is_printable_as_block_string``."""
    if not value:
        return True
    is_empty_line, has_indent, has_common_indent, seen_non_empty_line = True, False, True, False
    for char in value:
        if char == "\n":
            if is_empty_line and not seen_non_empty_line:
                return False  # a leading line break
            seen_non_empty_line, is_empty_line, has_indent = True, True, False
        elif char in " \t":
            has_indent = has_indent or is_empty_line
        elif char <= "\x0f":
            return False
        else:
            has_common_indent = has_common_indent and has_indent
            is_empty_line = False
    if is_empty_line:
        return False  # trailing empty lines
    return not (has_common_indent and seen_non_empty_line)


def block_string(value: str) -> str:
    """graphql-core's ``print_block_string`` (not minimized)."""
    escaped = value.replace('"""', '\\"""')
    lines = _LINE_BREAK.split(escaped)
    single_line = len(lines) == 1
    force_leading = len(lines) > 1 and all(not line or line[0] in " \t" for line in lines[1:])
    trailing_triple_quotes = escaped.endswith('\\"""')
    force_trailing = (value.endswith('"') and not trailing_triple_quotes) or value.endswith("\\")
    multiple_lines = (
        not single_line
        or len(value) > 70
        or force_trailing
        or force_leading
        or trailing_triple_quotes
    )
    skip_leading = single_line and value[:1] in (" ", "\t")
    before = "\n" if (multiple_lines and not skip_leading) or force_leading else ""
    after = "\n" if multiple_lines or force_trailing else ""
    return f'"""{before}{escaped}{after}"""'


def default_value(ref: TypeRef, value: Any) -> str | None:
    """A scalar default as the printer writes it, or None when the SDL shows none: a list or a
    JSON value (the argument is left out to get its default, see ``graphql.py``), or a
    non-finite float (no GraphQL literal)."""
    if value is None:
        return "null"
    if ref.kind == "optional":
        return default_value(ref.item, value)
    if ref.kind in ("list", "dict"):
        return None
    if ref.kind == "bool":
        return "true" if value else "false"
    if ref.kind == "int":
        return str(value)
    if ref.kind == "float":
        number = float(value)
        return str(number).removesuffix(".0") if math.isfinite(number) else None
    return string(json_value(ref, value))  # string, or bytes as base64
