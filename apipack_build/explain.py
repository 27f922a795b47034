"""``apipack explain``: why each task of the last build ran, or that it was up to date.

Every build that runs doit records (``explain_record``), in ``.apipack/explain.json``, the named
inputs of each task — the parts its key is made of, named by where they come from — and diffs
them against the record of the build before, so the causes are decided once, when it runs:

* ``spec:<function>.<field>`` (or ``spec:<field>`` for the package) — a field of the normalized
  spec; ``spec:functions`` — the functions a package-level task sees;
* ``implementation:<path>`` — a hand-written implementation file; ``llm-reply`` — the LLM's code;
* ``template:<name>`` — a template's text (includes followed); ``outputs`` — the files a rule
  returns; ``rule:<name>`` — a rule's version; ``rule-code:<name>`` — its source;
* ``setting:<name>`` — a setting a rule or the LLM request reads;
* ``prompt``, ``model``, ``model-digest`` — what the LLM is asked, and which weights answer.

Spec fields and settings are stored once (per function, per project), not per task. Hashes are
stored as ``#`` and 16 hex digits; values that are safe and short to show (a rule's version, the
model, its digest, sampling options) as they are. No times and no absolute paths are recorded.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .base.explain_format import (
    DAMAGE,
    FAILED,
    KINDS,
    RAN,
    RECORD_FILE,
    REMOVED,
    SHOWN_VALUES,
    UP_TO_DATE,
    read_record,
)
from .base.lookup import LAST_BUILD, STATE_DIR
from .errors import ConfigError

_DAMAGED = f"{STATE_DIR}/{RECORD_FILE} is damaged; the next `apipack generate` rewrites it"


@dataclass(frozen=True)
class Explanation:
    task: str
    status: str
    causes: tuple[dict[str, Any], ...]
    files: tuple[str, ...]
    spec: str  # the spec file the task's function or package comes from ("" for others)


def explain(
    root: Path, output: Path, query: str | None = None, cwd: Path | None = None
) -> tuple[list[Explanation], bool]:
    """Each task of the last build matching *query* (a function, a generated file, a spec,
    implementation or template file; None for all), and whether the fast path answered it."""
    state = root / STATE_DIR
    try:
        record_ = read_record(state / RECORD_FILE)
    except DAMAGE:
        raise ConfigError(_DAMAGED) from None
    if record_ is None:
        raise ConfigError(
            f"no build recorded in {STATE_DIR}/{RECORD_FILE}; run `apipack generate` first"
        )
    fast = _fast_path(state / LAST_BUILD)
    files = _files_by_task(state, root, output)
    try:
        names = sorted(record_["tasks"])
        if query is not None:
            names = _matching(record_, files, names, query, root, output, cwd or root)
        found = []
        for name in names:
            task = record_["tasks"][name]
            status = UP_TO_DATE if fast else str(task["status"])
            reasons = () if fast or status not in (RAN, FAILED) else tuple(task.get("causes", ()))
            spec = str(task.get("spec", ""))
            found.append(Explanation(name, status, reasons, tuple(files.get(name, ())), spec))
            for cause in reasons:
                describe(cause)  # a damaged cause fails here, not half-way through the report
        if query is None and not fast:  # tasks the build before had, and this one has not
            found += [Explanation(str(n), REMOVED, (), (), "") for n in record_["removed"]]
    except DAMAGE:
        raise ConfigError(_DAMAGED) from None
    if query is not None and not names:
        raise ConfigError(
            f"'{query}' is neither a function nor a file of the last build "
            f"(a generated file, a spec, an implementation file or a template)"
        )
    return found, fast


def _fast_path(path: Path) -> bool:
    """Whether the last build was answered by the fast path (so nothing ran)."""
    try:
        return bool(json.loads(path.read_text(encoding="utf-8")).get("fast_path"))
    except (OSError, ValueError, AttributeError):
        return False


def _files_by_task(state: Path, root: Path, output: Path) -> dict[str, list[str]]:
    """The files each task wrote, from the manifest (output-relative, sorted)."""
    from .base import manifest

    found: dict[str, list[str]] = {}
    entries = manifest.read(state / "manifest.json", manifest.output_id(output.resolve(), root))
    for path, entry in sorted(entries.items()):
        found.setdefault(entry.task, []).append(path)
    return found


def _matching(
    record_: Mapping[str, Any],
    files: Mapping[str, list[str]],
    names: Iterable[str],
    query: str,
    root: Path,
    output: Path,
    cwd: Path,
) -> list[str]:
    relative = {_relative(cwd / query, base) for base in (root, output)} - {None}
    wanted = {query, query.replace(".", "/", 1), *relative}

    def matches(name: str) -> bool:
        task = record_["tasks"][name]
        function = task.get("function", "")
        templates = record_["template_sets"][task["templates"]] if "templates" in task else ()
        return bool(
            name == query
            or (function and (function in wanted or function.split("/", 1)[1] == query))
            or wanted & {*files.get(name, ()), *templates}
            or task.get("spec") in wanted
            or any(k.split(":", 1)[-1] in wanted for k in task["inputs"] if ":" in k)
        )

    return [name for name in names if matches(name)]


def _relative(path: Path, base: Path) -> str | None:
    try:
        return path.resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return None


def describe(cause: Mapping[str, Any]) -> str:
    """One cause, in words."""
    kind, component = cause["kind"], cause["input"]
    what = component.split(":", 1)[-1] if ":" in component else ""
    if kind == "spec" and what == "functions":
        text = f"the package's functions changed: {cause['detail']}"
    elif kind == "spec" and "." in what:
        function, field = what.split(".", 1)
        text = f"spec field '{field}' of function {function} changed"
    elif kind == "spec":
        text = f"spec field '{what}' changed"
    elif kind == "rule-code":
        text = f"the code of rule {what} (or its language's filters) changed"
    elif kind in ("first-build", "new", "context", "cache-miss", "unchanged"):
        text = {
            "first-build": "no earlier build was recorded",
            "new": "a new task (its function, interface or language was added)",
            "context": "its template context changed (package facts the rule reads)",
            "cache-miss": "no reply was cached for this request (cache cleared, or --refresh)",
            "unchanged": "its inputs are unchanged: an output was edited or deleted by hand, "
            "or the task state was reset",
        }[kind]
    else:
        text = f"{KINDS.get(kind, kind)}{f' {what}' if what else ''} changed"
    if kind in SHOWN_VALUES and (cause["old"] or cause["new"]):
        text += f" ({cause['old'] or 'none'} -> {cause['new'] or 'none'})"
    return text


def report_lines(found: list[Explanation], fast: bool, everything: bool) -> list[str]:
    """The readable report: each task that ran with its causes; with *everything* (a query was
    given) the up-to-date ones too, else only how many they are."""
    ran = [e for e in found if e.status != UP_TO_DATE]
    lines = []
    if fast:
        lines.append("apipack explain: the last build found nothing changed (fast path)")
    else:
        lines.append(
            f"apipack explain: the last build ran {sum(e.status == RAN for e in found)} "
            f"of {sum(e.status != REMOVED for e in found)} task(s)"
        )
    for item in found if everything else ran:
        lines.append(f"{item.task}: {item.status}")
        for cause in item.causes:
            where = f" ({item.spec})" if cause["kind"] == "spec" and item.spec else ""
            lines.append(f"  {describe(cause)}{where}")
    quiet = len(found) - len(ran)
    if not everything and quiet:
        lines.append(f"{quiet} task(s) up to date")
    return lines


def report_json(found: list[Explanation], fast: bool) -> dict[str, Any]:
    return {
        "fast_path": fast,
        "tasks": [
            {
                "task": e.task,
                "status": e.status,
                "files": list(e.files),
                "spec": e.spec,
                "causes": [{**c, "text": describe(c)} for c in e.causes],
            }
            for e in found
        ],
    }
