"""Interfaces made of templates alone: a folder with a ``template.yml`` in the project's
``templates/`` or in ``~/.apipack/templates/`` (the APIpack README's custom templates)::

    name: my-interface
    category: interface
    language: python
    description: Custom interface template
    files:
      - src: server.py.j2                     # beside template.yml
        dest: "{{ interface_type }}/server.py"  # per package...
      - src: handler.py.j2
        dest: "handlers/{{ function.name }}.py" # ...or per function, when dest names it

Each becomes a :class:`~apipack_build.rules.Rule` for that language and interface, keyed like
every rule (its templates' texts, their context, and ``template.yml`` itself as its version).
Templates get ``interface_type``, ``language``, ``package`` (name, description, version,
source, functions) and, per function, ``function``.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import jinja2
import jinja2.meta
from pydantic import BaseModel, ConfigDict, Field
from pydantic_core import to_jsonable_python

from ..base.hashing import bytes_hash
from ..base.lookup import template_dirs
from ..errors import ConfigError, Problem, SpecError
from ..rules import FunctionRequest, Output, PackageRequest, Rule
from ..settings import Effective
from .registry import Registry, registry
from .validation import validate_model
from .yamlsrc import load_located

SPEC_FILE = "template.yml"
#: template folders that may define interfaces: those a user writes
DISCOVERED = ("project", "user")


class TemplateFile(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    src: str = Field(description="a template, relative to the folder of template.yml")
    dest: str = Field(description="the output path in the package; a Jinja string")


class TemplateInterface(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    name: str
    category: Literal["interface"]
    language: str
    description: str = ""
    files: list[TemplateFile] = Field(min_length=1)


@dataclass(frozen=True)
class Found:
    origin: str
    shown: str  # the template.yml as messages name it
    folder: str  # its folder's name: the prefix of its templates' names
    spec: TemplateInterface
    digest: str


_DEST = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False)


def _shown(path: Path, origin: str, root: Path) -> str:
    if origin == "project":
        return path.relative_to(root).as_posix()
    return f"~/.apipack/templates/{path.parent.name}/{SPEC_FILE}"


def discover(effective: Effective) -> list[Found]:
    """Every ``template.yml`` of the project's and the user's template folders (a project's
    folder shadows a user's of the same name); problems of all of them at once."""
    dirs = template_dirs(effective.root, auto_discover=effective.settings.templates.auto_discover)
    found: dict[str, Found] = {}
    problems: list[Problem] = []
    for origin, folder in dirs:
        if origin not in DISCOVERED:
            continue
        for path in sorted(folder.glob(f"*/{SPEC_FILE}")):
            if path.parent.name in found:
                continue
            shown = _shown(path, origin, effective.root)
            text = path.read_text(encoding="utf-8")
            located = load_located(text, shown)
            spec, errors = validate_model(TemplateInterface, located, located.data or {})
            problems += errors
            for index, item in enumerate(spec.files if spec else []):
                if not (path.parent / item.src).is_file():
                    problems.append(
                        located.problem(("files", index, "src"), f"no template '{item.src}' here")
                    )
                try:
                    _DEST.parse(item.dest)
                except jinja2.TemplateSyntaxError as exc:
                    problems.append(located.problem(("files", index, "dest"), exc.message or ""))
            if spec is not None:
                found[path.parent.name] = Found(
                    origin, shown, path.parent.name, spec, bytes_hash(text.encode())
                )
    if problems:
        raise SpecError(problems)
    return [found[name] for name in sorted(found)]


def _per_function(dest: str) -> bool:
    return "function" in jinja2.meta.find_undeclared_variables(_DEST.parse(dest))


def _function(function: Any) -> dict[str, Any]:
    """A function as plain JSON values; bytes (an example's image) as base64 text, as the JSON
    interfaces carry them: pydantic's JSON mode reads bytes as UTF-8 and fails on any other."""
    plain = function.model_dump(exclude={"code", "implementation"})
    data: dict[str, Any] = json.loads(json.dumps(plain, default=_base64))
    return data


def _base64(value: Any) -> Any:
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    return to_jsonable_python(value)


def _package_context(request: PackageRequest | FunctionRequest, found: Found) -> dict[str, Any]:
    package = request.package
    return {
        "interface_type": found.spec.name,
        "language": request.language,
        "package": {
            "name": package.name,
            "description": package.description,
            "version": package.version,
            "source": package.source,
            "functions": [_function(f) for f in package.functions],
        },
    }


def _dest(found: Found, dest: str, context: dict[str, Any]) -> str:
    try:
        return _DEST.from_string(dest).render(context)
    except jinja2.TemplateError as exc:
        raise ConfigError(f"{found.shown}: dest '{dest}': {exc}") from None


def _rule(found: Found) -> Rule:
    per_function = [f for f in found.spec.files if _per_function(f.dest)]
    per_package = [f for f in found.spec.files if not _per_function(f.dest)]

    def package_outputs(request: PackageRequest) -> list[Output]:
        context = _package_context(request, found)
        return [
            Output(_dest(found, f.dest, context), f"{found.folder}/{f.src}", context)
            for f in per_package
        ]

    def function_outputs(request: FunctionRequest) -> list[Output]:
        context = {**_package_context(request, found), "function": _function(request.function)}
        context["package"] = {k: v for k, v in context["package"].items() if k != "functions"}
        return [
            Output(_dest(found, f.dest, context), f"{found.folder}/{f.src}", context)
            for f in per_function
        ]

    outputs: dict[str, Callable[..., list[Output]] | None] = {
        "package_outputs": package_outputs if per_package else None,
        "function_outputs": function_outputs if per_function else None,
    }
    return Rule(
        name=f"templates.{found.spec.name}.{found.spec.language}",
        language=found.spec.language,
        interface=found.spec.name,
        version=found.digest,
        **outputs,
    )


def registry_for(effective: Effective) -> Registry:
    """The installed rules plus the template-only interfaces this project sees."""
    base = registry()
    found = discover(effective)
    taken = {(r.language, r.interface) for r in base.rules}
    errors = []
    for item in found:
        if item.spec.language not in base.languages:
            known = ", ".join(sorted(base.languages))
            errors.append(
                f"{item.shown}: language: unknown language '{item.spec.language}'; known: {known}"
            )
        elif (item.spec.language, item.spec.name) in taken:
            errors.append(
                f"{item.shown}: name: interface '{item.spec.name}' already exists "
                f"for {item.spec.language}; choose another name"
            )
    if errors:
        raise ConfigError("\n".join(errors))
    if not found:
        return base
    rules = sorted([*base.rules, *map(_rule, found)], key=lambda r: r.name)
    return Registry(base.languages, tuple(rules))
