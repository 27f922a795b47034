"""How each parameter appears on the generated argparse CLI, and examples as argv.

Every parameter is an option (``--width 800``). Scalars are typed options; bool is
``--flag/--no-flag``; bytes is a file path (``-`` for stdin); list, dict, and optional values
that need an explicit null are JSON text. Tests and the README pass values as ``--name=value``
so that a value starting with ``-`` is never read as an option.
"""

from __future__ import annotations

import json
from typing import Any

from apipack_build.rules import Parameter, TypeRef

from ._types import annotation
from ._values import json_value, python_value

#: option strings the generated CLI uses itself
_RESERVED_OPTIONS = {"--json", "--help"}
#: the argparse type of each text option: ints within signed 64 bits, floats finite
_TEXT_TYPES = {"string": None, "int": "int64", "float": "finite_float"}


def option_string(name: str) -> str:
    option = "--" + name.replace("_", "-")
    return f"{option}-value" if option in _RESERVED_OPTIONS else option


def style(param: Parameter) -> str:
    """One of ``text``, ``flag``, ``file`` or ``json``."""
    ref = param.type_ref
    if ref.kind == "optional":
        defaults_to_null = param.has_default and param.default is None
        if ref.item.kind in _TEXT_TYPES or ref.item.kind in ("bool", "bytes"):
            # an omitted option gives null; only a non-null default needs JSON to pass null
            return _scalar_style(ref.item) if defaults_to_null else "json"
        return "json"
    return _scalar_style(ref)


def _scalar_style(ref: TypeRef) -> str:
    if ref.kind in _TEXT_TYPES:
        return "text"
    return {"bool": "flag", "bytes": "file"}.get(ref.kind, "json")


def option(param: Parameter) -> dict[str, Any]:
    """What ``add_argument`` needs for *param*."""
    ref = param.type_ref
    kind = style(param)
    scalar = ref.item if ref.kind == "optional" else ref
    help_text = param.description.replace("%", "%%")  # argparse %-formats help strings
    if kind == "file":
        help_text = _join(help_text, "Path to a file, or '-' for standard input.")
    elif kind == "json":
        help_text = _join(help_text, f"JSON ({param.type}).")
    if param.has_default:
        help_text = _join(help_text, "Default: %(default)s.")
    return {
        "dest": param.name,
        "option": option_string(param.name),
        "style": kind,
        "type": _TEXT_TYPES.get(scalar.kind) if kind == "text" else None,
        "annotation": annotation(ref) if kind == "json" else None,
        "metavar": {"file": "PATH", "json": "JSON"}.get(kind, scalar.kind.upper()),
        "required": param.required,
        "has_default": param.has_default,
        "default": python_value(ref, param.default) if param.has_default else None,
        "help": help_text,
    }


def _join(first: str, second: str) -> str:
    first = first.strip()
    if not first:
        return second
    return f"{first} {second}" if first.endswith((".", "!", "?")) else f"{first}. {second}"


def argv(params: tuple[Parameter, ...], values: dict[str, Any]) -> list[dict[str, Any]]:
    """*values* as CLI words: ``{"word": "--width=800"}``, or ``{"option", "file", "data"}``
    for bytes read from a file the caller writes first."""
    words: list[dict[str, Any]] = []
    for param in params:
        if param.name not in values:
            continue
        value, kind, name = values[param.name], style(param), option_string(param.name)
        ref = param.type_ref
        if kind == "json":
            text = json.dumps(json_value(ref, value), ensure_ascii=False, separators=(",", ":"))
            words.append({"word": f"{name}={text}"})
        elif value is None:
            continue  # these styles are only chosen when an omitted option means null
        elif kind == "flag":
            words.append({"word": name if value else "--no-" + name[2:]})
        elif kind == "file":
            data = python_value(ref, value)
            words.append({"option": name, "file": f"{param.name}.bin", "data": data})
        else:
            words.append({"word": f"{name}={value if isinstance(value, str) else repr(value)}"})
    return words
