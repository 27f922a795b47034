"""``apipack explain``: why each task of the last build ran, or that it was up to date.

Every build that runs doit records, in ``.apipack/explain.json``, the named inputs of each task —
the parts its key is made of, named by where they come from — and diffs them against the record
of the build before, so the causes are decided once, when the build runs:

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
from typing import TYPE_CHECKING, Any

from ._fsio import write_atomic
from ._hashing import content_hash
from ._lookup import LAST_BUILD, STATE_DIR
from .errors import ApipackError, ConfigError

if TYPE_CHECKING:
    from ._build import Build
    from ._llmstep import Need
    from ._plan import RenderTask
    from .spec import Function, Package

RECORD_FILE = "explain.json"
RECORD_FORMAT = 1
MANIFEST_TASK = "_manifest"

RAN, UP_TO_DATE, FAILED, NOT_RUN = "ran", "up to date", "failed", "not run"

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


def _short(value: Any) -> str:
    return _trim(content_hash(value))


def _trim(digest: str) -> str:
    """A stored hash: enough of it to tell a change, not enough to bloat the record."""
    return "#" + digest.split(":", 1)[-1][:16]


# -- recording (at the end of a build, in doit's main process) --


def record(build: Build) -> None:
    """Write ``.apipack/explain.json`` for *build*: each task's inputs, status and causes."""
    path = build.state / RECORD_FILE
    previous = read_record(path)
    current = _Recorder(build).record()
    for name, task in current["tasks"].items():
        if task["status"] in (RAN, FAILED):
            task["causes"] = causes(previous, current, name)
    current["removed"] = sorted(set(previous["tasks"]) - set(current["tasks"])) if previous else []
    text = json.dumps(current, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    write_atomic(path, (text + "\n").encode("utf-8"))


class _Recorder:
    """The named inputs of every task of one build (each function and setting hashed once)."""

    def __init__(self, build: Build):
        self.build = build
        self.functions: dict[str, dict[str, str]] = {}
        self.settings: dict[str, str] = {}
        self.llm: dict[str, str] = {}

    def record(self) -> dict[str, Any]:
        from ._llmstep import LLMStep

        build = self.build
        outcomes = build.outcomes
        self.llm = self._llm_settings()
        tasks: dict[str, dict[str, Any]] = {}
        for need in build.plan.llm.needs:
            name = LLMStep.task_name(need)
            tasks[name] = {
                "kind": "llm",
                "key": _trim(need.request_key),
                "function": self._function(need.package, need.function),
                "spec": "",
                "files": [],
                "inputs": self._need_inputs(need),
                "status": outcomes.get(name, UP_TO_DATE),  # else answered without asking
            }
        resolved = []
        for planned in build.plan.tasks:
            try:
                task = build.resolved(planned)
            except ApipackError:  # its LLM reply never came: the task did not run
                task = planned
            resolved.append(task)
            tasks[task.name] = self._render_task(task, outcomes.get(task.name, NOT_RUN))
        tasks[MANIFEST_TASK] = {
            "kind": "manifest",
            "key": "",
            "function": "",
            "spec": "",
            "files": [],
            "inputs": {
                "task-keys": _short([[t.name, t.key] for t in resolved]),
                "lock": self._lock_hash(),
            },
            "status": outcomes.get(MANIFEST_TASK, NOT_RUN),
        }
        return {
            "format": RECORD_FORMAT,
            "functions": self.functions,
            "settings": self.settings,
            "llm": self.llm,
            "tasks": tasks,
        }

    def _render_task(self, task: RenderTask, status: str) -> dict[str, Any]:
        inputs: dict[str, str] = {"outputs": _short([f.path for f in task.files])}
        for planned in task.files:
            for name, digest in self.build.plan.renderer.template_hashes(planned.template):
                inputs[f"template:{name}"] = _trim(digest)
        function_id, source = "", ""
        origin = task.origin
        if origin is not None:
            from ._registry import registry

            rule, package = origin.rule, origin.request.package
            source = package.source
            inputs[f"rule:{rule.name}"] = rule.version
            inputs[f"rule-code:{rule.name}"] = _short(registry().code_hash(rule))
            self._rule_settings(origin.request.settings.deployment, "deployment")
            self._rule_settings(origin.request.settings.output, "output")
            if origin.function is None:
                inputs.update(self._package_inputs(package))
            else:
                function_id = self._function(package.name, origin.function)
                inputs.update(_implementation_inputs(origin.function.name, origin.implementation))
                if origin.need is not None:
                    inputs["prompt"] = self._need_inputs(origin.need)["prompt"]
        return {
            "kind": "render",
            "key": _trim(task.key) if task.key else "",
            "function": function_id,
            "spec": source,
            "files": [f.path for f in task.files],
            "inputs": inputs,
            "status": status,
        }

    def _function(self, package: str, function: Function) -> str:
        """Hash *function*'s spec fields once; its id in the record."""
        ident = f"{package}/{function.name}"
        if ident not in self.functions:
            fields = function.model_dump(mode="json", exclude={"code", "implementation"})
            self.functions[ident] = {
                f"spec:{function.name}.{field}": _short(value)
                for field, value in sorted(fields.items())
            }
        return ident

    def _package_inputs(self, package: Package) -> dict[str, str]:
        fields = package.model_dump(mode="json", exclude={"functions", "source"})
        inputs = {f"spec:{field}": _short(value) for field, value in sorted(fields.items())}
        ids = [self._function(package.name, f) for f in package.functions]
        inputs["spec:functions"] = _short(
            [[ident, self.functions[ident]] for ident in ids]
            + [[f.name, f.code, f.implementation] for f in package.functions]
        )
        return inputs

    def _rule_settings(self, values: Mapping[str, Any], group: str) -> None:
        for name, value in values.items():
            self.settings[f"setting:{group}.{name}"] = _short(value)

    def _llm_settings(self) -> dict[str, str]:
        from .llm import sampling_options

        llm = self.build.plan.llm
        found = {
            f"setting:llm.{name}": json.dumps(value)
            for name, value in sampling_options(llm.settings).items()
        }
        found["model"] = f"{llm.settings.provider} {llm.settings.model}"
        if llm.resolution.digest:  # unknown offline: then nothing was asked either
            found["model-digest"] = llm.resolution.digest
        return found

    def _need_inputs(self, need: Need) -> dict[str, str]:
        return {"prompt": _short([vars(m) for m in need.messages])}

    def _lock_hash(self) -> str:
        try:
            entries = self.build.lock_entries()
        except ApipackError:  # a reply that never came: the lock was not written
            return ""
        return _short([[*ident, entry] for ident, entry in sorted(entries.items())])


def _implementation_inputs(function: str, implementation: Any) -> dict[str, str]:
    if implementation is None or implementation.origin == "none":
        return {}
    if implementation.origin == "file":
        return {f"implementation:{implementation.path}": _short(implementation.source)}
    if implementation.origin == "llm":
        return {"llm-reply": _short(implementation.source)}
    return {f"spec:{function}.code": _short(implementation.source)}


# -- deciding causes --


def effective_inputs(record: Mapping[str, Any], name: str) -> dict[str, str]:
    """A task's inputs with the shared ones (its function's spec fields, settings) merged in."""
    task = record["tasks"][name]
    merged: dict[str, str] = {}
    if task["kind"] == "llm":
        merged.update(record["llm"])
    elif task["kind"] == "render":
        merged.update(record["settings"])
    if task["function"]:
        merged.update(record["functions"].get(task["function"], {}))
    merged.update(task["inputs"])
    return merged


def causes(
    previous: Mapping[str, Any] | None, current: Mapping[str, Any], name: str
) -> list[dict[str, Any]]:
    """Why task *name* of *current* ran, given the record of the build before."""
    task = current["tasks"][name]
    if previous is None:
        return [_cause("first-build")]
    if name not in previous["tasks"]:
        return [_cause("new")]
    old, new = effective_inputs(previous, name), effective_inputs(current, name)
    changed = sorted(
        (k for k in old.keys() | new.keys() if old.get(k) != new.get(k)), key=_cause_order
    )
    if changed:
        found = [_cause(_kind(k), k, old.get(k), new.get(k)) for k in changed]
        if "spec:functions" in changed:
            found[changed.index("spec:functions")]["detail"] = ", ".join(
                _changed_functions(previous["functions"], current["functions"])
            )
        return found
    if task["kind"] == "llm":
        return [_cause("cache-miss")]
    if task["key"] != previous["tasks"][name]["key"]:
        return [_cause("context")]
    return [_cause("unchanged")]


def _kind(component: str) -> str:
    return component.split(":", 1)[0]


def _cause_order(component: str) -> tuple[int, str]:
    kind = _kind(component)
    return (list(KINDS).index(kind) if kind in KINDS else len(KINDS), component)


def _cause(
    kind: str, component: str = "", old: str | None = None, new: str | None = None
) -> dict[str, Any]:
    return {"kind": kind, "input": component, "old": old, "new": new, "detail": ""}


def _changed_functions(
    old: Mapping[str, Mapping[str, str]], new: Mapping[str, Mapping[str, str]]
) -> list[str]:
    return [
        ident.split("/", 1)[-1]
        + (" (added)" if ident not in old else " (removed)" if ident not in new else "")
        for ident in sorted(old.keys() | new.keys())
        if old.get(ident) != new.get(ident)
    ]


# -- reading and reporting --


def read_record(path: Path) -> dict[str, Any] | None:
    """The record at *path*; None when there is none, or it is damaged or of another format."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("format") != RECORD_FORMAT:
        return None
    for part in ("tasks", "functions", "settings", "llm"):
        if not isinstance(data.get(part), dict):
            return None
    return data


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
    record_ = read_record(state / RECORD_FILE)
    if record_ is None:
        raise ConfigError(
            f"no build recorded in {STATE_DIR}/{RECORD_FILE}; run `apipack generate` first"
        )
    fast = _fast_path(state / LAST_BUILD)
    names = sorted(record_["tasks"])
    if query is not None:
        names = _matching(record_, names, query, root, output, cwd or root)
        if not names:
            raise ConfigError(
                f"'{query}' is neither a function nor a file of the last build "
                f"(a generated file, a spec, an implementation file or a template)"
            )
    found = []
    for name in names:
        task = record_["tasks"][name]
        status = UP_TO_DATE if fast else task["status"]
        reasons = () if fast or status not in (RAN, FAILED) else tuple(task.get("causes", ()))
        found.append(Explanation(name, status, reasons, tuple(task["files"]), task["spec"]))
    return found, fast


def _fast_path(path: Path) -> bool:
    """Whether the last build was answered by the fast path (so nothing ran)."""
    try:
        return bool(json.loads(path.read_text(encoding="utf-8")).get("fast_path"))
    except (OSError, ValueError, AttributeError):
        return False


def _matching(
    record_: Mapping[str, Any],
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
        function = task["function"]
        return bool(
            name == query
            or (function and (function in wanted or function.split("/", 1)[1] == query))
            or wanted & set(task["files"])
            or task["spec"] in wanted
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
            f"of {len(found)} task(s)"
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
