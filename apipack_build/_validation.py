"""Turning pydantic validation errors into located problems."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from ._types import did_you_mean
from ._yamlsrc import Located
from .errors import Problem

M = TypeVar("M", bound=BaseModel)


def _message(error: Any) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        return "unknown field"
    if kind == "missing":
        return "field required"
    message = str(error["msg"])
    return message.removeprefix("Value error, ")


def _loc(error: Any) -> tuple[str | int, ...]:
    # Union members add their class name to loc; the user never wrote those.
    return tuple(
        part for part in error["loc"] if not (isinstance(part, str) and part[:1].isupper())
    )


def validate_model(model: type[M], located: Located, data: Any, base: tuple[str | int, ...] = ()
                   ) -> tuple[M | None, list[Problem]]:
    """Validate *data* as *model*; on failure return every problem, located in the file."""
    try:
        return model.model_validate(data), []
    except ValidationError as exc:
        problems = []
        seen = set()
        for error in exc.errors():
            loc = (*base, *_loc(error))
            if loc in seen:  # one message per field is enough (unions repeat themselves)
                continue
            seen.add(loc)
            extra = error["type"] == "extra_forbidden"
            message = _message(error)
            if extra and isinstance(loc[-1], str):
                fields = list(_fields_at(model, loc[len(base):-1]))
                message += did_you_mean(loc[-1], fields)
            problems.append(located.problem(loc, message, key=extra))
        return None, problems


def _fields_at(model: type[BaseModel], loc: tuple[str | int, ...]) -> list[str]:
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
