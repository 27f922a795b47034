"""The spec language: single- and multi-function YAML files, loaded into frozen, normalized models.

Raw models describe what a user may write (and give ``apipack schema``); ``load_spec`` checks
everything at once and returns a :class:`Package` whose JSON form is what task keys hash.
"""

from __future__ import annotations

import math
import re
from pathlib import Path, PurePosixPath
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from .errors import Problem, SpecError
from .load.types import (
    TypeRef,
    TypeSyntaxError,
    describe_value,
    did_you_mean,
    parse_type,
    value_problem,
)
from .load.validation import validate_model
from .load.yamlsrc import Located, load_located

IDENTIFIER = re.compile(r"[a-z][a-z0-9_]*\Z")
PACKAGE_NAME = re.compile(r"[a-z][a-z0-9_-]*\Z")
MAX_NAME = 64
DEFAULT_PARAMETER = "data"

PerLanguage = str | dict[str, str]
Dependencies = list[str] | dict[str, list[str]]


class _Raw(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, defer_build=True)


class RawParameter(_Raw):
    name: str
    type: str
    required: bool | None = None
    default: Any = None
    description: str = ""


class RawCheck(_Raw):
    """What must hold of a result the example does not give (``output:`` left out)."""

    starts_with: str | None = Field(None, description="text (bytes: latin-1) it begins with")
    ends_with: str | None = Field(None, description="text (bytes: latin-1) it ends with")
    contains: str | None = Field(None, description="text (bytes: latin-1) found in it")
    min_length: int | None = Field(None, ge=0, description="fewest characters, bytes or items")
    max_length: int | None = Field(None, ge=0, description="most characters, bytes or items")
    min: int | float | None = Field(None, description="the smallest number it may be")
    max: int | float | None = Field(None, description="the largest number it may be")


#: which result kinds each check applies to
CHECK_KINDS = {
    "starts_with": ("string", "bytes"),
    "ends_with": ("string", "bytes"),
    "contains": ("string", "bytes"),
    "min_length": ("string", "bytes", "list", "dict"),
    "max_length": ("string", "bytes", "list", "dict"),
    "min": ("int", "float"),
    "max": ("int", "float"),
}


class RawExample(_Raw):
    name: str = ""
    input: dict[str, Any] = Field(default_factory=dict)
    output: Any = None
    check: RawCheck | None = None


class RawFunction(_Raw):
    name: str
    description: str = ""
    input_type: str | None = None
    output_type: str
    parameters: list[RawParameter] | None = None
    implementation: PerLanguage | None = Field(
        None, description="Path (relative to the spec file) of hand-written logic"
    )
    code: PerLanguage | None = Field(None, description="The complete function, inline")
    examples: list[RawExample] = Field(default_factory=list)
    dependencies: Dependencies = Field(default_factory=list)


class RawProject(_Raw):
    name: str
    description: str = ""
    version: str = "0.1.0"


class _Targets(_Raw):
    interfaces: list[str] | None = None
    language: str | None = None
    languages: list[str] | None = None


class SingleFunctionFile(RawFunction, _Targets):
    """One function; the file is its package."""


class MultiFunctionFile(_Targets):
    project: RawProject
    functions: list[RawFunction] = Field(min_length=1)
    dependencies: Dependencies = Field(default_factory=list)


# ---- normalized, frozen models: what rules read and task keys hash ----


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


class Parameter(_Frozen):
    name: str
    type: str
    required: bool
    has_default: bool
    default: Any = None
    description: str = ""

    @property
    def type_ref(self) -> TypeRef:
        return parse_type(self.type)


class Example(_Frozen):
    name: str
    input: dict[str, Any]
    #: False when the example gives no output: its tests then assert *check*
    has_output: bool
    output: Any = None
    #: what must hold of the result (``CHECK_KINDS`` names the keys): what the spec's ``check:``
    #: says, or, for an example with neither output nor check, that a string, bytes, list or
    #: dict result is not empty
    check: dict[str, Any] = Field(default_factory=dict)


class Function(_Frozen):
    name: str
    description: str
    output_type: str
    parameters: tuple[Parameter, ...]
    examples: tuple[Example, ...]
    dependencies: dict[str, tuple[str, ...]]
    code: dict[str, str]
    implementation: dict[str, str]  # language (or "*") -> path relative to the project root

    @property
    def output_ref(self) -> TypeRef:
        return parse_type(self.output_type)


class Package(_Frozen):
    name: str
    description: str
    version: str
    source: str  # the spec file, relative to the project root, POSIX form
    functions: tuple[Function, ...]
    interfaces: tuple[str, ...] | None
    languages: tuple[str, ...] | None
    dependencies: dict[str, tuple[str, ...]]
    #: (line, column) of each target entry, for errors found once settings are known
    marks: dict[str, tuple[int, int]] = Field(default_factory=dict, exclude=True)


class Vocabulary(BaseModel):
    """What the installed rules know: checked names come from here, never from the engine."""

    languages: dict[str, frozenset[str]]  # language -> reserved words
    interfaces: frozenset[str]
    #: language -> module names a package or function would shadow (standard library, deps)
    shadowed: dict[str, frozenset[str]] = Field(default_factory=dict)


#: the largest spec and implementation file read, unless settings say otherwise
DEFAULT_LIMIT = 1_000_000


def load_spec(
    path: Path,
    project_root: Path,
    vocabulary: Vocabulary,
    *,
    max_bytes: int = DEFAULT_LIMIT,
    max_implementation_bytes: int = DEFAULT_LIMIT,
) -> Package:
    """Load and check one spec file; raise SpecError with every problem in it."""
    shown = _display_path(path, project_root)
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise SpecError(
                [
                    Problem(
                        shown,
                        1,
                        1,
                        "",
                        f"the spec is {size} bytes, more than max_spec_bytes ({max_bytes}); "
                        f"split it into several files",
                    )
                ]
            )
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        message = f"cannot read spec: not UTF-8 text (byte {exc.start})"
        raise SpecError([Problem(shown, 1, 1, "", message)]) from None
    except OSError as exc:
        message = f"cannot read spec: {exc.strerror or type(exc).__name__}"
        raise SpecError([Problem(shown, 1, 1, "", message)]) from None
    located = load_located(text, shown)
    checker = _Checker(located, path, project_root, vocabulary)
    checker.max_implementation_bytes = max_implementation_bytes
    return checker.package()


def _display_path(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


class _Checker:
    def __init__(self, located: Located, path: Path, root: Path, vocabulary: Vocabulary):
        self.located, self.path, self.root, self.vocabulary = located, path, root, vocabulary
        self.problems: list[Problem] = []
        self.max_implementation_bytes = DEFAULT_LIMIT

    def fail(self, loc: tuple[str | int, ...], message: str, *, key: bool = False) -> None:
        self.problems.append(self.located.problem(loc, message, key=key))

    def package(self) -> Package:
        data = self.located.data
        if not isinstance(data, dict):
            got = "the file is empty" if data is None else f"got {describe_value(data)}"
            raise SpecError(
                [
                    self.located.problem(
                        (),
                        "a spec must be a mapping with 'name' "
                        "(one function) or 'project' and "
                        f"'functions'; {got}",
                    )
                ]
            )
        multi = "functions" in data or "project" in data
        model: type[BaseModel] = MultiFunctionFile if multi else SingleFunctionFile
        raw, problems = validate_model(model, self.located, data)
        if raw is None:
            raise SpecError(problems)
        if isinstance(raw, MultiFunctionFile):
            name, description, version = (
                raw.project.name,
                raw.project.description,
                raw.project.version,
            )
            functions: list[tuple[tuple[str | int, ...], RawFunction]] = [
                (("functions", i), f) for i, f in enumerate(raw.functions)
            ]
            self.check_package_name(("project", "name"), name)
            self.check_shadowing(("project", "name"), name.replace("-", "_"), "project")
        else:
            assert isinstance(raw, SingleFunctionFile)
            name, description, version = raw.name, raw.description, "0.1.0"
            # exclude_unset keeps "was this written?" (defaults, outputs) through the copy
            fields = raw.model_dump(include=set(RawFunction.model_fields), exclude_unset=True)
            functions = [((), RawFunction.model_validate(fields))]
            self.check_shadowing(("name",), name, "function")
        checked = [self.function(loc, f) for loc, f in functions]
        self.check_unique([(loc, f.name) for loc, f in functions], "function")
        languages = self.languages(raw)
        interfaces = self.interfaces(raw, languages)
        deps = self.dependencies(("dependencies",), raw.dependencies) if multi else {}
        if self.problems:
            raise SpecError(self.problems)
        marks = {
            key: self.located.where((key,))
            for key in ("interfaces", "language", "languages")
            if (key,) in self.located.values
        }
        return Package(
            name=name,
            description=description,
            version=version,
            source=self.located.path,
            functions=tuple(checked),
            interfaces=interfaces,
            languages=languages,
            dependencies=deps,
            marks=marks,
        )

    # -- names --

    def check_identifier(self, loc: tuple[str | int, ...], name: str, what: str) -> None:
        if not IDENTIFIER.match(name):
            self.fail(
                loc,
                f"invalid {what} name '{name}': use lowercase letters, digits and "
                f"underscores, starting with a letter (at most {MAX_NAME} characters)",
            )
            return
        if len(name) > MAX_NAME:
            self.fail(
                loc,
                f"{what} name '{name}' is {len(name)} characters long; "
                f"at most {MAX_NAME} are allowed",
            )
            return
        self.check_reserved(loc, name, what)

    def check_reserved(self, loc: tuple[str | int, ...], name: str, what: str) -> None:
        clashes = sorted(lang for lang, words in self.vocabulary.languages.items() if name in words)
        if clashes:
            self.fail(
                loc,
                f"{what} name '{name}' is a reserved word in {', '.join(clashes)}; "
                f"choose another name",
            )

    def check_shadowing(self, loc: tuple[str | int, ...], name: str, what: str) -> None:
        """A package or function named like a standard or dependency module would replace it
        for whoever installs the generated package (``pip install`` of a package ``pydantic``)."""
        clashes = sorted(lang for lang, names in self.vocabulary.shadowed.items() if name in names)
        if clashes and IDENTIFIER.match(name):
            self.fail(
                loc,
                f"{what} name '{name}' would shadow the module '{name}' of the standard library "
                f"or of a dependency in {', '.join(clashes)}; choose a more specific name "
                f"(did you mean '{name}_tools' or 'my_{name}'?)",
            )

    def check_package_name(self, loc: tuple[str | int, ...], name: str) -> None:
        if not PACKAGE_NAME.match(name) or len(name) > MAX_NAME or name.endswith(("-", "_")):
            self.fail(
                loc,
                f"invalid project name '{name}': use lowercase letters, digits, '-' "
                f"and '_', starting with a letter",
            )
            return
        self.check_reserved(loc, name.replace("-", "_"), "project")

    def check_unique(self, named: list[tuple[tuple[str | int, ...], str]], what: str) -> None:
        seen: dict[str, tuple[str | int, ...]] = {}
        for loc, name in named:
            if name in seen:
                line, _ = self.located.where((*seen[name], "name"))
                self.fail(
                    (*loc, "name"), f"duplicate {what} name '{name}' (first defined on line {line})"
                )
            else:
                seen[name] = loc

    # -- functions --

    def type_of(self, loc: tuple[str | int, ...], text: str) -> TypeRef | None:
        try:
            return parse_type(text)
        except TypeSyntaxError as exc:
            self.fail(loc, str(exc))
            return None

    def function(self, loc: tuple[str | int, ...], raw: RawFunction) -> Function:
        self.check_identifier((*loc, "name"), raw.name, "function")
        if loc:  # a single-function file's name is its package's, checked once as such
            self.check_shadowing((*loc, "name"), raw.name, "function")
        output = self.type_of((*loc, "output_type"), raw.output_type)
        params = self.parameters(loc, raw)
        by_name = {p.name: p for p in params}
        for index, example in enumerate(raw.examples):
            self.example((*loc, "examples", index), example, by_name, output)
        if raw.code is not None and raw.implementation is not None:
            self.fail((*loc, "code"), "give either 'code' or 'implementation', not both")
        implementation = {
            lang: self.implementation_path(
                (*loc, "implementation") + ((lang,) if lang != "*" else ()), rel
            )
            for lang, rel in self.per_language((*loc, "implementation"), raw.implementation).items()
        }
        return Function(
            name=raw.name,
            description=raw.description,
            output_type=str(output) if output else raw.output_type,
            parameters=tuple(params),
            examples=tuple(
                Example(
                    name=e.name or f"example_{i}",
                    input=e.input,
                    has_output="output" in e.model_fields_set,
                    output=e.output,
                    check=implied_check(e, output),
                )
                for i, e in enumerate(raw.examples)
            ),
            dependencies=self.dependencies((*loc, "dependencies"), raw.dependencies),
            code=self.per_language((*loc, "code"), raw.code),
            implementation=implementation,
        )

    def parameters(self, loc: tuple[str | int, ...], raw: RawFunction) -> list[Parameter]:
        input_ref = self.type_of((*loc, "input_type"), raw.input_type) if raw.input_type else None
        if raw.parameters is None:
            if input_ref is None:
                return []
            return [
                Parameter(
                    name=DEFAULT_PARAMETER, type=str(input_ref), required=True, has_default=False
                )
            ]
        params: list[Parameter] = []
        seen_default = False
        for index, p in enumerate(raw.parameters):
            ploc = (*loc, "parameters", index)
            self.check_identifier((*ploc, "name"), p.name, "parameter")
            ref = self.type_of((*ploc, "type"), p.type)
            has_default = "default" in p.model_fields_set
            is_optional = ref is not None and ref.kind == "optional"
            required = p.required if p.required is not None else not (has_default or is_optional)
            if required and has_default:
                self.fail((*ploc, "default"), "a required parameter cannot have a default")
            if not required and not has_default:
                if is_optional:
                    has_default = True  # optional[T] defaults to null
                else:
                    self.fail(
                        (*ploc, "required"),
                        f"parameter '{p.name}' is not required but has "
                        f"no default; give a default or make its type "
                        f"optional[{p.type}]",
                    )
            if ref is not None and "default" in p.model_fields_set:
                problem = value_problem(ref, p.default)
                if problem:
                    self.fail((*ploc, "default"), f"default does not match type {ref}: {problem}")
            if required and seen_default:
                self.fail(
                    (*ploc, "name"),
                    f"required parameter '{p.name}' must come before parameters with defaults",
                )
            seen_default = seen_default or not required
            params.append(
                Parameter(
                    name=p.name,
                    type=str(ref) if ref else p.type,
                    required=required,
                    has_default=has_default,
                    default=p.default,
                    description=p.description,
                )
            )
        self.check_unique(
            [((*loc, "parameters", i), p.name) for i, p in enumerate(params)], "parameter"
        )
        if input_ref is not None and params and all(p.type != str(input_ref) for p in params):
            self.fail((*loc, "input_type"), f"input_type '{input_ref}' matches no parameter's type")
        return params

    def example(
        self,
        loc: tuple[str | int, ...],
        raw: RawExample,
        params: dict[str, Parameter],
        output: TypeRef | None,
    ) -> None:
        for key in raw.input:
            if key not in params:
                hint = did_you_mean(key, list(params))
                self.fail((*loc, "input", key), f"no parameter named '{key}'{hint}")
            elif (problem := value_problem(params[key].type_ref, raw.input[key])) is not None:
                self.fail((*loc, "input", key), problem)
        for name, param in params.items():
            if param.required and name not in raw.input:
                self.fail((*loc, "input"), f"missing required parameter '{name}'")
        if raw.name and not IDENTIFIER.match(raw.name):
            self.fail(
                (*loc, "name"),
                f"invalid example name '{raw.name}': use lowercase letters, digits and underscores",
            )
        if raw.check is not None and output is not None:
            self.check((*loc, "check"), raw.check, output)
        if "output" not in raw.model_fields_set or output is None:
            return
        if (problem := value_problem(output, raw.output)) is not None:
            self.fail((*loc, "output"), problem)

    def check(self, loc: tuple[str | int, ...], raw: RawCheck, output: TypeRef) -> None:
        given = raw.model_dump(exclude_none=True)
        if not given:
            self.fail(loc, f"say what must hold: one or more of {', '.join(CHECK_KINDS)}")
        kind = output.item.kind if output.kind == "optional" else output.kind
        for name, value in given.items():
            if kind not in CHECK_KINDS[name]:
                self.fail(
                    (*loc, name), f"applies to {' or '.join(CHECK_KINDS[name])} results, not {kind}"
                )
            elif (
                kind == "bytes" and isinstance(value, str) and max(map(ord, value), default=0) > 255
            ):
                self.fail((*loc, name), "bytes are matched as latin-1: use \\x00-\\xff escapes")
            elif isinstance(value, float) and not math.isfinite(value):
                self.fail((*loc, name), "must be a finite number")

    # -- per-language values, paths, targets --

    def per_language(self, loc: tuple[str | int, ...], value: PerLanguage | None) -> dict[str, str]:
        if value is None:
            return {}
        if isinstance(value, str):
            return {"*": value}
        for lang in value:
            self.check_language((*loc, lang), lang, key=True)
        return dict(sorted(value.items()))

    def dependencies(
        self, loc: tuple[str | int, ...], value: Dependencies
    ) -> dict[str, tuple[str, ...]]:
        if isinstance(value, list):
            return {"*": tuple(sorted(set(value)))} if value else {}
        for lang in value:
            self.check_language((*loc, lang), lang, key=True)
        return {lang: tuple(sorted(set(deps))) for lang, deps in sorted(value.items())}

    def implementation_path(self, loc: tuple[str | int, ...], rel: str) -> str:
        """Resolve *rel* against the spec's folder; it must stay inside the project."""
        if PurePosixPath(rel).is_absolute() or "\\" in rel:
            self.fail(loc, f"implementation '{rel}' must be a relative path with '/' separators")
            return rel
        target = (self.path.parent / rel).resolve()
        root = self.root.resolve()
        if not target.is_relative_to(root):
            self.fail(loc, f"implementation '{rel}' points outside the project folder")
            return rel
        shown = target.relative_to(root).as_posix()
        if not target.is_file():
            where = "" if shown == rel else f" (looked for {shown})"
            self.fail(loc, f"implementation file '{rel}' does not exist{where}")
        elif (size := target.stat().st_size) > self.max_implementation_bytes:
            self.fail(
                loc,
                f"implementation file '{rel}' is {size} bytes, more than "
                f"max_implementation_bytes ({self.max_implementation_bytes})",
            )
        return shown

    def check_language(self, loc: tuple[str | int, ...], lang: str, *, key: bool = False) -> bool:
        known = sorted(self.vocabulary.languages)
        if lang not in known:
            self.fail(
                loc,
                f"unknown language '{lang}'{did_you_mean(lang, known)}; known: {', '.join(known)}",
                key=key,
            )
            return False
        return True

    def languages(self, raw: _Targets) -> tuple[str, ...] | None:
        if raw.language is not None and raw.languages is not None:
            self.fail(("languages",), "give either 'language' or 'languages', not both")
        if raw.language is not None:
            return (raw.language,) if self.check_language(("language",), raw.language) else None
        if raw.languages is None:
            return None
        for index, lang in enumerate(raw.languages):
            self.check_language(("languages", index), lang)
        self.check_listed_once("languages", "language", raw.languages)
        return tuple(sorted(set(raw.languages)))

    def check_listed_once(self, field: str, what: str, names: list[str]) -> None:
        for index, name in enumerate(names):
            if name in names[:index]:
                self.fail((field, index), f"{what} '{name}' is listed twice")

    def interfaces(
        self, raw: _Targets, languages: tuple[str, ...] | None
    ) -> tuple[str, ...] | None:
        if raw.interfaces is None:
            return None
        known = sorted(self.vocabulary.interfaces)
        for index, name in enumerate(raw.interfaces):
            if name not in known:
                self.fail(
                    ("interfaces", index),
                    f"unknown interface '{name}'"
                    f"{did_you_mean(name, known)}; known: {', '.join(known)}",
                )
        self.check_listed_once("interfaces", "interface", raw.interfaces)
        return tuple(sorted(set(raw.interfaces)))


def spec_json_schema() -> dict[str, Any]:
    schema = TypeAdapter(MultiFunctionFile | SingleFunctionFile).json_schema()
    schema["title"] = "apipack spec"
    return schema


def implied_check(raw: RawExample, output: TypeRef | None) -> dict[str, Any]:
    """The example's ``check:``; for one with neither output nor check, that a result of a kind
    that can be empty is not (a body returning ``b""`` fails it)."""
    if raw.check is not None:
        return dict(sorted(raw.check.model_dump(exclude_none=True).items()))
    if "output" in raw.model_fields_set or output is None:
        return {}
    return {"min_length": 1} if output.kind in ("string", "bytes", "list", "dict") else {}
