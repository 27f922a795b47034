"""The public API that rules are written against.

A language declares its reserved words, template filters and the files its toolchain leaves in a
package folder. A rule is pure: from a frozen request it returns the files to render — which
template, to which path, with which context. The engine turns those plans into doit tasks and
owns every hash and every write. Rules never import doit, httpx or diskcache.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .load.types import TypeRef, parse_type
from .spec import Example, Function, Package, Parameter

__all__ = [
    "Example",
    "ExampleRun",
    "Function",
    "FunctionRequest",
    "Implementation",
    "Language",
    "Output",
    "Package",
    "PackageRequest",
    "Parameter",
    "Rule",
    "TypeRef",
    "parse_type",
]


@dataclass(frozen=True)
class ExampleRun:
    """How to run one body against its spec's examples: *files* are written into an empty folder
    and *argv* runs there, with no environment, a time limit and a memory limit. It leaves
    *verdict* there, a JSON object: ``{"failures": [message, ...]}`` (empty when every example
    holds), or ``{"unverified": reason}`` when it cannot judge (a library the body needs is not
    installed where apipack runs)."""

    argv: tuple[str, ...]
    files: Mapping[str, str]
    verdict: str
    #: set by ``python``: *argv* is this interpreter running this script, which the verification
    #: may then run in the very process that sets the limits (one interpreter started, not two)
    script: str | None = None
    #: with ``site`` (site-packages), as *argv* says (``-S`` when not)
    site: bool = True

    @classmethod
    def python(
        cls, script: str, files: Mapping[str, str], verdict: str, *, site: bool
    ) -> ExampleRun:
        """*script* run by this interpreter, isolated (``-I``: none of the caller's environment
        variables, user site or current folder on the path), with ``site`` or without (``-S``)."""
        flags = ("-I",) if site else ("-I", "-S")
        return cls((sys.executable, *flags, script), files, verdict, script=script, site=site)


@dataclass(frozen=True)
class Language:
    name: str
    reserved_words: frozenset[str]
    #: Jinja filters that turn spec strings into safe literals and comments of this language
    filters: Mapping[str, Callable[..., Any]] = field(default_factory=dict)
    #: glob patterns (relative to a package folder) of files its tools create; never "extra"
    ignore: tuple[str, ...] = ()
    #: tags of fenced code blocks in LLM replies, e.g. ("python", "py")
    fences: tuple[str, ...] = ()
    #: why *source* does not implement *function* in this language, or None if it does;
    #: applied to hand-written code and to every LLM reply before it is cached
    check_code: Callable[[str, Function], str | None] | None = None
    #: how to run an LLM's body against the function's examples (None: it has none), before the
    #: body is cached; None for a language whose bodies apipack cannot run
    example_run: Callable[[str, Function], ExampleRun | None] | None = None
    #: names a package or function must not take, because in this language they would shadow
    #: a module of its standard library or a dependency of the generated package
    shadowed_names: frozenset[str] = frozenset()
    #: False for a language that describes functions rather than runs them (documentation):
    #: its rules get an empty implementation, and no LLM is asked for one
    needs_code: bool = True
    #: ``apipack build --type T``: the command that builds artifact T (e.g. "wheel") in a
    #: package folder, run there; ``docker`` is the engine's own (any package with a Dockerfile)
    artifacts: Mapping[str, Callable[[], Sequence[str]]] = field(default_factory=dict)
    #: languages whose hand-written code this one can turn into its own when a function gives
    #: none in this language: language -> conversion (e.g. TypeScript with its types erased
    #: for JavaScript); the result is checked as this language's code
    derive: Mapping[str, Callable[[str], str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Implementation:
    """The source of one function's logic in one language."""

    origin: str  # "code" (inline), "file" (hand-written), "llm", or "none" (needs_code=False)
    source: str
    path: str = ""  # project-relative path when origin == "file"


@dataclass(frozen=True)
class Output:
    """One file to render: *path* is relative to the package folder, POSIX form. *finish*
    names a template filter the rendered text goes through before it is written (one set of
    templates serving two flavours: e.g. TypeScript with its types stripped for JavaScript)."""

    path: str
    template: str
    context: Mapping[str, Any]
    finish: str = ""


@dataclass(frozen=True)
class Settings:
    """The settings a rule may read (the LLM is not a rule's business): ``deployment`` (port,
    replicas, docker.base_image, kubernetes.replicas) and ``output`` (format, include_tests,
    include_docs: a rule leaves out tests or documentation when asked)."""

    deployment: Mapping[str, Any]
    output: Mapping[str, Any] = field(
        default_factory=lambda: {"format": "package", "include_tests": True, "include_docs": True}
    )

    @property
    def include_tests(self) -> bool:
        return bool(self.output.get("include_tests", True))

    @property
    def include_docs(self) -> bool:
        return bool(self.output.get("include_docs", True))


@dataclass(frozen=True)
class FunctionRequest:
    package: Package
    function: Function
    language: str
    implementation: Implementation
    settings: Settings


@dataclass(frozen=True)
class PackageRequest:
    package: Package
    language: str
    interfaces: tuple[str, ...]  # every interface built for this package and language
    settings: Settings


@dataclass(frozen=True)
class Rule:
    """What one language × interface produces. ``interface=None`` marks the language's core files,
    built whatever the interfaces. Bump ``version`` when the rule's logic changes its output."""

    name: str
    language: str
    interface: str | None
    version: str
    function_outputs: Callable[[FunctionRequest], Sequence[Output]] | None = None
    package_outputs: Callable[[PackageRequest], Sequence[Output]] | None = None
