"""The cheap path of a spec file of which only templates changed.

When a spec file, its implementation files and its outputs are as the last build recorded them
(``memo``) but a template it reads changed, its normalized package is taken from the memo (no
YAML parsed, nothing checked again: the same bytes gave it) and only the tasks that render a
changed template, includes followed, are keyed and rendered again; every other task of it is
reused as the memo has it, and doit is not told of it. A task's key is a content hash of its
rule, its files' contexts and its templates' texts, so a task none of whose templates changed
keeps its key. A change to the prompt of a language the spec's functions are written in by the
LLM takes the full path: every body's request key changes with it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from ..base.render import Renderer
from ..errors import ApipackError
from ..spec import Package
from .memo import Ident, SpecYield, kept_package


@dataclass(frozen=True)
class Retemplated:
    """A spec file of which only templates changed, and what of it to plan again."""

    found: SpecYield  # what the last build remembers of it
    package: Package
    package_json: str  # as kept (``memo.kept_package``)
    tasks: frozenset[str]  # the names of the tasks that render a changed template
    stale: frozenset[str]  # the templates its tasks render that changed, includes followed

    @cached_property
    def bodies(self) -> dict[Ident, str]:
        """Its LLM-written bodies, as the lock has them."""
        return {
            (str(e["package"]), str(e["function"]), str(e["language"])): str(e["code"])
            for e in self.found.lock
        }

    @cached_property
    def functions(self) -> frozenset[Ident]:
        """The (package, function, language) of those tasks: whose implementations are needed."""
        return frozenset(
            (package, function, language)
            for package, language, _interface, function in (n.split("/", 3) for n in self.tasks)
        )


def retemplated(
    candidates: Mapping[str, SpecYield], renderer: Renderer, state: Path
) -> dict[str, Retemplated]:
    """Of *candidates* (spec files whose inputs but templates are as recorded, by relative
    path), those the cheap path can plan (*state*: the project's ``.apipack``)."""
    found = {}
    for rel, candidate in candidates.items():
        try:
            item = _retemplated(candidate, renderer, state)
        except (ApipackError, OSError, ValueError):
            continue  # a template gone or broken, a damaged package: the full path says
        if item is not None:
            found[rel] = item
    return found


def _retemplated(found: SpecYield, renderer: Renderer, state: Path) -> Retemplated | None:
    def changed(template: str) -> bool:
        return any(found.templates.get(n) != d for n, d in renderer.template_hashes(template))

    if any(changed(prompt) for prompt in prompts(found)):
        return None
    text = kept_package(state, found.package)
    if text is None:
        return None
    stale = frozenset(n for n in {n for t in found.tasks for n in t.templates} if changed(n))
    tasks = frozenset(t.name for t in found.tasks if stale.intersection(t.templates))
    return Retemplated(found, Package.model_validate_json(text), text, tasks, stale)


def prompts(found: SpecYield) -> set[str]:
    """The prompts the spec file's LLM-written bodies were asked with (one per language)."""
    return {f"prompts/{entry['language']}.j2" for entry in found.lock}


def package_json(package: Package) -> str:
    """*package* as the memo keeps it (its ``marks`` left out: they place errors of a spec file
    that had none); "" if it has no JSON (an example of bytes that are not UTF-8) or reading
    the JSON back would not give the same package."""
    try:
        text = package.model_dump_json()
        same = Package.model_validate_json(text) == package.model_copy(update={"marks": {}})
    except ValueError:  # pydantic's serialization and validation errors both are
        return ""
    return text if same else ""
