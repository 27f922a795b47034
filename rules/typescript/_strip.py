"""TypeScript to JavaScript by erasing types, as Node's ``--experimental-strip-types`` and
``ts-blank-space`` do: every type-only piece of erasable TypeScript is cut out, nothing is
rewritten. It runs in process on the tree-sitter tree, so neither a build nor the check of an
LLM reply needs Node or tsc.

Erasable only: an ``enum``, a ``namespace`` or a parameter property emits code, so the
implementation check refuses them and the templates do not use them. A type-only import must say
so (``import type``, or ``type`` before the name), which ``verbatimModuleSyntax`` makes tsc
enforce on the TypeScript side.
"""

from __future__ import annotations

import re

from ._syntax import TYPE_ONLY, Node, parse, syntax_error, walk

#: tokens that only TypeScript has, directly in these nodes: ``x?: T``, ``x!: T``, ``readonly x``
_MARKS = {
    "optional_parameter": {"?"},
    "public_field_definition": {"?", "!", "readonly", "declare", "abstract"},
    "method_definition": {"?", "abstract"},
}


#: list items that exist only for types: ``{ type A, b }`` and a ``this`` parameter
_TYPE_ONLY_ITEMS = {
    "import_specifier": "type",
    "export_specifier": "type",
    "required_parameter": "this",
}


class StripError(ValueError):
    """The source does not parse."""


def strip_types(source: str) -> str:
    """*source* with its types erased: JavaScript with the same behaviour."""
    root = parse(source)
    problem = syntax_error(root)
    if problem:
        raise StripError(problem)
    data = root.text or b""
    cuts = sorted(_cuts(root))
    out, at = [], 0
    for start, end in cuts:
        if start < at:  # inside a piece already cut
            continue
        out.append(data[at:start])
        at = _closing_gap(data, start, end)
    out.append(data[at:])
    return _tidy(b"".join(out).decode("utf-8"), source)


def _cuts(root: Node) -> list[tuple[int, int]]:
    cuts: list[tuple[int, int]] = []
    for node in walk(root):
        kind = node.type
        if kind in TYPE_ONLY:
            parent = node.parent
            if parent is not None and parent.type == "export_statement":
                cuts.append(_span(parent))
            else:
                cuts.append(_span(node))
        elif kind in ("as_expression", "satisfies_expression"):
            value = node.named_children[0]
            cuts.append((value.end_byte, node.end_byte))
        elif kind == "non_null_expression":
            cuts.append((node.end_byte - 1, node.end_byte))
        elif kind in ("import_statement", "export_statement") and _has_token(node, "type"):
            cuts.append(_span(node))  # import type / export type
        elif _has_token(node, _TYPE_ONLY_ITEMS.get(kind, "")):
            cuts.append(_with_comma(node))
        for child in node.children:
            if child.type in _MARKS.get(kind, ()) and not child.is_named:
                cuts.append(_span(child))
    return cuts


def _closing_gap(data: bytes, start: int, end: int) -> int:
    """The end of a cut, past the spaces after it when spaces are also before it: a cut
    between two words (``Box implements Shape {``, ``readonly kind``) leaves one space."""
    if start > 0 and data[start - 1 : start] == b" ":
        while data[end : end + 1] == b" ":
            end += 1
    return end


def _has_token(node: Node, token: str) -> bool:
    return any(child.type == token for child in node.children[:2])


def _span(node: Node) -> tuple[int, int]:
    return node.start_byte, node.end_byte


def _with_comma(node: Node) -> tuple[int, int]:
    """*node* and the comma after it, up to the next item."""
    after = node.next_sibling
    if after is None or after.type != ",":
        return node.start_byte, node.end_byte
    following = after.next_sibling
    end = (
        following.start_byte
        if following is not None and following.start_point[0] == after.end_point[0]
        else after.end_byte
    )
    return node.start_byte, end


_BLANK_RUN = re.compile(r"\n{3,}")


def _tidy(stripped: str, source: str) -> str:
    """Lines a cut emptied go; so does the space a cut left before a line's end."""
    kept = [line.rstrip() for line in stripped.split("\n") if line.strip() or not line]
    text = "\n".join(kept)
    text = _BLANK_RUN.sub("\n\n", text).lstrip("\n")
    return text if text.endswith("\n") or not source.endswith("\n") else text + "\n"
