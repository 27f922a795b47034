"""Generated expressions in prettier's layout, so that ``prettier --check`` leaves them alone.

A small document printer after prettier's own (Wadler's "prettier printer"): text, groups that
print on one line when they fit in ``WIDTH`` and break every line of theirs otherwise, indents,
and text only a broken group shows (a trailing comma). The builders below give the layouts
prettier chooses for what the templates write from a spec: object and array literals, calls
(hugging a last object argument), arrow functions and ``key: value`` properties.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

from ._filters import WIDTH, ts_string

#: a property name prettier writes without quotes
_IDENTIFIER = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")
#: a number literal (not a bigint): prettier fills a line with an array of them
_NUMBER = re.compile(r"-?[0-9][0-9.e+-]*")


@dataclass(frozen=True)
class Group:
    parts: tuple[Doc, ...]
    broken: bool = False  # break whatever the width


@dataclass(frozen=True)
class Indent:
    parts: tuple[Doc, ...]


@dataclass(frozen=True)
class Line:
    soft: bool = False  # nothing, not a space, on one line


@dataclass(frozen=True)
class IfBreak:
    text: str  # shown only when the enclosing group breaks


@dataclass(frozen=True)
class Fluid:
    """``key: value``'s value: after the key when its first line fits there, else indented on
    the next line (prettier's "fluid" assignment layout)."""

    value: Doc


@dataclass(frozen=True)
class Fill:
    """Words separated by ``", "``, as many on a line as fit (prettier's layout of an array of
    numbers)."""

    words: tuple[str, ...]


@dataclass(frozen=True)
class Hug:
    """A call whose last argument (an object or array literal) may open on the call's line."""

    flat: Doc
    hugged: Doc
    expanded: Doc


Doc: TypeAlias = str | Group | Indent | Line | IfBreak | Fluid | Fill | Hug | tuple["Doc", ...]

LINE, SOFT = Line(), Line(soft=True)
_FLAT, _BREAK = 0, 1


def render(doc: Doc, indent: int = 0) -> str:
    """*doc* as text, its first line starting at column *indent* (its continuation lines
    indented from there)."""
    return _print(doc, indent, _BREAK)


def flat(doc: Doc) -> str:
    """*doc* on one line, whatever its width."""
    return _print(doc, 0, _FLAT)


def _print(doc: Doc, indent: int, mode: int) -> str:
    out: list[str] = []
    column = indent
    todo: list[tuple[int, int, Doc]] = [(indent, mode, doc)]
    while todo:
        at, mode, item = todo.pop()
        if isinstance(item, str):
            out.append(item)
            column += len(item)
        elif isinstance(item, tuple):
            todo.extend((at, mode, part) for part in reversed(item))
        elif isinstance(item, Indent):
            todo.append((at + 2, mode, item.parts))
        elif isinstance(item, Group):
            flat = not item.broken and (
                mode == _FLAT or _fits((at, _FLAT, item.parts), todo, column)
            )
            todo.append((at, _FLAT if flat else _BREAK, item.parts))
        elif isinstance(item, Line):
            if mode == _FLAT:
                text = "" if item.soft else " "
                out.append(text)
                column += len(text)
            else:
                out.append("\n" + " " * at)
                column = at
        elif isinstance(item, IfBreak):
            if mode == _BREAK:
                out.append(item.text)
                column += len(item.text)
        elif isinstance(item, Fill):
            last = len(item.words) - 1
            for index, word in enumerate(item.words):
                # each word but the last carries its comma, which must fit too
                width = len(word) + (index < last)
                if index and mode == _BREAK and column + 2 + width > WIDTH:
                    out.append(",\n" + " " * at)
                    column = at
                elif index:
                    out.append(", ")
                    column += 2
                out.append(word)
                column += len(word)
        elif isinstance(item, Fluid):
            same_line = mode == _FLAT or _fits((at, _BREAK, (" ", item.value)), todo, column)
            todo.append((at, mode, (" ", item.value) if same_line else Indent((LINE, item.value))))
        else:
            if not _breaks(item.flat) and (
                mode == _FLAT or _fits((at, _FLAT, item.flat), todo, column)
            ):
                todo.append((at, _FLAT, item.flat))
            elif _fits((at, _BREAK, item.hugged), todo, column):
                todo.append((at, _BREAK, item.hugged))
            else:
                todo.append((at, _BREAK, item.expanded))
    return "".join(out)


def _fits(first: tuple[int, int, Doc], rest: list[tuple[int, int, Doc]], column: int) -> bool:
    """Whether *first*, and what follows it up to the next line break, ends by ``WIDTH``."""
    room = WIDTH - column
    todo = [first]
    following = len(rest)
    while room >= 0:
        if not todo:
            if following == 0:
                return True
            following -= 1
            todo.append(rest[following])
            continue
        at, mode, item = todo.pop()
        if isinstance(item, str):
            room -= len(item)
        elif isinstance(item, tuple):
            todo.extend((at, mode, part) for part in reversed(item))
        elif isinstance(item, Indent):
            todo.append((at, mode, item.parts))
        elif isinstance(item, Group):
            todo.append((at, _BREAK if item.broken else mode, item.parts))
        elif isinstance(item, Line):
            if mode == _BREAK:
                return True
            room -= 0 if item.soft else 1
        elif isinstance(item, IfBreak):
            room -= len(item.text) if mode == _BREAK else 0
        elif isinstance(item, Fluid):
            todo.append((at, mode, (" ", item.value)))
        elif isinstance(item, Fill):
            room -= len(", ".join(item.words)) if mode == _FLAT else len(item.words[0])
        else:
            todo.append((at, mode, item.flat if mode == _FLAT else item.expanded))
    return False


def _breaks(doc: Doc) -> bool:
    """Whether *doc* holds a group that always breaks, which breaks every group around it."""
    if isinstance(doc, Group):
        return doc.broken
    if isinstance(doc, tuple):
        return any(_breaks(part) for part in doc)
    if isinstance(doc, Indent):
        return _breaks(doc.parts)
    if isinstance(doc, Fluid):
        return _breaks(doc.value)
    if isinstance(doc, Hug):
        return _breaks(doc.expanded)
    return False


def group(parts: tuple[Doc, ...], broken: bool = False) -> Group:
    return Group(parts, broken or _breaks(parts))


def _join(items: Sequence[Doc]) -> tuple[Doc, ...]:
    out: list[Doc] = []
    for index, item in enumerate(items):
        out.extend([",", LINE, item] if index else [item])
    return tuple(out)


def obj(properties: Sequence[Doc], broken: bool = False) -> Doc:
    """``{ a: 1, b: 2 }``; *broken* keeps it one property a line, as prettier keeps an object
    written so."""
    if not properties:
        return "{}"
    return group(("{", Indent((LINE, *_join(properties))), IfBreak(","), LINE, "}"), broken)


def prop(key: str, value: Doc) -> Doc:
    """``key: value``, the key quoted only where it must be, as prettier writes it."""
    return (key if _IDENTIFIER.fullmatch(key) else ts_string(key), ":", Fluid(value))


def array(items: Sequence[Doc]) -> Doc:
    if not items:
        return "[]"
    if len(items) > 1 and all(isinstance(i, str) and _NUMBER.fullmatch(i) for i in items):
        words = tuple(str(i) for i in items)
        return group(("[", Indent((SOFT, Fill(words))), IfBreak(","), SOFT, "]"))
    return group(("[", Indent((SOFT, *_join(items))), IfBreak(","), SOFT, "]"))


def call(callee: str, arguments: Sequence[Doc]) -> Doc:
    """``callee(a, b)``, or one argument a line; a last object or array argument may open on
    the call's line instead."""
    if not arguments:
        return callee + "()"
    expanded = group((callee, "(", Indent((SOFT, *_join(arguments))), IfBreak(","), SOFT, ")"))
    last = arguments[-1]
    if not (isinstance(last, Group) and last.parts[0] in ("{", "[")):
        return expanded
    head = tuple(part for argument in arguments[:-1] for part in (argument, ", "))
    flat = (callee, "(", *head, last, ")")
    hugged = (callee, "(", *head, Group(last.parts, broken=True), ")")
    return Hug(flat, hugged, expanded)


def arrow(parameters: str, body: Doc) -> Doc:
    """``(a) => body``, the body on the next line when it does not fit after the arrow."""
    return group((parameters, " =>", group((Indent((LINE, body)),))))


#: an expression as plain data, which a template context can hold (the engine hashes contexts):
#: text as it is, ``["call", callee, [arguments]]``, ``["obj", [[key, value], ...]]``,
#: ``["arr", [items]]``, ``["assign", "const x", value]``
Expr: TypeAlias = str | list[Any]


def expr_doc(expr: Expr) -> Doc:
    if isinstance(expr, str):
        return expr
    kind, *rest = expr
    if kind == "call":
        return call(rest[0], [expr_doc(argument) for argument in rest[1]])
    if kind == "obj":
        return obj([prop(key, expr_doc(value)) for key, value in rest[0]])
    if kind == "arr":
        return array([expr_doc(item) for item in rest[0]])
    if kind == "assign":
        return (rest[0] + " =", Fluid(expr_doc(rest[1])))
    raise ValueError(f"not an expression: {expr!r}")


def statement(expr: Expr, indent: int = 2) -> str:
    """``ts_statement``: *expr* and its semicolon, in prettier's layout, at column *indent*."""
    return render((expr_doc(expr), ";"), indent)
