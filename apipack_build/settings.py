"""Effective settings, layered: built-in defaults < ``~/.apipack/config.yml`` < the project file
(``apipack.yml`` or ``project.apipack.yml``) < ``APIPACK_*`` environment < command-line flags.

Every value remembers where it came from, so ``apipack config`` can say so.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from .base.lookup import PROJECT_FILES as PROJECT_FILES
from .base.lookup import PROVIDER_GROUP as PROVIDER_GROUP
from .base.lookup import entry_points_of
from .base.lookup import find_project_file as find_project_file
from .errors import ConfigError, Problem, SpecError, redact
from .load.types import did_you_mean
from .load.validation import validate_model
from .load.yamlsrc import Located, load_located
from .spec import DEFAULT_LIMIT

ENV_PREFIX = "APIPACK_"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class LLMSettings(_Section):
    provider: str = Field(
        "ollama", description=f"a provider registered in {PROVIDER_GROUP}: ollama, openai, ..."
    )
    model: str = "mistral:7b"
    base_url: str = "http://localhost:11434"
    temperature: float = Field(0.0, ge=0, le=2)
    seed: int = 42
    num_ctx: int = Field(8192, gt=0)
    max_tokens: int = Field(2048, gt=0)
    timeout: float = Field(600.0, gt=0, description="seconds to wait for a reply")
    retries: int = Field(3, ge=0, description="retries on connection errors, 429 and 5xx")
    concurrency: int = Field(1, ge=1, description="LLM requests in flight at once")
    stream: bool = Field(True, description="stream Ollama replies (keeps long replies alive)")
    repair_attempts: int = Field(2, ge=0, description="requests to fix an invalid reply")
    verify: bool = Field(
        True, description="run each reply against its spec's examples before accepting it"
    )
    verify_timeout: float = Field(
        20.0, gt=0, description="seconds one reply may take to run all its examples"
    )
    max_reply_bytes: int = Field(
        200_000, gt=0, description="a longer reply (or cached answer) is invalid"
    )
    remote_cache: str = Field(
        "",
        description="URL of an HTTP cache (nginx WebDAV, bazel-remote) shared by a team or CI "
        "(docs/remote-cache.md)",
    )

    @field_validator("provider")
    @classmethod
    def _registered(cls, value: str) -> str:
        names = provider_names()
        if value not in names:
            raise ValueError(
                f"unknown provider '{value}'{did_you_mean(value, names)}; "
                f"registered: {', '.join(names) or 'none'}"
            )
        return value

    @field_validator("remote_cache")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError(
                "must be the http:// or https:// URL of an HTTP cache server, or empty"
            )
        return value


class DockerSettings(_Section):
    base_image: str = Field("", description="the Dockerfile's base image (empty: the rules' own)")


class KubernetesSettings(_Section):
    replicas: int | None = Field(
        None,
        ge=1,
        description="replicas in the Kubernetes Deployment (default: deployment.replicas)",
    )


class DeploymentSettings(_Section):
    port: int = Field(8080, ge=1, le=65535)
    replicas: int = Field(1, ge=1)
    docker: DockerSettings = Field(default_factory=DockerSettings)
    kubernetes: KubernetesSettings = Field(default_factory=KubernetesSettings)
    platforms: list[Literal["heroku", "aws-lambda", "gcp-cloud-run"]] = Field(
        default_factory=list,
        description="cloud platforms whose files each server package gets (`apipack deploy`)",
    )


class TemplateSettings(_Section):
    auto_discover: bool = Field(
        True,
        description="use the project's templates/ and ~/.apipack/templates (false: only "
        "installed and built-in templates)",
    )
    cache_enabled: bool = Field(
        True,
        description="answer an unchanged build from the last build's fingerprint (false: "
        "every build plans and checks every task by its key)",
    )
    validation_level: Literal["strict", "warn"] = Field(
        "strict",
        description="a hand-written implementation that fails its language's check: an error "
        "(strict) or a warning, built anyway (warn)",
    )


class OutputOptions(_Section):
    """``output:`` as a mapping (the APIpack README's form); ``output: DIR`` stays the folder."""

    format: Literal["package"] = Field("package", description="what is generated: a package")
    include_tests: bool = Field(True, description="generate the package's tests")
    include_docs: bool = Field(True, description="generate the package's documentation")


class Settings(_Section):
    specs: list[str] = Field(
        default_factory=lambda: ["specs/**/*.yml", "specs/**/*.yaml"],
        description="spec files or globs, relative to the project folder",
    )
    languages: list[str] = Field(default_factory=lambda: ["python"])
    interfaces: list[str] = Field(default_factory=lambda: ["rest", "cli"])
    output: str = Field("generated", description="output folder, relative to the project folder")
    name: str = Field(
        "",
        description="one package of this name gathers the functions of every spec (the APIpack "
        "README's project file); empty: each spec file is its own package",
    )
    jobs: int = Field(1, ge=1, description="tasks run in parallel")
    offline: bool = Field(False, description="never call a model; fail if a response is missing")
    cache_dir: str = Field(".apipack/cache", description="LLM response cache folder")
    max_spec_bytes: int = Field(
        DEFAULT_LIMIT, gt=0, description="a larger spec file is refused (split it into several)"
    )
    max_implementation_bytes: int = Field(
        DEFAULT_LIMIT, gt=0, description="a larger hand-written implementation file is refused"
    )
    llm: LLMSettings = Field(default_factory=LLMSettings)
    deployment: DeploymentSettings = Field(default_factory=DeploymentSettings)
    templates: TemplateSettings = Field(default_factory=TemplateSettings)
    output_options: OutputOptions = Field(
        default_factory=OutputOptions, description="written as `output: {format, ...}`"
    )


@dataclass(frozen=True)
class Effective:
    """Validated settings, the project folder, and the origin of every leaf value."""

    settings: Settings
    root: Path
    project_file: Path | None
    origins: Mapping[str, str]


@functools.cache  # one scan of the installed distributions per process
def provider_names() -> tuple[str, ...]:
    """The LLM providers installed packages register (built-ins too), without importing them."""
    return tuple(sorted({point.name for point in entry_points_of(PROVIDER_GROUP)}))


def _leaves(model: type[BaseModel], prefix: str = "") -> dict[str, Any]:
    """Dotted names of every leaf setting, with their field info."""
    out: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            out.update(_leaves(annotation, f"{prefix}{name}."))
        else:
            out[prefix + name] = info
    return out


LEAVES = _leaves(Settings)


def env_name(dotted: str) -> str:
    return ENV_PREFIX + dotted.replace(".", "_").upper()


def _set(tree: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, last = dotted.split(".")
    for part in parents:
        tree = tree.setdefault(part, {})
    tree[last] = value


SECTIONS = frozenset(
    ".".join(dotted.split(".")[:depth])
    for dotted in LEAVES
    for depth in range(1, dotted.count(".") + 1)
)


def _flatten(tree: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"llm": {"model": m}}`` → ``{"llm.model": m}`` (a layer may set single leaves)."""
    out: dict[str, Any] = {}
    for key, value in tree.items():
        dotted = prefix + str(key)
        if dotted in SECTIONS and isinstance(value, Mapping):
            out.update(_flatten(value, dotted + "."))
        else:
            out[dotted] = value
    return out


#: where a setting is written in a file, when that differs from its dotted name
_WRITTEN_AS = {"output_options": "output"}


def written_as(dotted: str) -> str:
    """The dotted name as a settings file spells it (``output_options.format`` →
    ``output.format``): what ``apipack config`` shows and errors name."""
    head, _, rest = dotted.partition(".")
    return f"{_WRITTEN_AS.get(head, head)}.{rest}" if rest else _WRITTEN_AS.get(head, head)


def _accept_other_shapes(data: dict[str, Any], located: Located) -> dict[str, Any]:
    """The APIpack README's spellings, turned into ours before validation (each keeps its
    place in the file for errors and ``apipack config``):

    - ``output: {format, include_tests, include_docs}`` → ``output_options`` (``output: DIR``
      stays the output folder);
    - ``language: L`` → ``languages: [L]``;
    - ``functions: [{spec: PATH}, ...]`` → ``specs: [PATH, ...]``.
    """
    data = dict(data)

    def move(old: tuple[str | int, ...], new: tuple[str | int, ...]) -> None:
        for loc, mark in list(located.values.items()):
            if loc[: len(old)] == old:
                located.values[new + loc[len(old) :]] = mark

    if isinstance(data.get("output"), Mapping):
        data["output_options"] = data.pop("output")
        move(("output",), ("output_options",))
    if "language" in data and "languages" not in data:
        data["languages"] = [data.pop("language")]
        move(("language",), ("languages", 0))
    functions = data.get("functions")
    if isinstance(functions, list) and "specs" not in data:
        specs: list[Any] = []
        for index, item in enumerate(functions):
            if not (isinstance(item, Mapping) and set(item) == {"spec"}):
                raise SpecError(
                    [located.problem(("functions", index), "expected a mapping {spec: PATH}")]
                )
            specs.append(item["spec"])
            move(("functions", index, "spec"), ("specs", index))
        del data["functions"]
        data["specs"] = specs
    return data


def _from_env(environ: Mapping[str, str]) -> dict[str, tuple[Any, str]]:
    """Settings given in the environment, each with the variable it came from."""
    values: dict[str, tuple[Any, str]] = {}
    for dotted, info in LEAVES.items():
        name = env_name(dotted)
        raw = environ.get(name)
        if raw is None:
            continue
        is_list = "list" in str(info.annotation)
        values[dotted] = (
            ([item.strip() for item in raw.split(",") if item.strip()] if is_list else raw),
            f"env {name}",
        )
    host = environ.get("OLLAMA_HOST")
    if "llm.base_url" not in values and host:
        values["llm.base_url"] = (host if "://" in host else f"http://{host}"), "env OLLAMA_HOST"
    return values


def _load_file(path: Path, shown: str) -> tuple[dict[str, Any], Located]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError([Problem(shown, 1, 1, "", f"cannot read: {exc}")]) from None
    located = load_located(text, shown)
    data = located.data if located.data is not None else {}
    if not isinstance(data, dict):
        raise SpecError([located.problem((), "settings must be a mapping")])
    data = _accept_other_shapes(data, located)
    # Validate the layer alone, so its errors point into this file.
    _, problems = validate_model(Settings, located, data)
    if problems:
        raise SpecError([replace(p, field=written_as(p.field)) for p in problems])
    return data, located


def _where(located: Located, dotted: str) -> tuple[int, int]:
    """Line and column of a setting in its file (a list-valued one: where the list starts)."""
    path: tuple[str | int, ...] = tuple(dotted.split("."))
    first: tuple[str | int, ...] = (*path, 0)
    if path not in located.values and first in located.values:
        return located.values[first]
    return located.where(path)


def resolve(
    folder: Path,
    *,
    project_file: Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    home: Path | None = None,
) -> Effective:
    """Merge every layer for the project in *folder* (or the given *project_file*)."""
    environ = os.environ if environ is None else environ
    home = Path(environ.get("HOME", str(Path.home()))) if home is None else home
    project_file = project_file or find_project_file(folder)
    root = project_file.parent if project_file else folder
    merged: dict[str, Any] = {}
    origins = {dotted: "default" for dotted in LEAVES}

    def apply(layer: Mapping[str, Any], origin: Any) -> None:
        for dotted, value in layer.items():
            _set(merged, dotted, value)
            origins[dotted] = origin(dotted) if callable(origin) else origin

    user_file = home / ".apipack" / "config.yml"
    for path, shown in (
        (user_file, "~/.apipack/config.yml"),
        (project_file, project_file.name if project_file else ""),
    ):
        if path is None or not path.is_file():
            continue
        data, located = _load_file(path, shown)
        apply(
            _flatten(data),
            lambda d, loc=located, s=shown: "{}:{}:{}".format(s, *_where(loc, d)),
        )
    from_env = _from_env(environ)
    apply({dotted: value for dotted, (value, _) in from_env.items()}, lambda d: from_env[d][1])
    apply({k: v for k, v in (overrides or {}).items() if v is not None}, "command line")
    located = Located("<effective settings>", merged)
    settings, problems = validate_model(Settings, located, merged)
    if settings is None:
        # Only environment values and flags can fail here: files were checked on their own.
        raise ConfigError(
            "\n".join(
                f"{origins.get(p.field, 'settings')}: {written_as(p.field)}: {p.message}"
                for p in problems
            )
        )
    return Effective(settings, root.resolve(), project_file, origins)


def describe(effective: Effective) -> list[str]:
    """Lines of ``apipack config``: every setting, its value, and its origin."""
    dumped = effective.settings.model_dump(mode="json")
    lines = []
    for dotted in sorted(LEAVES):
        value: Any = dumped
        for part in dotted.split("."):
            value = value[part]
        shown = ", ".join(value) if isinstance(value, list) else value
        lines.append(redact(f"{written_as(dotted)} = {shown}  # {effective.origins[dotted]}"))
    return lines
