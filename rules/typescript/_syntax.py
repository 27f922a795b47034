"""TypeScript source read in process, without Node: the tree-sitter TypeScript grammar.

JavaScript is read with the same grammar (it is a superset for everything a function body
needs); what makes a text JavaScript rather than TypeScript is that it has no type syntax
(``TYPE_ONLY``).
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache

import tree_sitter
import tree_sitter_typescript

Node = tree_sitter.Node

#: nodes that exist only in TypeScript: erased entirely when types are stripped
TYPE_ONLY = frozenset(
    {
        "type_annotation",
        "type_arguments",
        "type_parameters",
        "type_alias_declaration",
        "interface_declaration",
        "asserts_annotation",
        "type_predicate_annotation",
        "implements_clause",
        "accessibility_modifier",
        "override_modifier",
        "function_signature",
        "abstract_method_signature",
        "index_signature",
        "ambient_declaration",
    }
)

#: TypeScript syntax that is not erasable (it emits code), by name: refused in implementations
NOT_ERASABLE = {
    "enum_declaration": "an enum",
    "internal_module": "a namespace",
    "module": "a module declaration",
    "decorator": "a decorator",
}
#: a parameter property, ``constructor(readonly x: T)``, is not erasable either
PARAMETER_PROPERTY_MARKS = frozenset({"accessibility_modifier", "readonly", "override_modifier"})


@cache
def _parser() -> tree_sitter.Parser:
    return tree_sitter.Parser(tree_sitter.Language(tree_sitter_typescript.language_typescript()))


def parse(source: str) -> Node:
    """The root node of *source* (the tree keeps the bytes: ``node.text``)."""
    return _parser().parse(source.encode("utf-8")).root_node


def where(node: Node) -> str:
    """``line:col`` of *node*, both 1-based (the column counts characters, not bytes)."""
    row, byte_column = node.start_point
    root = node
    while root.parent is not None:
        root = root.parent
    line_start = node.start_byte - byte_column
    column = len((root.text or b"")[line_start : node.start_byte].decode("utf-8", "replace"))
    return f"{row + 1}:{column + 1}"


def walk(node: Node) -> Iterator[Node]:
    """*node* and every node below it, in source order (no recursion: a reply may nest deep)."""
    pending = [node]
    while pending:
        current = pending.pop()
        yield current
        pending.extend(reversed(current.children))


def syntax_error(root: Node) -> str | None:
    """``line:col: message`` of the first syntax error in the tree, or None."""
    if not root.has_error:
        return None
    for node in walk(root):
        if node.is_missing:
            return f"{where(node)}: syntax error: missing `{node.type}`"
        if node.type == "ERROR":
            snippet = (node.text or b"").decode("utf-8", "replace").split("\n")[0][:40]
            return f"{where(node)}: syntax error near `{snippet}`"
    return f"{where(root)}: syntax error"


def text(node: Node | None) -> str:
    return "" if node is None else (node.text or b"").decode("utf-8")
