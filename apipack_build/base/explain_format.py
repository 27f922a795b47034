"""The format of ``.apipack/explain.json``, shared by the build that writes it
(``run.explain_record``) and the command that reads it (``explain``): what its statuses and
kinds of input are called, and how a record is read back."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

RECORD_FILE = "explain.json"
RECORD_FORMAT = 1
MANIFEST_TASK = "_manifest"  # as ``_build`` names it (not imported: that loads doit)

RAN, UP_TO_DATE, FAILED, NOT_RUN, REMOVED = "ran", "up to date", "failed", "not run", "removed"
WHOLE = "#"  # a function's entry: the hash of all its fields together
#: what reading a record that is well-formed JSON but not what a build wrote may raise
DAMAGE = (KeyError, TypeError, IndexError, AttributeError, ValueError)

#: what each kind of input is called, in the order causes are listed
KINDS = {
    "spec": "spec field",
    "implementation": "implementation file",
    "template": "template",
    "rule": "rule version",
    "rule-code": "rule code",
    "setting": "setting",
    "prompt": "prompt",
    "model": "model",
    "model-digest": "model digest",
    "llm-reply": "LLM reply",
    "outputs": "output list",
    "task-keys": "the keys of the tasks it records",
    "lock": "the entries of apipack.lock",
    # causes that are no input of their own
    "first-build": "first build",
    "new": "new task",
    "context": "template context",
    "cache-miss": "no cached reply",
    "unchanged": "inputs unchanged",
}
SHOWN_VALUES = ("rule", "model", "model-digest", "setting")  # kinds whose values are shown


def read_record(path: Path) -> dict[str, Any] | None:
    """The record at *path*; None when there is none, or it is damaged or of another format."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    tables = ("tasks", "functions", "settings", "llm", "rules", "templates")
    well_formed = (
        isinstance(data, dict)
        and data.get("format") == RECORD_FORMAT
        and all(isinstance(data.get(table), dict) for table in tables)
        and isinstance(data.get("template_sets"), list)
    )
    return data if well_formed else None
