"""Turning pydantic validation errors into located problems."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from ..base.lookup import entry_points_of
from ..errors import Problem
from .types import describe_value, did_you_mean
from .yamlsrc import Located


def _pydantic_told_of_its_plugins() -> None:
    """pydantic looks for its plugins (entry points ``pydantic``) when it builds its first
    validator, by reading every installed distribution's metadata: about 10 ms of each command
    that validates, which also reads them for its own entry points (``lookup.entry_points_of``,
    one scan shared by every group). When that scan finds no pydantic plugin, pydantic's loader
    is told it has none (its cache, a private name: if it moves, pydantic scans as before); when
    it finds one, pydantic loads them itself."""
    from pydantic.plugin import _loader

    if getattr(_loader, "_plugins", ...) is None and not entry_points_of("pydantic"):
        _loader._plugins = {}


_pydantic_told_of_its_plugins()  # before the models of the spec and settings are built

M = TypeVar("M", bound=BaseModel)
Loc = tuple[str | int, ...]

#: what the user should have written, by pydantic error type
_EXPECTED = {
    "string_type": "a string",
    "int_type": "an integer",
    "float_type": "a number",
    "bool_type": "true or false",
    "list_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
}
#: union members as pydantic names them in an error's loc ('str', 'list[str]', 'dict[str,str]')
_MEMBER_KINDS: dict[str, tuple[type, str]] = {
    "str": (str, "a string"),
    "int": (int, "an integer"),
    "float": (float, "a number"),
    "bool": (bool, "true or false"),
    "list": (list, "a list"),
    "dict": (dict, "a mapping"),
}


def _message(error: Any) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        return "unknown field"
    if kind == "missing":
        return "field required"
    if kind in _EXPECTED:
        return f"expected {_EXPECTED[kind]}, got {describe_value(error['input'])}"
    if kind == "too_short" and error.get("ctx", {}).get("min_length") == 1:
        return "must not be empty"
    message = str(error["msg"])
    return message.removeprefix("Value error, ")


def _at(data: Any, part: str | int) -> tuple[bool, Any]:
    if isinstance(data, dict) and part in data:
        return True, data[part]
    if isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data):
        return True, data[part]
    return False, None


def _split_member(error: Any, data: Any) -> tuple[Loc, str | None, Loc, Any]:
    """Split an error's loc at a union member's name, which the user never wrote.

    Returns (loc of the union field, member name or None, rest of the loc, value at the field).
    """
    loc: Loc = tuple(error["loc"])
    node = data
    for index, part in enumerate(loc):
        found, child = _at(node, part)
        if found:
            node = child
            continue
        if (index == len(loc) - 1 and error["type"] == "missing") or isinstance(part, int):
            break
        return loc[:index], part, loc[index + 1 :], node
    return loc, None, (), node


def _member_kind(member: str) -> tuple[type, str]:
    if member[:1].isupper():  # a model class
        return dict, "a mapping"
    return _MEMBER_KINDS.get(member.split("[")[0], (object, member))


def _fits(value: Any, kind: type) -> bool:
    return isinstance(value, kind) and not (kind in (int, float) and isinstance(value, bool))


def _user_errors(errors: list[Any], data: Any) -> list[tuple[Loc, str, bool]]:
    """(loc, message, is-unknown-field) for each error, in terms of what the user wrote.

    A union field's errors come once per member. When the value has the shape of one member
    (a mapping for ``str | dict[str, str]``), only that member's errors are reported; otherwise
    one "expected a string or a mapping" for the field.
    """
    out: list[tuple[Loc, str, bool]] = []
    unions: dict[Loc, tuple[Any, dict[str, list[tuple[Loc, Any]]]]] = {}
    for error in errors:
        base, member, rest, value = _split_member(error, data)
        if member is None:
            out.append((base, _message(error), error["type"] == "extra_forbidden"))
        else:
            members = unions.setdefault(base, (value, {}))[1]
            members.setdefault(member, []).append(((*base, *rest), error))
    for base, (value, members) in unions.items():
        fitting = [m for m in members if _fits(value, _member_kind(m)[0])]
        if fitting:
            out.extend(
                (loc, _message(error), error["type"] == "extra_forbidden")
                for loc, error in members[fitting[0]]
            )
        else:
            expected = " or ".join(dict.fromkeys(_member_kind(m)[1] for m in members))
            out.append((base, f"expected {expected}, got {describe_value(value)}", False))
    return out


def validate_model(
    model: type[M], located: Located, data: Any, base: Loc = ()
) -> tuple[M | None, list[Problem]]:
    """Validate *data* as *model*; on failure return every problem, located in the file."""
    try:
        return model.model_validate(data), []
    except ValidationError as exc:
        problems = []
        seen = set()
        for loc, message, extra in _user_errors(exc.errors(), data):
            if loc in seen:  # one message per field is enough
                continue
            seen.add(loc)
            if extra and loc and isinstance(loc[-1], str):
                message += did_you_mean(loc[-1], _fields_at(model, loc[:-1]))
            problems.append(located.problem((*base, *loc), message, key=extra))
        return None, problems


def _fields_at(model: type[BaseModel], loc: Loc) -> list[str]:
    """Field names of the sub-model reached by *loc* (for did-you-mean on unknown fields)."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        field = current.model_fields.get(part) if hasattr(current, "model_fields") else None
        if field is None:
            return []
        current = _model_in(field.annotation)
    return list(getattr(current, "model_fields", {}))


def _model_in(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_in(arg)
        if found is not None:
            return found
    return None
