"""How each parameter is written on the generated command line (as ``src/cli/main.ts`` reads
it), and a spec example as the argv of a generated test.

Every parameter is an option: text as it is, numbers as JSON numbers, bool as
``--flag/--no-flag``, bytes as a file path, lists, dicts and optional values whose default is
not null as JSON text. Values are given as ``--name=value``, so a value starting with ``-`` is
never read as an option.
"""

from __future__ import annotations

import json
from typing import Any

from apipack_build.rules import Function, Parameter

from ..python._values import json_value
from ._filters import ts_string

_RESERVED_OPTIONS = {"--json", "--help"}


def option_string(name: str) -> str:
    option = "--" + name.replace("_", "-")
    return f"{option}-value" if option in _RESERVED_OPTIONS else option


def style(param: Parameter) -> str:
    """One of ``text``, ``number``, ``flag``, ``file`` or ``json``."""
    ref = param.type_ref
    if ref.kind == "optional":
        if param.has_default and param.default is not None:
            return "json"
        ref = ref.item
    return {
        "string": "text",
        "int": "number",
        "float": "number",
        "bool": "flag",
        "bytes": "file",
    }.get(ref.kind, "json")


def argv(function: Function, values: dict[str, Any], stem: str) -> list[str]:
    """*values* as TypeScript expressions of command-line words; bytes go to files made by the
    test's ``file(name, bytes)`` helper."""
    words = []
    for p in function.parameters:
        if p.name not in values:
            continue
        value, how, option = values[p.name], style(p), option_string(p.name)
        if value is None and how != "json":
            continue  # an omitted option means null
        if how == "flag":
            words.append(ts_string(option if value else f"--no-{option[2:]}"))
        elif how == "file":
            data = value.encode("utf-8") if isinstance(value, str) else bytes(value)
            name = ts_string(f"{stem}-{p.name}")
            words.append(f"`{option}=${{file({name}, [{', '.join(str(b) for b in data)}])}}`")
        elif how == "text":
            words.append(ts_string(f"{option}={value}"))
        else:
            text = json.dumps(json_value(p.type_ref, value), ensure_ascii=False)
            words.append(ts_string(f"{option}={text}"))
    return words
