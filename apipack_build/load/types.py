"""The spec type language: string, int, float, bool, bytes, list[T], dict[string, T], optional[T].

The engine only parses and checks these; rules map them to the types of their language.
"""

from __future__ import annotations

import difflib
import functools
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

SCALARS = ("string", "int", "float", "bool", "bytes")
GENERICS = ("list", "dict", "optional")
_TOKEN = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*|\[|\]|,)")


@dataclass(frozen=True)
class TypeRef:
    """A parsed type; ``args``: () for scalars, (T,) for list and optional, (string, T) for dict."""

    kind: str
    args: tuple[TypeRef, ...] = ()

    def __str__(self) -> str:
        return f"{self.kind}[{', '.join(map(str, self.args))}]" if self.args else self.kind

    @property
    def item(self) -> TypeRef:
        return self.args[-1]


class TypeSyntaxError(ValueError):
    pass


def did_you_mean(word: str, choices: tuple[str, ...] | list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


@functools.lru_cache(maxsize=1024)
def parse_type(text: str) -> TypeRef:
    """*text* parsed (a frozen value: remembered by its text, as a plan asks for the type of
    every parameter several times, and a project uses few distinct types)."""
    tokens = _tokenize(text)
    ref, rest = _parse(tokens, text)
    if rest:
        raise TypeSyntaxError(f"unexpected '{rest[0]}' in type '{text}'")
    return ref


def _tokenize(text: str) -> list[str]:
    tokens, pos = [], 0
    text = text.rstrip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match:
            raise TypeSyntaxError(
                f"unexpected character {text[pos:].strip()[0]!r} in type '{text}'"
            )
        tokens.append(match.group(1))
        pos = match.end()
    if not tokens:
        raise TypeSyntaxError("type is empty")
    return tokens


def _parse(tokens: list[str], text: str) -> tuple[TypeRef, list[str]]:
    if not tokens:
        raise TypeSyntaxError(f"type '{text}' ends too early")
    name, rest = tokens[0], tokens[1:]
    if name in SCALARS:
        return TypeRef(name), rest
    if name not in GENERICS:
        hint = did_you_mean(name, SCALARS + GENERICS)
        raise TypeSyntaxError(f"unknown type '{name}'{hint}")
    if not rest or rest[0] != "[":
        raise TypeSyntaxError(f"'{name}' needs a type argument, e.g. {name}[string]")
    args: list[TypeRef] = []
    rest = rest[1:]
    while True:
        arg, rest = _parse(rest, text)
        args.append(arg)
        if rest[:1] == [","]:
            rest = rest[1:]
            continue
        if rest[:1] == ["]"]:
            rest = rest[1:]
            break
        raise TypeSyntaxError(f"expected ',' or ']' in type '{text}'")
    expected = 2 if name == "dict" else 1
    if len(args) != expected:
        raise TypeSyntaxError(f"'{name}' takes {expected} type argument(s), got {len(args)}")
    if name == "dict" and args[0] != TypeRef("string"):
        raise TypeSyntaxError("dict keys must be string: dict[string, T]")
    if name == "optional" and args[0].kind == "optional":
        raise TypeSyntaxError("optional[optional[T]] is the same as optional[T]")
    return TypeRef(name, tuple(args)), rest


#: for each kind, whether a YAML-loaded value has that shape (bytes may be given as text)
_ACCEPTS: dict[str, Callable[[Any], bool]] = {
    "string": lambda v: isinstance(v, str),
    "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "float": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "bool": lambda v: isinstance(v, bool),
    "bytes": lambda v: isinstance(v, (bytes, str)),
    "list": lambda v: isinstance(v, list),
    "dict": lambda v: isinstance(v, dict) and all(isinstance(k, str) for k in v),
}


def value_problem(ref: TypeRef, value: Any) -> str | None:
    """Why *value* (as loaded from YAML) is not a ``ref``, or None if it is."""
    kind = ref.kind
    if kind == "optional":
        return None if value is None else value_problem(ref.item, value)
    ok = _ACCEPTS[kind]
    if not ok(value):
        return f"expected {ref}, got {describe_value(value)}"
    if isinstance(value, float) and not math.isfinite(value):
        return (
            f"expected a finite {ref}, got {describe_value(value)}: JSON, and so no interface, "
            f"can carry NaN or infinity"
        )
    if kind == "list":
        for index, item in enumerate(value):
            inner = value_problem(ref.item, item)
            if inner:
                return f"item {index}: {inner}"
    if kind == "dict":
        for key in sorted(value):
            inner = value_problem(ref.item, value[key])
            if inner:
                return f"key '{key}': {inner}"
    return None


def describe_value(value: Any) -> str:
    """A short user-facing description of a loaded YAML value: ``string '800'``."""
    if value is None:
        return "null"
    names = {bool: "bool", int: "int", float: "float", str: "string", list: "list", dict: "mapping"}
    return f"{names.get(type(value), type(value).__name__)} {value!r}"[:80]
