"""From settings and specs to a plan: every file to render, grouped into keyed tasks.

A task's key is the content hash of exactly what it reads — its rule's name and version, the
texts of its templates (includes followed) and the context each template is given. Rules build
contexts from the normalized function alone (or the package facts they name), so editing one
function of a multi-function file leaves every other function's tasks up to date.
"""

from __future__ import annotations

import glob
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from ._hashing import HASH_FORMAT, content_hash
from ._registry import Registry, registry
from ._render import Renderer, template_dirs
from .errors import ConfigError, LLMError, Problem, SpecError
from .rules import (
    FunctionRequest,
    Implementation,
    Output,
    PackageRequest,
    Rule,
)
from .rules import (
    Settings as RuleSettings,
)
from .settings import Effective
from .spec import Function, Package, load_spec

SPEC_SUFFIXES = (".yml", ".yaml")


@dataclass(frozen=True)
class PlannedFile:
    path: str  # relative to the output folder, POSIX form
    template: str
    context: Mapping[str, Any]


@dataclass(frozen=True)
class RenderTask:
    name: str  # e.g. "document-tools/python/rest/word_count"
    rule: str
    key: str
    files: tuple[PlannedFile, ...]


@dataclass(frozen=True)
class PackageDir:
    path: str  # relative to the output folder
    ignore: tuple[str, ...]  # globs of tool-made files that are not "extra"


@dataclass(frozen=True)
class Plan:
    effective: Effective
    output: Path
    tasks: tuple[RenderTask, ...]
    packages: tuple[PackageDir, ...]
    renderer: Renderer

    @property
    def files(self) -> dict[str, tuple[RenderTask, PlannedFile]]:
        return {f.path: (task, f) for task in self.tasks for f in task.files}


def spec_files(effective: Effective, explicit: Sequence[Path] = ()) -> list[Path]:
    """The spec files of this build: those named on the command line, else the project's globs."""
    if explicit:
        return sorted({p.resolve() for p in explicit})
    root = effective.root
    found: set[Path] = set()
    for pattern in effective.settings.specs:
        matches = [Path(m) for m in glob.glob(pattern, root_dir=root, recursive=True)]
        found.update((root / m).resolve() for m in matches
                     if m.suffix in SPEC_SUFFIXES and (root / m).is_file())
    if not found:
        origin = effective.origins.get("specs", "default")
        raise ConfigError(f"no spec files match {', '.join(effective.settings.specs)} in "
                          f"{root.name or root} (specs: {origin}); run `apipack init --name NAME`")
    return sorted(found)


def load_packages(paths: Sequence[Path], root: Path, reg: Registry) -> list[Package]:
    """Load every spec; report the problems of all files at once."""
    packages, problems = [], []
    vocabulary = reg.vocabulary()
    for path in paths:
        try:
            packages.append(load_spec(path, root, vocabulary))
        except SpecError as exc:
            problems.extend(exc.problems)
    if problems:
        raise SpecError(problems)
    return packages


def make_plan(effective: Effective, explicit_specs: Sequence[Path] = ()) -> Plan:
    reg = registry()
    root = effective.root
    settings = effective.settings
    output = (root / settings.output).resolve()
    packages = load_packages(spec_files(effective, explicit_specs), root, reg)
    renderer = Renderer(template_dirs(root), _all_filters(reg))
    rule_settings = RuleSettings(deployment=settings.deployment.model_dump())
    tasks: list[RenderTask] = []
    dirs: list[PackageDir] = []
    problems: list[Problem] = []
    unsupported: list[str] = []
    missing: list[str] = []
    owners: dict[str, str] = {}
    for package in packages:
        for language in _targets(package, effective, "languages"):
            interfaces = _targets(package, effective, "interfaces")
            offered = reg.interfaces_of(language)
            absent = [i for i in interfaces if i not in offered]
            if absent:
                message = (f"language '{language}' has no rule for interface(s) "
                           f"{', '.join(absent)} (available: {', '.join(offered) or 'none yet'})")
                if package.interfaces is not None and not _from_command_line(effective, "interfaces"):
                    line, col = package.marks.get("interfaces", (1, 1))
                    problems.append(Problem(package.source, line, col, "interfaces", message))
                else:
                    origin = effective.origins.get("interfaces", "settings")
                    unsupported.append(f"{package.source}: {message} (interfaces: {origin})")
                continue
            folder = f"{language}/{package.name}"
            if folder in owners:
                problems.append(Problem(package.source, 1, 1, "project.name",
                                        f"package '{package.name}' is also built from "
                                        f"{owners[folder]}: both would write {folder}/"))
                continue
            owners[folder] = package.source
            dirs.append(PackageDir(folder, reg.languages[language].ignore))
            request = PackageRequest(package, language, interfaces, rule_settings)
            for rule in reg.rules_for(language, interfaces):
                tasks.extend(_rule_tasks(rule, request, folder, renderer, root, missing))
    if problems:
        raise SpecError(problems)
    if unsupported:
        raise ConfigError("\n".join(unsupported))
    if missing:
        raise LLMError("no implementation for:\n  " + "\n  ".join(missing) +
                       "\ngive each function `code:` or `implementation:` in its spec "
                       "(LLM generation of function bodies is not part of this version yet)")
    _check_unique_paths(tasks)
    return Plan(effective, output, tuple(tasks), tuple(dirs), renderer)


def _all_filters(reg: Registry) -> dict[str, Any]:
    filters: dict[str, Any] = {}
    for name in sorted(reg.languages):
        for filter_name, function in reg.languages[name].filters.items():
            if filters.get(filter_name, function) is not function:
                raise ConfigError(f"template filter '{filter_name}' is defined by two languages")
            filters[filter_name] = function
    return filters


def _from_command_line(effective: Effective, field: str) -> bool:
    return effective.origins.get(field) == "command line"


def _targets(package: Package, effective: Effective, field: str) -> tuple[str, ...]:
    """Command line beats the spec, which beats project and user settings."""
    from_settings = tuple(sorted(set(getattr(effective.settings, field))))
    own = getattr(package, field)
    if own is None or _from_command_line(effective, field):
        return from_settings
    return tuple(own)


def _implementation(function: Function, language: str, root: Path) -> Implementation | None:
    for key in (language, "*"):
        if key in function.code:
            return Implementation("code", function.code[key])
        if key in function.implementation:
            rel = function.implementation[key]
            return Implementation("file", (root / rel).read_text(encoding="utf-8"), rel)
    return None


def _rule_tasks(rule: Rule, request: PackageRequest, folder: str, renderer: Renderer,
                root: Path, missing: list[str]) -> list[RenderTask]:
    package, language = request.package, request.language
    scope = rule.interface or "core"
    base = f"{package.name}/{language}/{scope}"
    tasks = []
    if rule.package_outputs is not None:
        outputs = rule.package_outputs(request)
        tasks.append(_task(f"{base}/_package", rule, outputs, folder, renderer))
    if rule.function_outputs is not None:
        for function in package.functions:
            impl = _implementation(function, language, root)
            if impl is None:
                missing.append(f"{package.source}: function '{function.name}' ({language})")
                continue
            outputs = rule.function_outputs(
                FunctionRequest(package, function, language, impl, request.settings))
            tasks.append(_task(f"{base}/{function.name}", rule, outputs, folder, renderer))
    return [t for t in tasks if t.files]


def _task(name: str, rule: Rule, outputs: Sequence[Output], folder: str,
          renderer: Renderer) -> RenderTask:
    for output in outputs:
        pure = PurePosixPath(output.path)
        if pure.is_absolute() or ".." in pure.parts or not pure.parts or "\\" in output.path:
            raise ConfigError(f"rule '{rule.name}' returned an unsafe output path '{output.path}'")
    files = tuple(PlannedFile(f"{folder}/{o.path}", o.template, dict(o.context))
                  for o in sorted(outputs, key=lambda o: o.path))
    key = content_hash({
        "format": HASH_FORMAT,
        "rule": rule.name,
        "version": rule.version,
        "files": [{"path": f.path, "template": f.template,
                   "templates": renderer.template_hashes(f.template), "context": f.context}
                  for f in files],
    })
    return RenderTask(name, rule.name, key, files)


def _check_unique_paths(tasks: Sequence[RenderTask]) -> None:
    seen: dict[str, str] = {}
    for task in tasks:
        for f in task.files:
            if f.path in seen:
                raise ConfigError(f"two tasks write {f.path}: {seen[f.path]} and {task.name} "
                                  f"(a rule returns duplicate output paths)")
            seen[f.path] = task.name
