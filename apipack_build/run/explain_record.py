"""Recording what ``apipack explain`` reads: each task's named inputs, status and causes.

Run once per build, at its end, in doit's main process (``_report``); the format of the record
and the names of the inputs are described in ``explain``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from ..base.explain_format import (
    DAMAGE,
    FAILED,
    KINDS,
    MANIFEST_TASK,
    NOT_RUN,
    RAN,
    RECORD_FILE,
    RECORD_FORMAT,
    UP_TO_DATE,
    WHOLE,
    compact,
    merged,
    record_header,
    shard_body,
    shard_kept,
    write_record,
)
from ..base.hashing import bytes_hash, content_hash
from ..errors import ApipackError

if TYPE_CHECKING:
    from ..ask.step import Need
    from ..plan.memo import SpecYield
    from ..plan.plan import RenderTask
    from ..spec import Function, Package
    from .graph import TaskGraph


def _short(value: Any) -> str:
    return _trim(content_hash(value))


def _trim(digest: str) -> str:
    """A stored hash: enough of it to tell a change, not enough to bloat the record."""
    return "#" + digest.split(":", 1)[-1][:16]


# -- recording (at the end of a build, in doit's main process) --


def record(build: TaskGraph) -> None:
    """Write ``.apipack/explain.json`` for *build*: each task's inputs, status and causes. The
    shards of the spec files the plan reused are kept as the last record wrote them, unparsed."""
    path = build.state / RECORD_FILE
    carried = {part.spec: part.reused for part in build.plan.parts if part.reused is not None}
    header = record_header(path)
    try:
        previous = None
        if header is not None:
            named = [key for key in header["shards"] if key not in carried]
            previous = merged(header, {key: shard_body(path, header, key) for key in named})
        current = _Recorder(build, previous).record()
        _decide(previous, current)
    except DAMAGE:  # edited or damaged by hand: as if there were none (whole shards are kept)
        previous = None
        current = _Recorder(build, previous).record()
        _decide(previous, current)
    bodies = {
        key: compact(shard).encode("utf-8")
        for key, shard in _split(current, _owners(build)).items()
    }
    fresh = sorted(bodies)
    kept = {}
    for key, reused in carried.items():
        if header is not None and shard_kept(path, header, key, build.hasher):
            kept[key] = header["shards"][key]
        else:  # lost or damaged: its tasks, naming no inputs
            bodies[key] = compact(_unrecorded(reused)).encode("utf-8")
    removed = sorted(set(previous["tasks"]) - set(current["tasks"])) if previous else []
    head = {
        "settings": current["settings"],
        "llm": current["llm"],
        "manifest": current["tasks"][MANIFEST_TASK],
        "removed": removed,
        "fresh": fresh,
    }
    write_record(path, head, bodies, kept, build.hasher)


def _owners(build: TaskGraph) -> Callable[[str, Mapping[str, Any]], str]:
    """Which shard a task recorded by this build goes to: its spec file's (or "" when the plan
    does not remember its spec files: every task in one shard)."""
    by_task = {name: part.spec for part in build.plan.parts for name in part.tasks}
    by_package = {package: part.spec for part in build.plan.parts for package in part.packages}

    def owner(name: str, task: Mapping[str, Any]) -> str:
        if name in by_task:
            return by_task[name]
        return by_package.get(str(task.get("function", "")).split("/", 1)[0], "")

    return owner


def _split(
    current: Mapping[str, Any], owner: Callable[[str, Mapping[str, Any]], str]
) -> dict[str, Any]:
    """The tasks of *current* (but the manifest's) by shard, each shard with the functions,
    rules, templates and template sets its tasks refer to."""
    shards: dict[str, dict[str, Any]] = {}
    numbers: dict[str, dict[int, int]] = {}  # shard -> the record's set index -> the shard's
    for name, task in current["tasks"].items():
        if name == MANIFEST_TASK:
            continue
        key = owner(name, task)
        shard = shards.setdefault(
            key, {"functions": {}, "rules": {}, "templates": {}, "template_sets": [], "tasks": {}}
        )
        task = dict(task)
        if "templates" in task:
            sets = numbers.setdefault(key, {})
            if task["templates"] not in sets:
                names = current["template_sets"][task["templates"]]
                sets[task["templates"]] = len(shard["template_sets"])
                shard["template_sets"].append(names)
                shard["templates"].update((t, current["templates"][t]) for t in names)
            task["templates"] = sets[task["templates"]]
        if task.get("function"):
            shard["functions"][task["function"]] = current["functions"][task["function"]]
        if task.get("rule"):
            shard["rules"][task["rule"]] = current["rules"][task["rule"]]
        shard["tasks"][name] = task
    return shards


def _task_keys(build: TaskGraph) -> str:
    try:
        return _short(build.yielded())
    except ApipackError:  # a reply never came: the manifest task did not run
        return "-"


def _unrecorded(found: SpecYield) -> dict[str, Any]:
    """The shard of a reused spec file the last record lacks (it was lost): its tasks, up to
    date, naming no inputs."""
    tasks = {
        task.name: {
            "kind": "render",
            "key": _trim(task.key) if task.key else "",
            "templates": 0,
            "inputs": {},
            "status": UP_TO_DATE,
        }
        for task in found.tasks
    }
    empty: dict[str, Any] = {"functions": {}, "rules": {}, "templates": {}}
    return {**empty, "template_sets": [[]], "tasks": tasks}


def _decide(previous: Mapping[str, Any] | None, current: dict[str, Any]) -> None:
    # one merger per record for every task: a template edit's thousand tasks share a few
    old = _EffectiveInputs(previous) if previous is not None else None
    new = _EffectiveInputs(current)
    for name, task in current["tasks"].items():
        if task["status"] in (RAN, FAILED):
            task["causes"] = _causes(previous, current, name, old, new)


class _Recorder:
    """The named inputs of every task of one build. What many tasks share — a function's spec
    fields, settings, a rule's version and code, a template's hash, a set of template names — is
    stored once and referred to, which keeps the record small and its making quick."""

    def __init__(self, build: TaskGraph, previous: Mapping[str, Any] | None):
        self.build = build
        self.before: Mapping[str, Any] = previous or {}
        self.previous: Mapping[str, Any] = previous["functions"] if previous else {}
        self.functions: dict[str, dict[str, str]] = {}
        self.packages: dict[str, dict[str, str]] = {}
        self.settings: dict[str, str] = {}
        self.rules: dict[str, dict[str, str]] = {}
        self.templates: dict[str, str] = {}
        self.template_sets: dict[tuple[str, ...], int] = {}
        self.prompts: dict[str, str] = {}  # request key -> hash of the prompt
        self._pulled_in: dict[str, tuple[str, ...]] = {}  # template -> with what it pulls in
        self._settings_seen: set[int] = set()

    def record(self) -> dict[str, Any]:
        from ..ask.step import LLMStep

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
        # the packages of spec files planned for a template edit (``plan.retemplate``)
        kept = {p for part in build.plan.parts if part.retemplated for p in part.packages}
        for planned in build.plan.tasks:  # the reused spec files' shards are copied (``record``)
            if planned.reused:  # a task of a spec file planned for a template edit, not run
                self._keep(tasks, planned.name, planned)
                continue
            try:
                task = build.resolved(planned)
            except ApipackError:  # its LLM reply never came: the task did not run
                task = planned
            tasks[task.name] = self._render_task(task, outcomes.get(task.name, NOT_RUN))
        for name, task in sorted(self.before.get("tasks", {}).items() if kept else ()):
            package = str(task.get("function", "")).split("/", 1)[0]
            if task["kind"] == "llm" and name not in tasks and package in kept:
                self._keep(tasks, name)  # its body is the lock's: nothing was asked
        if self.before and build.plan.reused_tasks:  # settings are the same for every task
            for setting, value in self.before["settings"].items():
                self.settings.setdefault(setting, value)
        tasks[MANIFEST_TASK] = {
            "kind": "manifest",
            "key": "",
            "inputs": {
                "task-keys": _task_keys(build),
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

    def _keep(
        self, tasks: dict[str, dict[str, Any]], name: str, planned: RenderTask | None = None
    ) -> None:
        """Record task *name*, reused though its spec file was planned, as the last record has
        it (its inputs did not change), up to date; with the shared inputs it refers to."""
        before = self.before.get("tasks", {}).get(name)
        if before is None and planned is not None:  # the record lost it: naming no inputs
            key = _trim(planned.key) if planned.key else ""
            empty = self.template_sets.setdefault((), len(self.template_sets))
            task = {"kind": "render", "key": key, "templates": empty, "inputs": {}}
            tasks[name] = {**task, "status": UP_TO_DATE}
            return
        if before is None:
            return
        task = {k: v for k, v in before.items() if k != "causes"}
        task["status"] = UP_TO_DATE
        if "templates" in task:
            names = tuple(self.before["template_sets"][task["templates"]])
            self.templates.update((t, self.before["templates"][t]) for t in names)
            task["templates"] = self.template_sets.setdefault(names, len(self.template_sets))
        if task.get("function"):
            function = str(task["function"])
            self.functions[function] = self.before["functions"][function]
        if task.get("rule"):
            self.rules[str(task["rule"])] = self.before["rules"][task["rule"]]
        tasks[name] = task

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
                elif origin.implementation and origin.implementation.origin == "llm":
                    # planned for a template edit: the body is the lock's, its prompt unchanged
                    inputs.update(self._last_prompt(task.name))
        entry["inputs"] = inputs
        return entry

    def _last_prompt(self, name: str) -> dict[str, str]:
        """The prompt input the last record gives task *name* (none if it has none)."""
        before = self.before.get("tasks", {}).get(name, {}).get("inputs", {})
        return {"prompt": before["prompt"]} if "prompt" in before else {}

    def _template_set(self, task: RenderTask) -> int:
        names = {name for planned in task.files for name in self._templates_of(planned.template)}
        return self.template_sets.setdefault(tuple(sorted(names)), len(self.template_sets))

    def _templates_of(self, template: str) -> tuple[str, ...]:
        """*template* and those it pulls in, each recorded with its hash (once per build: a
        template edit's thousand tasks render the same few)."""
        names = self._pulled_in.get(template)
        if names is None:
            hashes = self.build.plan.renderer.template_hashes(template)
            self.templates.update((name, _trim(digest)) for name, digest in hashes)
            names = self._pulled_in[template] = tuple(name for name, _ in hashes)
        return names

    def _rule(self, rule: Any) -> None:
        if rule.name not in self.rules:
            from ..load.registry import registry

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
        fields = function.model_dump(exclude={"code", "implementation"})  # bytes: hashed as such
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
            fields = package.model_dump(exclude={"functions", "source"})
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
        from ..llm import sampling_options

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
    return _EffectiveInputs(record)(name)


class _EffectiveInputs:
    """``effective_inputs`` of the tasks of one record: what tasks share (the LLM settings, or
    the settings, a rule's inputs and a template set) is merged once for all that share it."""

    def __init__(self, record: Mapping[str, Any]):
        self.record = record
        self._shared: dict[tuple[str, str, int], dict[str, str]] = {}

    def __call__(self, name: str) -> dict[str, str]:
        record = self.record
        task = record["tasks"][name]
        kind = task["kind"]
        key = (kind, task.get("rule", ""), task["templates"]) if kind == "render" else (kind, "", 0)
        shared = self._shared.get(key)
        if shared is None:
            shared = self._shared[key] = self._shared_by(task)
        merged = dict(shared)
        if task.get("function"):
            merged.update(record["functions"].get(task["function"], {}))
            merged.pop(WHOLE, None)
        merged.update(task["inputs"])
        return merged

    def _shared_by(self, task: Mapping[str, Any]) -> dict[str, str]:
        record = self.record
        merged: dict[str, str] = {}
        if task["kind"] == "llm":
            merged.update(record["llm"])
        elif task["kind"] == "render":
            merged.update(record["settings"])
            merged.update(record["rules"].get(task.get("rule", ""), {}))
            for template in record["template_sets"][task["templates"]]:
                merged[f"template:{template}"] = record["templates"][template]
        return merged


def causes(
    previous: Mapping[str, Any] | None, current: Mapping[str, Any], name: str
) -> list[dict[str, Any]]:
    """Why task *name* of *current* ran, given the record of the build before."""
    old = _EffectiveInputs(previous) if previous is not None else None
    return _causes(previous, current, name, old, _EffectiveInputs(current))


def _causes(
    previous: Mapping[str, Any] | None,
    current: Mapping[str, Any],
    name: str,
    old_inputs: _EffectiveInputs | None,
    new_inputs: _EffectiveInputs,
) -> list[dict[str, Any]]:
    task = current["tasks"][name]
    if previous is None or old_inputs is None:
        return [_cause("first-build")]
    if name not in previous["tasks"]:
        return [_cause("new")]
    old, new = old_inputs(name), new_inputs(name)
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


_KIND_ORDER = {kind: index for index, kind in enumerate(KINDS)}


def _cause_order(component: str) -> tuple[int, str]:
    return (_KIND_ORDER.get(_kind(component), len(KINDS)), component)


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
