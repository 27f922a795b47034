"""From settings and specs to a plan: every file to render, grouped into keyed tasks.

A task's key is the content hash of exactly what it reads — its rule's name and version, the
texts of its templates (includes followed) and the context each template is given. Rules build
contexts from the normalized function alone (or the package facts they name), so editing one
function of a multi-function file leaves every other function's tasks up to date.
"""

from __future__ import annotations

import functools
import glob
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ..ask.remote import RemoteCache, show_warnings
from ..ask.step import LLMStep, Need, prompt_messages, request_key, resolve
from ..ask.store import ResponseCache
from ..base import manifest
from ..base.fsio import FileHasher, resolved
from ..base.hashing import HASH_FORMAT, content_hash
from ..base.lookup import LOCK_FILE, STATE_DIR, template_dirs
from ..base.render import Renderer
from ..errors import ApipackError, ConfigError, LLMError, Problem, SpecError
from ..llm import Provider, make_provider
from ..load import inputs
from ..load.registry import Registry, registry
from ..load.template_rules import registry_for
from ..rules import (
    FunctionRequest,
    Implementation,
    Language,
    Output,
    PackageRequest,
    Rule,
)
from ..rules import (
    Settings as RuleSettings,
)
from ..settings import Effective, Settings
from ..spec import PACKAGE_NAME, Function, Package, load_spec
from . import memo
from .memo import SpecYield
from .outdir import output_folder
from .retemplate import Retemplated, package_json, prompts, retemplated

SPEC_SUFFIXES = (".yml", ".yaml")
#: a language's check_code problem that gives its place in the code
_POSITION = re.compile(r"\d+:\d+: ")


@dataclass(frozen=True)
class PlannedFile:
    path: str  # relative to the output folder, POSIX form
    template: str
    context: Mapping[str, Any]
    finish: str = ""  # the filter the rendered text goes through (``rules.Output.finish``)
    #: a reused task's file, or one of a task planned again (``retemplate``) whose template
    #: did not change: the hash it held when planned (``memo`` checked it then), which is what
    #: rendering it would give
    recorded: str = ""
    #: a file of a task planned again (``retemplate``) whose template changed: the hash it held
    #: when planned (``memo`` checked it then), so rendering other bytes writes it unasked
    held: str = ""


@dataclass(frozen=True)
class Origin:
    """What a task's contexts were built from, so ``apipack explain`` can name what changed."""

    rule: Rule
    request: PackageRequest
    function: Function | None = None  # None for a package-level task
    implementation: Implementation | None = None
    need: Need | None = None  # when the LLM wrote the implementation


@dataclass(frozen=True)
class RenderTask:
    name: str  # e.g. "document-tools/python/rest/word_count"
    rule: str
    key: str
    files: tuple[PlannedFile, ...]
    #: LLM tasks this one waits for; then ``resolve`` gives the task with its real key and files
    after: tuple[str, ...] = ()
    resolve: Callable[[], RenderTask] | None = None
    origin: Origin | None = None
    #: taken from the last build's plan (``memo``): its files hold what its key makes, so it
    #: is neither rendered nor handed to doit, and its files carry no template or context
    reused: bool = False
    #: a reused task's templates, as the memo has them (``templates``)
    reads: tuple[str, ...] = ()

    @property
    def templates(self) -> tuple[str, ...]:
        """The templates its files render (includes not followed)."""
        return self.reads or tuple(sorted({f.template for f in self.files if f.template}))


@dataclass(frozen=True)
class PackageDir:
    path: str  # relative to the output folder
    ignore: tuple[str, ...]  # globs of tool-made files that are not "extra"


@dataclass(frozen=True)
class SpecPart:
    """What one spec file contributes to a plan, for ``memo``."""

    spec: str  # project-relative POSIX path
    hash: str  # of its bytes, as planned
    implementations: Mapping[str, str]  # the files it names -> their hashes, as planned
    packages: tuple[str, ...]
    tasks: tuple[str, ...]  # planned afresh: a reused one's are ``reused.tasks``
    folders: tuple[str, ...]
    templates: Mapping[str, str]  # the templates it read -> their hashes, as planned
    reused: SpecYield | None = None
    package: str = ""  # its normalized package's JSON (``retemplate.package_json``)
    #: planned for a template edit (``retemplate``): some of its tasks are reused
    retemplated: bool = False


@dataclass(frozen=True)
class SpecGroup:
    """The tasks and packages of one spec file of a plan (``memo.yield_key`` names them)."""

    spec: str
    tasks: tuple[str, ...]  # planned afresh
    packages: tuple[str, ...]  # planned afresh
    reused: SpecYield | None  # taken from the memo instead


@dataclass(frozen=True)
class Plan:
    effective: Effective
    output: Path
    tasks: tuple[RenderTask, ...]  # planned afresh: the reused ones are in ``parts``
    packages: tuple[PackageDir, ...]
    renderer: Renderer
    llm: LLMStep
    partial: bool  # only some of the project's specs (named on the command line)
    specs: tuple[Path, ...]  # the spec files read
    implementation_files: tuple[str, ...]  # hand-written logic they name (project-relative)
    parts: tuple[SpecPart, ...] = ()  # per spec file; empty when the plan is not remembered
    #: ``load.inputs.globals_keys`` (without the templates' texts) as planned; "" when not
    #: remembered
    globals_key: str = ""
    groups: tuple[SpecGroup, ...] = ()  # per spec file, whether remembered or not

    @property
    def reused(self) -> tuple[SpecYield, ...]:
        """What the spec files it took from the memo yielded: their tasks are not in ``tasks``."""
        return tuple(part.reused for part in self.parts if part.reused is not None)

    @property
    def reused_tasks(self) -> int:
        """Tasks taken from the memo: whole spec files', and those of spec files re-planned
        for a template edit that render no changed template."""
        return sum(found.counts[0] for found in self.reused) + sum(t.reused for t in self.tasks)

    @property
    def file_count(self) -> int:
        return sum(len(t.files) for t in self.tasks) + sum(y.counts[1] for y in self.reused)

    def every_task(self) -> tuple[RenderTask, ...]:
        """``tasks`` and, made from the memo, the reused ones (parses their memo lines)."""
        return self.tasks + tuple(task for found in self.reused for task in _stubs(found.tasks))

    @property
    def files(self) -> dict[str, tuple[RenderTask, PlannedFile]]:
        return {f.path: (task, f) for task in self.every_task() for f in task.files}


def spec_files(effective: Effective, explicit: Sequence[Path] = ()) -> list[Path]:
    """The spec files of this build: those named on the command line, else the project's globs."""
    if explicit:
        return sorted({p.resolve() for p in explicit})
    root = effective.root
    found: set[Path] = set()
    outside: list[Problem] = []
    for pattern in effective.settings.specs:
        matches = [
            match
            for match in sorted(glob.glob(pattern, root_dir=root, recursive=True))
            if Path(match).suffix in SPEC_SUFFIXES and (root / match).is_file()
        ]
        for match, path in zip(matches, resolved(root / match for match in matches), strict=True):
            if not path.is_relative_to(root):
                # never read, so never quoted in an error: it may be any file of the machine
                message = "a link to a file outside the project folder; not read"
                outside.append(Problem(Path(match).as_posix(), 1, 1, "", message))
                continue
            found.add(path)
    if outside:
        raise SpecError(outside)
    if not found:
        origin = effective.origins.get("specs", "default")
        raise ConfigError(
            f"no spec files match {', '.join(effective.settings.specs)} in "
            f"{root.name or root} (specs: {origin}); run `apipack init --name NAME`"
        )
    return sorted(found)


def gather(packages: list[Package], effective: Effective) -> Package:
    """``name:`` in the project file (the APIpack README's shape): one package of that name
    holding the functions of every spec, with their interfaces, languages and dependencies."""
    name = effective.settings.name
    origin = effective.origins.get("name", "settings")
    if not PACKAGE_NAME.match(name) or name.endswith(("-", "_")):
        raise ConfigError(
            f"{origin}: name: invalid package name '{name}': use lowercase letters, digits, '-' "
            f"and '_', starting with a letter"
        )
    seen: dict[str, str] = {}
    problems = []
    for package in packages:
        for function in package.functions:
            if function.name in seen:
                problems.append(
                    f"{package.source}: function '{function.name}' is also defined in "
                    f"{seen[function.name]}; package '{name}' ({origin}) gathers both"
                )
            seen.setdefault(function.name, package.source)
    if problems:
        raise ConfigError("\n".join(problems))

    def union(values: list[tuple[str, ...] | None]) -> tuple[str, ...] | None:
        given = [v for v in values if v is not None]
        return tuple(sorted({item for v in given for item in v})) if given else None

    dependencies: dict[str, set[str]] = {}
    for package in packages:
        for language, deps in package.dependencies.items():
            dependencies.setdefault(language, set()).update(deps)
    source = effective.project_file.name if effective.project_file else packages[0].source
    return Package(
        name=name,
        description="",
        version=packages[0].version,
        source=source,
        functions=tuple(f for p in packages for f in p.functions),
        interfaces=union([p.interfaces for p in packages]),
        languages=union([p.languages for p in packages]),
        dependencies={k: tuple(sorted(v)) for k, v in sorted(dependencies.items())},
    )


def load_packages(
    paths: Sequence[Path], root: Path, reg: Registry, settings: Settings | None = None
) -> list[Package]:
    """Load every spec; report the problems of all files at once."""
    packages, problems = [], []
    vocabulary = reg.vocabulary()
    limits = (
        {
            "max_bytes": settings.max_spec_bytes,
            "max_implementation_bytes": settings.max_implementation_bytes,
        }
        if settings is not None
        else {}
    )
    for path in paths:
        try:
            packages.append(load_spec(path, root, vocabulary, **limits))
        except SpecError as exc:
            problems.extend(exc.problems)
    if problems:
        raise SpecError(problems)
    return packages


@dataclass(frozen=True)
class Target:
    """One package built for one language."""

    package: Package
    language: str
    interfaces: tuple[str, ...]
    folder: str


@dataclass(frozen=True)
class _Inputs:
    """Everything read before deciding where LLM-written bodies come from."""

    registry: Registry
    specs: list[Path]
    targets: list[Target]
    renderer: Renderer
    implementations: Implementations
    needs: list[Need]
    sources: dict[str, str]  # a package's source -> its spec file, project-relative
    root: Path


def _read_inputs(
    effective: Effective,
    reg: Registry,
    specs: list[Path],
    renderer: Renderer | None = None,
    kept: Mapping[Path, Retemplated] | None = None,
) -> _Inputs:
    """*kept*: spec files of which only templates changed: their packages are not loaded, and
    only the implementations of their functions whose tasks are planned again are looked at."""
    root, kept = effective.root, kept or {}
    loaded = iter(load_packages([p for p in specs if p not in kept], root, reg, effective.settings))
    packages = [kept[path].package if path in kept else next(loaded) for path in specs]
    sources = {p.source: _relative(path, root) for path, p in zip(specs, packages, strict=True)}
    if effective.settings.name:
        packages = [gather(packages, effective)]
    targets = _build_targets(packages, effective, reg)
    renderer = renderer or _renderer(effective, reg)
    by_package = {item.package.name: item for item in kept.values()}
    found, needs = _implementations(targets, effective, reg, renderer, by_package)
    return _Inputs(reg, specs, targets, renderer, found, needs, sources, root)


def _renderer(effective: Effective, reg: Registry) -> Renderer:
    root = effective.root
    return Renderer(
        template_dirs(root, auto_discover=_auto(effective)),
        _all_filters(reg),
        root / STATE_DIR / "compiled",
    )


def _auto(effective: Effective) -> bool:
    return effective.settings.templates.auto_discover


def _relative(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix() if path.is_relative_to(root) else path.as_posix()


def llm_needs(effective: Effective) -> list[Need]:
    """Every function × language of the project whose body the LLM writes."""
    return _read_inputs(effective, registry_for(effective), spec_files(effective)).needs


def make_plan(
    effective: Effective,
    explicit_specs: Sequence[Path] = (),
    *,
    offline: bool | None = None,
    refresh: frozenset[str] = frozenset(),
    provider_factory: Callable[[], Provider] | None = None,
    hasher: FileHasher | None = None,
    incremental: bool = True,
    renderers: dict[str, Renderer] | None = None,
    tree: memo.KnownTree | None = None,
) -> Plan:
    """The plan of a build. Given the project's *hasher*, a build of the whole project reuses
    what ``memo`` remembers of each unchanged spec file and remembers what it plans.

    *renderers* is kept by a process that builds again and again (``apipack watch``): the
    renderer of the last build, by ``globals_keys``, whose compiled templates and template
    hashes stay valid while the settings, templates, rules and engine code are the same.

    *tree*: the generated tree as the last build took it, so that the outputs of package
    folders that still look as then are not hashed again (``memo.reusable``)."""
    root = effective.root
    settings = effective.settings
    output = output_folder(effective)  # before reading specs: it may be where they are
    offline = settings.offline if offline is None else offline
    factory = provider_factory or (lambda: make_provider(settings.llm))
    reg = registry_for(effective)
    specs = spec_files(effective, explicit_specs)
    remembered = hasher is not None and not explicit_specs and not settings.name
    view = inputs.SettingsView.of(effective)
    globals_key = renderer_key = ""
    if hasher is not None and (remembered or renderers is not None):
        without_texts, with_texts = inputs.globals_keys(view, hasher)
        globals_key = without_texts if remembered else ""
        # a kept renderer's templates are valid while no template changed either
        renderer_key = with_texts if renderers is not None else ""
    renderer = (renderers or {}).get(renderer_key) or _renderer(effective, reg)
    reused: dict[str, SpecYield] = {}
    kept: dict[str, Retemplated] = {}  # only templates changed: the cheap path
    reuse = incremental and not refresh and settings.templates.cache_enabled
    if hasher is not None and remembered and reuse:
        reused, kept = _reusable(
            effective, specs, output, hasher, globals_key, offline, factory, renderer, tree
        )
    fresh = [path for path in specs if _relative(path, root) not in reused]
    known = {path: kept[rel] for path in fresh if (rel := _relative(path, root)) in kept}
    read = _read_inputs(effective, reg, fresh, renderer, known)
    if any(t.folder in {f for y in reused.values() for f, _ in y.folders} for t in read.targets):
        # a clash: the full plan says
        reused, kept = {}, {}
        read = _read_inputs(effective, reg, specs, renderer)
    if renderers is not None and renderer_key:
        renderers.clear()  # only the current inputs' renderer is worth keeping
        renderers[renderer_key] = renderer
    renderer, needs = read.renderer, read.needs
    llm = LLMStep(
        settings.llm,
        ResponseCache(root / settings.cache_dir),
        root / LOCK_FILE,
        factory,
        RemoteCache(settings.llm.remote_cache) if settings.llm.remote_cache else None,
    )
    try:
        llm.resolution = resolve(
            needs,
            settings=settings.llm,
            cache=llm.cache,
            lock_path=llm.lock_path,
            languages=reg.languages,
            offline=offline,
            refresh=refresh,
            provider_factory=llm.provider,
            remote=llm.remote,
        )
    finally:
        if llm.remote is not None:
            show_warnings(llm.remote.take_warnings())
    llm.needs, llm.languages = needs, reg.languages
    asked = {(need.package, need.function.name, need.language) for need in needs}
    llm.kept = {
        _ident(entry): dict(entry)
        for y in [*reused.values(), *(item.found for item in kept.values())]
        for entry in y.lock
        if _ident(entry) not in asked
    }
    if not offline and not llm.resolution.digest and any(i.found.lock for i in kept.values()):
        # a full plan would ask the model for these bodies' digest: ``_reusable`` found it so
        llm.resolution.digest = llm.digest
    rule_settings = RuleSettings(
        deployment=settings.deployment.model_dump(),
        output=settings.output_options.model_dump(),
    )
    planned: dict[str, list[RenderTask]] = {}
    for target in read.targets:
        request = PackageRequest(target.package, target.language, target.interfaces, rule_settings)
        rel = read.sources.get(target.package.source, "")
        spec_tasks = planned.setdefault(rel, [])
        only = kept[rel].tasks if rel in kept else None
        for rule in reg.rules_for(target.language, target.interfaces):
            spec_tasks.extend(
                _rule_tasks(rule, request, target.folder, renderer, read.implementations, llm, only)
            )
    tasks: list[RenderTask] = []
    parts: list[SpecPart] = []
    groups: list[SpecGroup] = []
    packages_of: dict[str, set[str]] = {}
    for target in read.targets:
        packages_of.setdefault(read.sources.get(target.package.source, ""), set()).add(
            target.package.name
        )
    for path in specs:
        rel = _relative(path, root)
        found = reused.get(rel)
        if found is not None:
            part_tasks = []  # reused: in ``parts``
        elif rel in kept:
            part_tasks = _retemplated_tasks(kept[rel], planned.pop(rel, []))
        else:
            part_tasks = planned.pop(rel, [])
        tasks.extend(part_tasks)
        names = tuple(task.name for task in part_tasks)
        groups.append(SpecGroup(rel, names, tuple(sorted(packages_of.get(rel, ()))), found))
        if hasher is not None:
            parts.append(_part(rel, found, part_tasks, read, hasher, kept.get(rel)))
    tasks.extend(task for rest in planned.values() for task in rest)  # a gathered package
    _check_unique_paths(tasks)
    dirs = [PackageDir(t.folder, reg.languages[t.language].ignore) for t in read.targets]
    dirs.extend(PackageDir(f, ignore) for y in reused.values() for f, ignore in y.folders)
    implementation_files = {
        rel
        for target in read.targets
        for function in target.package.functions
        for rel in function.implementation.values()
    }
    implementation_files.update(rel for y in reused.values() for rel in y.implementations)
    return Plan(
        effective,
        output,
        tuple(tasks),
        tuple(sorted(dirs, key=lambda d: d.path)),
        renderer,
        llm,
        bool(explicit_specs),
        tuple(specs),
        tuple(sorted(implementation_files)),
        tuple(parts) if remembered else (),
        globals_key,
        tuple(groups),
    )


def _reusable(
    effective: Effective,
    specs: list[Path],
    output: Path,
    hasher: FileHasher,
    globals_key: str,
    offline: bool,
    factory: Callable[[], Provider],
    renderer: Renderer,
    tree: memo.KnownTree | None,
) -> tuple[dict[str, SpecYield], dict[str, Retemplated]]:
    """What the last build remembers of the unchanged spec files, and of those of which only
    templates changed (``retemplate``); online, only if the model still has the digest their
    LLM-written bodies were keyed on."""
    root = effective.root
    last = memo.read(root / STATE_DIR / memo.MEMO_FILE)
    named = [(_relative(path, root), path) for path in specs]
    lock, output_id = hasher.hash(root / LOCK_FILE) or "-", manifest.output_id(output, root)

    @functools.cache  # asked of each spec file's templates: the same few names, 400 times
    def template_hash(name: str) -> str | None:
        return _template_hash(renderer, name)

    def remembered(templates: bool, specs: list[tuple[str, Path]]) -> dict[str, SpecYield]:
        return memo.reusable(
            last,
            globals_key=globals_key,
            lock=lock,
            output_id=output_id,
            specs=specs,
            hasher=hasher,
            root=root,
            output=output,
            template_hash=template_hash,
            tree=tree,
            templates=templates,
        )

    found = remembered(True, named)
    # of the others, those of which only templates changed: the cheap path
    candidates = remembered(False, [(rel, path) for rel, path in named if rel not in found])
    kept = retemplated(candidates, renderer, root / STATE_DIR)
    yields = [*found.values(), *(item.found for item in kept.values())]
    digests = {str(entry.get("digest")) for y in yields for entry in y.lock}
    if digests and not offline:
        # online, a body is reused only if it was keyed on the digest the model has now
        provider = factory()
        try:
            same = digests == {provider.model_digest()}
        except LLMError:
            same = False  # unreachable: the full plan says what to do
        finally:
            provider.close()
        if not same:
            return {}, {}
    return found, kept


def _template_hash(renderer: Renderer, name: str) -> str | None:
    """The hash of template *name*'s text as this build finds it; None if it cannot be read."""
    try:
        return dict(renderer.template_hashes(name)).get(name)
    except (ApipackError, OSError, ValueError):
        return None


def _ident(entry: Mapping[str, Any]) -> tuple[str, str, str]:
    return (str(entry["package"]), str(entry["function"]), str(entry["language"]))


def _stubs(tasks: Sequence[memo.MemoTask]) -> list[RenderTask]:
    return [
        RenderTask(
            task.name,
            task.rule,
            task.key,
            tuple(
                PlannedFile(path, "", {}, recorded=task.files[path]) for path in sorted(task.files)
            ),
            reused=True,
            reads=task.templates,
        )
        for task in tasks
    ]


def _retemplated_tasks(item: Retemplated, planned: list[RenderTask]) -> list[RenderTask]:
    """A spec file's tasks in the memo's order: those planned again (each file with the hash it
    holds, as recorded if its template did not change, as held if it did), the others reused."""
    again = {task.name: task for task in planned}
    tasks = []
    for memo_task in item.found.tasks:
        task = again.pop(memo_task.name, None)
        if task is None:
            tasks.extend(_stubs([memo_task]))
            continue
        files = tuple(
            replace(f, held=memo_task.files.get(f.path, ""))
            if f.template in item.stale
            else replace(f, recorded=memo_task.files.get(f.path, ""))
            for f in task.files
        )
        tasks.append(replace(task, files=files))
    return tasks + list(again.values())


def _part(
    rel: str,
    found: SpecYield | None,
    tasks: list[RenderTask],
    read: _Inputs,
    hasher: FileHasher,
    kept: Retemplated | None = None,
) -> SpecPart:
    names = tuple(task.name for task in tasks)
    if found is not None:
        return SpecPart(rel, found.hash, found.implementations, (), (), (), {}, found)
    root = read.root
    targets = [t for t in read.targets if read.sources.get(t.package.source) == rel]
    packages = {t.package.name for t in targets}
    # what its tasks render, and the prompt of each language the LLM writes bodies in
    used = {name for task in tasks for name in task.templates}
    if kept is not None:  # only some of its functions' implementations were looked at
        used |= prompts(kept.found)
    else:
        used |= {f"prompts/{need.language}.j2" for need in read.needs if need.package in packages}
    templates = dict(pair for name in used for pair in read.renderer.template_hashes(name))
    if kept is not None:  # the same spec and implementation files as recorded
        spec_hash, implementations = kept.found.hash, kept.found.implementations
        package = kept.package_json
    else:
        named = {r for t in targets for f in t.package.functions for r in f.implementation.values()}
        spec_hash = hasher.hash(root / rel) or "-"
        implementations = {r: hasher.hash(root / r) or "-" for r in sorted(named)}
        package = package_json(targets[0].package) if targets else ""
    return SpecPart(
        rel,
        spec_hash,
        implementations,
        tuple(sorted(packages)),
        names,
        tuple(t.folder for t in targets),
        dict(sorted(templates.items())),
        package=package,
        retemplated=kept is not None,
    )


def _build_targets(packages: list[Package], effective: Effective, reg: Registry) -> list[Target]:
    targets: list[Target] = []
    problems: list[Problem] = []
    unsupported: list[str] = []
    owners: dict[str, str] = {}
    for package in packages:
        for language in _targets(package, effective, "languages"):
            interfaces = _targets(package, effective, "interfaces")
            offered = reg.interfaces_of(language)
            absent = [i for i in interfaces if i not in offered]
            if absent:
                message = (
                    f"language '{language}' has no rule for interface(s) "
                    f"{', '.join(absent)} (available: {', '.join(offered) or 'none yet'})"
                )
                if package.interfaces is not None and not _from_command_line(
                    effective, "interfaces"
                ):
                    line, col = package.marks.get("interfaces", (1, 1))
                    problems.append(Problem(package.source, line, col, "interfaces", message))
                else:
                    origin = effective.origins.get("interfaces", "settings")
                    unsupported.append(f"{package.source}: {message} (interfaces: {origin})")
                continue
            folder = f"{language}/{package.name}"
            if folder in owners:
                problems.append(
                    Problem(
                        package.source,
                        1,
                        1,
                        "project.name",
                        f"package '{package.name}' is also built from "
                        f"{owners[folder]}: both would write {folder}/",
                    )
                )
                continue
            owners[folder] = package.source
            targets.append(Target(package, language, interfaces, folder))
    if problems:
        raise SpecError(problems)
    if unsupported:
        raise ConfigError("\n".join(unsupported))
    return targets


Implementations = dict[tuple[str, str, str], "Implementation | Need"]


def _implementations(
    targets: list[Target],
    effective: Effective,
    reg: Registry,
    renderer: Renderer,
    kept: Mapping[str, Retemplated] | None = None,
) -> tuple[Implementations, list[Need]]:
    """Each function's logic per language: hand-written (checked now) or an LLM need. A
    hand-written one that fails its language's check is an error, or with
    ``templates.validation_level: warn`` a warning. *kept*: packages of which only templates
    changed, by name: only the functions of their tasks planned again are looked at, and a
    body the LLM wrote is the lock's (its prompt did not change), asked of nobody."""
    root, llm_settings = effective.root, effective.settings.llm
    found: Implementations = {}
    needs: list[Need] = []
    errors: list[str] = []
    for target in targets:
        language = reg.languages[target.language]
        item = (kept or {}).get(target.package.name)
        for function in target.package.functions:
            ident = (target.package.name, function.name, target.language)
            if item is not None and ident not in item.functions:
                continue
            if not language.needs_code:
                found[ident] = Implementation("none", "")
                continue
            impl = _given_implementation(function, language, root)
            if impl is None and item is not None and ident in item.bodies:
                found[ident] = Implementation("llm", item.bodies[ident])
                continue
            if impl is None:
                messages = prompt_messages(renderer, target.package, function, target.language)
                need = Need(
                    target.package.name,
                    function,
                    target.language,
                    messages,
                    request_key(llm_settings, messages),
                )
                needs.append(need)
                found[ident] = need
                continue
            problem = language.check_code(impl.source, function) if language.check_code else None
            if problem:
                # a problem at "line:col: ..." follows the file's path as path:line:col
                at = f"{impl.path}:" if impl.path and _POSITION.match(problem) else ""
                where = impl.path or "its inline code"
                errors.append(
                    f"{target.package.source}: function '{function.name}' "
                    f"({target.language}): {at or where + ': '}{problem}"
                )
            found[ident] = impl
    if errors and effective.settings.templates.validation_level == "warn":
        for error in errors:
            print(f"apipack: warning: {error} (templates.validation_level: warn)", file=sys.stderr)
    elif errors:
        raise ConfigError("\n".join(errors))
    return found, needs


def _all_filters(reg: Registry) -> dict[str, Any]:
    filters: dict[str, Any] = {}
    owners: dict[str, str] = {}
    for name in sorted(reg.languages):
        for filter_name, function in reg.languages[name].filters.items():
            if filters.get(filter_name, function) is not function:
                raise ConfigError(
                    f"template filter '{filter_name}' is defined by languages "
                    f"'{owners[filter_name]}' and '{name}'; templates share one set of filters, "
                    f"so one of them must be renamed"
                )
            filters[filter_name] = function
            owners[filter_name] = name
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


def _given_implementation(
    function: Function, language: Language, root: Path
) -> Implementation | None:
    """The function's own code in *language* (or for every language), else code in a language
    *language* derives its own from, converted."""
    for key in (language.name, "*"):
        if key in function.code:
            return Implementation("code", function.code[key])
        if key in function.implementation:
            rel = function.implementation[key]
            return Implementation("file", (root / rel).read_text(encoding="utf-8"), rel)
    for other, convert in sorted(language.derive.items()):
        if other in function.code or other in function.implementation:
            found = _given_implementation(function, replace(language, name=other, derive={}), root)
            assert found is not None
            try:
                return replace(found, source=convert(found.source))
            except ValueError:  # it does not parse: as it is, the check says where
                return found
    return None


def _rule_tasks(
    rule: Rule,
    request: PackageRequest,
    folder: str,
    renderer: Renderer,
    implementations: Implementations,
    llm: LLMStep,
    only: frozenset[str] | None = None,
) -> list[RenderTask]:
    """The tasks of *rule* for *request*'s package (*only*: those of these names)."""
    package, language = request.package, request.language
    base = f"{package.name}/{language}/{rule.interface or 'core'}"
    tasks = []
    if rule.package_outputs is not None and (only is None or f"{base}/_package" in only):
        outputs = rule.package_outputs(request)
        tasks.append(
            _task(f"{base}/_package", rule, outputs, folder, renderer, Origin(rule, request))
        )
    for function in package.functions if rule.function_outputs is not None else ():
        name = f"{base}/{function.name}"
        if only is not None and name not in only:
            continue
        impl = implementations[(package.name, function.name, language)]
        need = impl if isinstance(impl, Need) else None
        if need is not None:
            answer = llm.resolution.answers.get((package.name, function.name, language))
            if answer is None:  # the model answers during the build: render after it
                tasks.append(_deferred(name, rule, request, function, need, folder, renderer, llm))
                continue
            impl = Implementation("llm", answer.code)
        assert isinstance(impl, Implementation)
        outputs = rule.function_outputs(  # type: ignore[misc]
            FunctionRequest(package, function, language, impl, request.settings)
        )
        origin = Origin(rule, request, function, impl, need)
        tasks.append(_task(name, rule, outputs, folder, renderer, origin))
    return [t for t in tasks if t.files]


def _deferred(
    name: str,
    rule: Rule,
    request: PackageRequest,
    function: Function,
    need: Need,
    folder: str,
    renderer: Renderer,
    llm: LLMStep,
) -> RenderTask:
    """A task whose inputs include a reply not yet received; its key is known once it is."""
    assert rule.function_outputs is not None
    outputs_of = rule.function_outputs

    def outputs(source: str) -> Sequence[Output]:
        impl = Implementation("llm", source)
        return outputs_of(
            FunctionRequest(request.package, function, request.language, impl, request.settings)
        )

    def resolve_now() -> RenderTask:
        code = llm.answer_for(need).code
        origin = Origin(rule, request, function, Implementation("llm", code), need)
        return _task(name, rule, outputs(code), folder, renderer, origin)

    placeholder = _task(name, rule, outputs(""), folder, renderer)
    return RenderTask(
        name, rule.name, "", placeholder.files, after=(llm.wait_name(need),), resolve=resolve_now
    )


def _task(
    name: str,
    rule: Rule,
    outputs: Sequence[Output],
    folder: str,
    renderer: Renderer,
    origin: Origin | None = None,
) -> RenderTask:
    for output in outputs:
        if unsafe_output_path(output.path):
            raise ConfigError(f"rule '{rule.name}' returned an unsafe output path '{output.path}'")
    files = tuple(
        PlannedFile(f"{folder}/{o.path}", o.template, dict(o.context), o.finish)
        for o in sorted(outputs, key=lambda o: o.path)
    )
    key = content_hash(
        {
            "format": HASH_FORMAT,
            "rule": rule.name,
            "version": rule.version,
            "code": registry().code_hash(rule),
            "files": [
                {
                    "path": f.path,
                    "template": f.template,
                    "templates": renderer.template_hashes(f.template),
                    "context": f.context,
                    **({"finish": f.finish} if f.finish else {}),
                }
                for f in files
            ],
        }
    )
    return RenderTask(name, rule.name, key, files, origin=origin)


def unsafe_output_path(path: str) -> bool:
    """Whether a rule's output *path* could land outside its package folder or names no file:
    absolute, climbing (a ``..`` part), nothing once empty and ``.`` parts are dropped, or with
    a backslash. What ``PurePosixPath`` says of it, read off the string: a template edit checks
    thousands, and a path object costs a parse each."""
    parts = path.split("/")
    return (
        path.startswith("/")
        or "\\" in path
        or ".." in parts
        or all(part in ("", ".") for part in parts)
    )


def _check_unique_paths(tasks: Sequence[RenderTask]) -> None:
    seen: dict[str, str] = {}
    for task in tasks:
        for f in task.files:
            if f.path in seen:
                raise ConfigError(
                    f"two tasks write {f.path}: {seen[f.path]} and {task.name} "
                    f"(a rule returns duplicate output paths)"
                )
            seen[f.path] = task.name
