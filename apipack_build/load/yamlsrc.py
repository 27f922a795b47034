"""YAML loading that remembers where every value came from, so errors can say ``path:line:col``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from ..errors import Problem, SpecError

Path = tuple[str | int, ...]

# libyaml's parser is an order of magnitude faster and gives the same nodes and marks.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass
class Located:
    """A loaded YAML document with 1-based (line, column) for each value and each mapping key."""

    path: str
    data: Any
    values: dict[Path, tuple[int, int]] = field(default_factory=dict)
    keys: dict[Path, tuple[int, int]] = field(default_factory=dict)

    def where(self, loc: Path, *, key: bool = False) -> tuple[int, int]:
        """The position of *loc*, or of its nearest ancestor that exists in the file."""
        loc = tuple(loc)
        while loc:
            table = self.keys if key and loc in self.keys else self.values
            if loc in table:
                return table[loc]
            loc = loc[:-1]
        return self.values.get((), (1, 1))

    def problem(self, loc: Path, message: str, *, key: bool = False) -> Problem:
        line, column = self.where(loc, key=key)
        return Problem(self.path, line, column, format_loc(loc), message)


def format_loc(loc: Path) -> str:
    """``("functions", 1, "name")`` → ``functions[1].name``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _mark(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def _char_at(text: str, line: int, column: int) -> str:
    lines = text.splitlines()
    return lines[line][column : column + 1] if line < len(lines) else ""


def load_located(text: str, path: str) -> Located:
    """Parse one YAML document; raise SpecError for syntax errors, aliases and duplicate keys."""
    loader = _Loader(text)
    try:
        refuse_aliases(text, path)
        root = loader.get_single_node()
        located = Located(path, None)
        problems: list[Problem] = []
        if root is not None:
            located.data = _build(loader, root, (), located, problems)
            located.values[()] = _mark(root)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        message = " ".join(part for part in (exc.context, exc.problem) if part)
        start = exc.context_mark
        if start is not None and mark is not None and start.line != mark.line:
            # e.g. an unclosed quote is found at the end of the file; say where it opened
            message += f" (see line {start.line + 1}, column {start.column + 1})"
        if mark is not None and _char_at(text, mark.line, mark.column) == "\t":
            message += "; indent with spaces, not tabs"
        raise SpecError([Problem(path, line, col, "", f"invalid YAML: {message}")]) from None
    except yaml.YAMLError as exc:
        raise SpecError([Problem(path, 1, 1, "", f"invalid YAML: {exc}")]) from None
    finally:
        loader.dispose()
    if problems:
        raise SpecError(problems)
    return located


def refuse_aliases(text: str, path: str) -> None:
    """Raise SpecError at the first alias (``*name``) in *text*.

    An alias is a reference: nine nested anchors of nine aliases each expand a 439-byte file to
    billions of nodes. apipack's files never need one, so none is read (a ``*`` inside a quoted
    or block string is text, not an alias: only the parser can tell them apart).
    """
    if "*" not in text:
        return
    loader = _Loader(text)
    try:
        stack: list[list[Any]] = []  # per open collection: [loc, next key or index, is key next]
        while loader.check_event():
            event = loader.get_event()
            if isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                stack.pop()
                continue
            if not isinstance(event, yaml.NodeEvent):
                continue
            loc: Path = ()
            if stack:
                top = stack[-1]
                if top[2] is None:  # a sequence: the item's index
                    loc, top[1] = (*top[0], top[1]), top[1] + 1
                elif top[2]:  # a mapping key: reported at its mapping
                    loc, top[2] = top[0], False
                    top[1] = event.value if isinstance(event, yaml.ScalarEvent) else "?"
                else:
                    loc, top[2] = (*top[0], top[1]), True
            if isinstance(event, yaml.AliasEvent):
                mark = event.start_mark
                line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
                message = (
                    f"YAML aliases (*{event.anchor}) are not allowed; write the value out "
                    f"where it is used"
                )
                raise SpecError([Problem(path, line, column, format_loc(loc), message)])
            if isinstance(event, yaml.MappingStartEvent):
                stack.append([loc, None, True])
            elif isinstance(event, yaml.SequenceStartEvent):
                stack.append([loc, 0, None])
    finally:
        loader.dispose()


def _build(loader: Any, node: yaml.Node, loc: Path, out: Located, problems: list[Problem]) -> Any:
    out.values[loc] = _mark(node)
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if not isinstance(key, str):
                problems.append(
                    Problem(
                        out.path,
                        *_mark(key_node),
                        format_loc(loc),
                        f"keys must be strings, got {key!r}; quote it",
                    )
                )
                continue
            child = (*loc, key)
            if key in result:
                first_line = out.keys[child][0]
                problems.append(
                    Problem(
                        out.path,
                        *_mark(key_node),
                        format_loc(child),
                        f"duplicate key (first given on line {first_line})",
                    )
                )
                continue
            out.keys[child] = _mark(key_node)
            result[key] = _build(loader, value_node, child, out, problems)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [
            _build(loader, item, (*loc, index), out, problems)
            for index, item in enumerate(node.value)
        ]
    return loader.construct_object(node, deep=True)
