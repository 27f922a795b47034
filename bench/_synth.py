"""Synthetic projects: N functions over several spec files, and the edits the scenarios make.

Every function leaves its body to the LLM (no ``code:``, no ``implementation:``), so the LLM step
is real: the first build asks the local server, later ones answer from the cache and the lock.
The OpenAPI document for openapi-generator is derived from the spec files themselves, so both
tools build the same API: one operation per function, the same parameters and result types.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
BUILTIN_TEMPLATES = REPO / "templates"
#: the template the "one template edited" scenario overrides, and the line it edits
EDITED_TEMPLATE = "python/cli/command.py.j2"
EDITED_TEMPLATE_LINE = "    # spec names never start with"
PROMPT_TEMPLATE = "prompts/python.j2"
INTERFACES = ("rest", "cli")
RULES_PER_FUNCTION = len(INTERFACES) + 1  # the core rule is always built
DESCRIPTION = "Synthetic function number {k} that combines its inputs"

#: parameter shapes, cycled through so the specs are not all alike: (parameters, output type)
_SHAPES: tuple[tuple[list[dict[str, Any]], str, dict[str, Any]], ...] = (
    (
        [
            {"name": "text", "type": "string"},
            {"name": "count", "type": "int", "default": 2},
            {"name": "ratio", "type": "optional[float]"},
        ],
        "string",
        {"text": "hello", "count": 3},
    ),
    (
        [
            {"name": "values", "type": "list[int]"},
            {"name": "scale", "type": "float", "default": 1.0},
        ],
        "float",
        {"values": [1, 2, 3]},
    ),
    (
        [
            {"name": "table", "type": "dict[string, int]"},
            {"name": "key", "type": "string"},
        ],
        "optional[int]",
        {"table": {"a": 1}, "key": "a"},
    ),
    (
        [
            {"name": "name", "type": "string"},
            {"name": "strict", "type": "bool", "default": False},
        ],
        "bool",
        {"name": "x"},
    ),
)


@dataclass(frozen=True)
class SynthProject:
    """A project folder holding ``functions`` functions in ``spec_count`` spec files."""

    root: Path
    functions: int
    per_spec: int

    @property
    def spec_dir(self) -> Path:
        return self.root / "specs"

    @property
    def spec_paths(self) -> list[Path]:
        return sorted(self.spec_dir.glob("*.yml"))

    @property
    def output(self) -> Path:
        return self.root / "generated"

    @property
    def state(self) -> Path:
        return self.root / ".apipack"

    @property
    def packages(self) -> int:
        return -(-self.functions // self.per_spec)

    def input_files(self) -> list[Path]:
        """Everything a build reads: project file, lock, specs and every template in reach."""
        files = [self.root / "apipack.yml", self.root / "apipack.lock", *self.spec_paths]
        for folder in (BUILTIN_TEMPLATES, self.root / "templates"):
            if folder.is_dir():
                files += sorted(p for p in folder.rglob("*.j2") if p.is_file())
        return [f for f in files if f.is_file()]


def function_name(k: int) -> str:
    return f"fn_{k:04d}"


def _spec_text(group: int, first: int, count: int) -> str:
    functions = []
    for k in range(first, first + count):
        parameters, output_type, example = _SHAPES[k % len(_SHAPES)]
        functions.append(
            {
                "name": function_name(k),
                "description": DESCRIPTION.format(k=k),
                "output_type": output_type,
                # a copy each: shared lists would be dumped as YAML aliases, which specs refuse
                "parameters": copy.deepcopy(parameters),
                # an example with no output: a generated test that the call succeeds
                "examples": [{"name": "smoke", "input": copy.deepcopy(example)}],
            }
        )
    document = {
        "project": {
            "name": f"bench-{group:03d}",
            "description": "Synthetic functions for the apipack benchmark",
            "version": "0.1.0",
        },
        "language": "python",
        "interfaces": list(INTERFACES),
        "functions": functions,
    }
    header = "# Synthetic spec written by `python -m bench`; rewritten on every run.\n"
    return header + yaml.safe_dump(document, sort_keys=False, width=100)


def write_project(root: Path, functions: int, per_spec: int) -> SynthProject:
    """A fresh project folder (anything already at *root* is removed)."""
    if root.exists():
        shutil.rmtree(root)
    (root / "specs").mkdir(parents=True)
    (root / "apipack.yml").write_text(
        'specs: ["specs/*.yml"]\nlanguages: [python]\n'
        f"interfaces: [{', '.join(INTERFACES)}]\noutput: generated\n",
        encoding="utf-8",
    )
    for group, first in enumerate(range(0, functions, per_spec)):
        count = min(per_spec, functions - first)
        (root / "specs" / f"group_{group:03d}.yml").write_text(
            _spec_text(group, first, count), encoding="utf-8"
        )
    return SynthProject(root, functions, per_spec)


# -- the edits of the scenarios --


def edit_one_function(project: SynthProject, revision: int) -> None:
    """Change the description of function 0 (in the first spec file) to a new text."""
    spec = project.spec_paths[0]
    text = spec.read_text(encoding="utf-8")
    lines = text.splitlines(keepends=True)
    prefix = "  description: " + DESCRIPTION.format(k=0)
    for index, line in enumerate(lines):
        if line.startswith(prefix):
            lines[index] = f"{prefix} (revision {revision})\n"
            break
    else:
        raise RuntimeError(f"{spec}: no line starting with {prefix!r}")
    spec.write_text("".join(lines), encoding="utf-8")


def touch_specs(project: SynthProject, revision: int) -> None:
    """New mtimes on every spec file, contents unchanged."""
    for spec in project.spec_paths:
        stat = spec.stat()
        later = stat.st_mtime_ns + (revision + 1) * 1_000_000_000
        os.utime(spec, ns=(later, later))


def override_template(project: SynthProject, revision: int) -> None:
    """A project copy of one Python template with one comment line edited."""
    text = (BUILTIN_TEMPLATES / EDITED_TEMPLATE).read_text(encoding="utf-8")
    if EDITED_TEMPLATE_LINE not in text:
        raise RuntimeError(f"templates/{EDITED_TEMPLATE}: no line {EDITED_TEMPLATE_LINE!r}")
    edited = text.replace(EDITED_TEMPLATE_LINE, f"    # (benchmark edit {revision}) spec names")
    _write_override(project, EDITED_TEMPLATE, edited)


def override_prompt(project: SynthProject, revision: int) -> None:
    """A project copy of the Python prompt with one more line: every function is asked again."""
    text = (BUILTIN_TEMPLATES / PROMPT_TEMPLATE).read_text(encoding="utf-8")
    _write_override(project, PROMPT_TEMPLATE, text + f"- Keep it short (revision {revision}).\n")


def remove_overrides(project: SynthProject) -> None:
    shutil.rmtree(project.root / "templates", ignore_errors=True)


def _write_override(project: SynthProject, name: str, text: str) -> None:
    path = project.root / "templates" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def add_language(project: SynthProject, language: str) -> None:
    """Every spec builds for Python and *language*. Replies are no longer run against their
    examples (a TypeScript body would need a Node process each): the scenario times the no-op."""
    for spec in project.spec_paths:
        text = spec.read_text(encoding="utf-8")
        spec.write_text(
            text.replace("language: python\n", f"languages: [python, {language}]\n"),
            encoding="utf-8",
        )
    skip_verification(project)


def skip_verification(project: SynthProject) -> None:
    """Replies are no longer run against their examples (a process per function)."""
    settings = project.root / "apipack.yml"
    settings.write_text(
        settings.read_text(encoding="utf-8") + "llm:\n  verify: false\n", encoding="utf-8"
    )


def forget_build(project: SynthProject) -> None:
    """The output and the build state go; the LLM cache and ``apipack.lock`` stay."""
    shutil.rmtree(project.output, ignore_errors=True)
    if project.state.is_dir():
        for entry in project.state.iterdir():
            if entry.name == "cache":
                continue
            if entry.is_dir():
                shutil.rmtree(entry)
            else:
                entry.unlink()


# -- the same API as an OpenAPI document --

_SCALARS: dict[str, dict[str, Any]] = {
    "string": {"type": "string"},
    "int": {"type": "integer"},
    "float": {"type": "number"},
    "bool": {"type": "boolean"},
    "bytes": {"type": "string", "format": "byte"},
}


def openapi_schema(spec_type: str) -> dict[str, Any]:
    """The OpenAPI 3.0 schema of a spec type such as ``dict[string, list[int]]``."""
    spec_type = spec_type.strip()
    if spec_type in _SCALARS:
        return dict(_SCALARS[spec_type])
    head, _, rest = spec_type.partition("[")
    inner = rest[:-1] if rest.endswith("]") else ""
    if head == "list":
        return {"type": "array", "items": openapi_schema(inner)}
    if head == "dict":
        value = inner.split(",", 1)[1]
        return {"type": "object", "additionalProperties": openapi_schema(value)}
    if head == "optional":
        return {**openapi_schema(inner), "nullable": True}
    raise ValueError(f"no OpenAPI schema for spec type {spec_type!r}")


def openapi_document(project: SynthProject) -> dict[str, Any]:
    """One POST operation per function of every spec file, as apipack's REST rule serves it."""
    paths: dict[str, Any] = {}
    for spec in project.spec_paths:
        data = yaml.safe_load(spec.read_text(encoding="utf-8"))
        package = data["project"]["name"]
        for function in data["functions"]:
            name = function["name"]
            properties, required = {}, []
            for parameter in function["parameters"]:
                schema = openapi_schema(parameter["type"])
                if "default" in parameter:
                    schema["default"] = parameter["default"]
                elif not parameter["type"].startswith("optional["):
                    required.append(parameter["name"])
                properties[parameter["name"]] = schema
            request: dict[str, Any] = {"type": "object", "properties": properties}
            if required:
                request["required"] = required
            result = {
                "type": "object",
                "properties": {"result": openapi_schema(function["output_type"])},
                "required": ["result"],
            }
            paths[f"/{package}/{name}"] = {
                "post": {
                    "operationId": name,
                    "tags": [package],
                    "summary": function["description"],
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": request}},
                    },
                    "responses": {
                        "200": {
                            "description": "The result",
                            "content": {"application/json": {"schema": result}},
                        }
                    },
                }
            }
    return {
        "openapi": "3.0.3",
        "info": {"title": "apipack benchmark", "version": "0.1.0"},
        "paths": paths,
    }


def write_openapi(project: SynthProject, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(openapi_document(project), indent=1) + "\n", encoding="utf-8")
    return path
