"""Jinja filters that make any spec string a valid Python literal, docstring or comment."""

from __future__ import annotations

import json
from typing import Any


def py_str(value: str) -> str:
    """A double-quoted Python string literal (JSON string syntax is valid Python for str)."""
    return json.dumps(value, ensure_ascii=False)


def py_literal(value: Any) -> str:
    return repr(value)


FILTERS = {"py_str": py_str, "py_literal": py_literal}
