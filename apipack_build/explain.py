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
from ._hashing import bytes_hash, content_hash
from ._lookup import LAST_BUILD, STATE_DIR
from .errors import ApipackError, ConfigError

if TYPE_CHECKING:
    from ._build import Build
    from ._llmstep import Need
    from ._plan import RenderTask
    from .spec import Function, Package

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
    try:
        current = _Recorder(build, previous).record()
        _decide(previous, current)
    except DAMAGE:  # a record edited or damaged by hand: as if there were none
        previous = None
        current = _Recorder(build, previous).record()
        _decide(previous, current)
    current["removed"] = sorted(set(previous["tasks"]) - set(current["tasks"])) if previous else []
    text = json.dumps(current, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    write_atomic(path, (text + "\n").encode("utf-8"))


def _decide(previous: Mapping[str, Any] | None, current: dict[str, Any]) -> None:
    for name, task in current["tasks"].items():
        if task["status"] in (RAN, FAILED):
            task["causes"] = causes(previous, current, name)


class _Recorder:
    """The named inputs of every task of one build. What many tasks share — a function's spec
    fields, settings, a rule's version and code, a template's hash, a set of template names — is
    stored once and referred to, which keeps the record small and its making quick."""

    def __init__(self, build: Build, previous: Mapping[str, Any] | None):
        self.build = build
        self.previous: Mapping[str, Any] = previous["functions"] if previous else {}
        self.functions: dict[str, dict[str, str]] = {}
        self.packages: dict[str, dict[str, str]] = {}
        self.settings: dict[str, str] = {}
        self.rules: dict[str, dict[str, str]] = {}
        self.templates: dict[str, str] = {}
        self.template_sets: dict[tuple[str, ...], int] = {}
        self.prompts: dict[str, str] = {}  # request key -> hash of the prompt
        self._settings_seen: set[int] = set()

    def record(self) -> dict[str, Any]:
        from ._llmstep import LLMStep

        build = self.build
        outcomes = build.outcomes
        tasks: dict[str, dict[str, Any]] = {}
        for need in build.plan.llm.needs:
            name = LLMStep.task_name(need)
            tasks[name] = {
                "kind": "llm",
                "key": _trim(need.request_key),
                "function": self._function(need.package, need.function),
                "inputs": {"prompt": self._prompt(need)},
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
            "llm": self._llm_settings(),
            "rules": self.rules,
            "templates": self.templates,
            "template_sets": [list(names) for names in self.template_sets],
            "tasks": tasks,
        }

    def _render_task(self, task: RenderTask, status: str) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "kind": "render",
            "key": _trim(task.key) if task.key else "",
            "templates": self._template_set(task),
            "status": status,
        }
        # the files themselves are in the manifest; the list's hash tells a change
        paths = "\n".join(f.path for f in task.files)
        inputs: dict[str, str] = {"outputs": _trim(bytes_hash(paths.encode("utf-8")))}
        origin = task.origin
        if origin is not None:
            rule, package = origin.rule, origin.request.package
            entry["spec"], entry["rule"] = package.source, rule.name
            self._rule(rule)
            self._rule_settings(origin.request.settings)
            if origin.function is None:
                inputs.update(self._package_inputs(package))
            else:
                entry["function"] = self._function(package.name, origin.function)
                inputs.update(_implementation_inputs(origin.function.name, origin.implementation))
                if origin.need is not None:
                    inputs["prompt"] = self._prompt(origin.need)
        entry["inputs"] = inputs
        return entry

    def _template_set(self, task: RenderTask) -> int:
        renderer = self.build.plan.renderer
        names = set()
        for planned in task.files:
            for name, digest in renderer.template_hashes(planned.template):
                self.templates[name] = _trim(digest)
                names.add(name)
        return self.template_sets.setdefault(tuple(sorted(names)), len(self.template_sets))

    def _rule(self, rule: Any) -> None:
        if rule.name not in self.rules:
            from ._registry import registry

            self.rules[rule.name] = {
                f"rule:{rule.name}": rule.version,
                f"rule-code:{rule.name}": _trim(registry().code_hash(rule)),
            }

    def _function(self, package: str, function: Function) -> str:
        """Hash *function*'s spec fields once (each field only if the whole changed since the
        last record); its id in the record."""
        ident = f"{package}/{function.name}"
        if ident in self.functions:
            return ident
        fields = function.model_dump(mode="json", exclude={"code", "implementation"})
        whole = _short(fields)
        before = self.previous.get(ident)
        if isinstance(before, dict) and before.get(WHOLE) == whole:
            self.functions[ident] = before
        else:
            hashed = {f"spec:{function.name}.{k}": _short(v) for k, v in sorted(fields.items())}
            self.functions[ident] = {WHOLE: whole, **hashed}
        return ident

    def _package_inputs(self, package: Package) -> dict[str, str]:
        if package.name not in self.packages:
            fields = package.model_dump(mode="json", exclude={"functions", "source"})
            inputs = {f"spec:{field}": _short(value) for field, value in sorted(fields.items())}
            ids = [self._function(package.name, f) for f in package.functions]
            inputs["spec:functions"] = _short(
                [[ident, self.functions[ident][WHOLE]] for ident in ids]
                + [[f.name, f.code, f.implementation] for f in package.functions]
            )
            self.packages[package.name] = inputs
        return self.packages[package.name]

    def _rule_settings(self, settings: Any) -> None:
        if id(settings) in self._settings_seen:  # one object for every task of a build
            return
        self._settings_seen.add(id(settings))
        for group, values in (("deployment", settings.deployment), ("output", settings.output)):
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

    def _prompt(self, need: Need) -> str:
        if need.request_key not in self.prompts:
            text = "\0".join(f"{m.role}\0{m.content}" for m in need.messages)
            self.prompts[need.request_key] = _trim(bytes_hash(text.encode("utf-8")))
        return self.prompts[need.request_key]

    def _lock_hash(self) -> str:
        """The lock as the build left it (a build with no LLM has none)."""
        try:
            return _trim(bytes_hash(self.build.plan.llm.lock_path.read_bytes()))
        except OSError:
            return ""


def _implementation_inputs(function: str, implementation: Any) -> dict[str, str]:
    if implementation is None or implementation.origin == "none":
        return {}
    digest = _trim(bytes_hash(implementation.source.encode("utf-8")))
    if implementation.origin == "file":
        return {f"implementation:{implementation.path}": digest}
    if implementation.origin == "llm":
        return {"llm-reply": digest}
    return {f"spec:{function}.code": digest}


# -- deciding causes --


def effective_inputs(record: Mapping[str, Any], name: str) -> dict[str, str]:
    """A task's inputs with the shared ones it refers to merged in."""
    task = record["tasks"][name]
    merged: dict[str, str] = {}
    if task["kind"] == "llm":
        merged.update(record["llm"])
    elif task["kind"] == "render":
        merged.update(record["settings"])
        merged.update(record["rules"].get(task.get("rule", ""), {}))
        for template in record["template_sets"][task["templates"]]:
            merged[f"template:{template}"] = record["templates"][template]
    if task.get("function"):
        merged.update(record["functions"].get(task["function"], {}))
        merged.pop(WHOLE, None)
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
    tables = ("tasks", "functions", "settings", "llm", "rules", "templates")
    well_formed = (
        isinstance(data, dict)
        and data.get("format") == RECORD_FORMAT
        and all(isinstance(data.get(table), dict) for table in tables)
        and isinstance(data.get("template_sets"), list)
    )
    return data if well_formed else None


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
        raise ConfigError(
            f"{STATE_DIR}/{RECORD_FILE} is damaged; the next `apipack generate` rewrites it"
        ) from None
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
    from . import _manifest

    found: dict[str, list[str]] = {}
    entries = _manifest.read(state / "manifest.json", _manifest.output_id(output.resolve(), root))
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
