"""``APIPackEngine``: the README's programmatic API over ``apipack_build``'s build."""

from __future__ import annotations

import io
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from apipack_build.base.summary import Summary
from apipack_build.engine import prepare
from apipack_build.errors import BuildError, ConfigError
from apipack_build.load.registry import registry
from apipack_build.run import ship

PathLike = str | os.PathLike[str]
#: where specs given as mappings are written, inside the project's state folder
INLINE_SPECS = Path(".apipack") / "specs"


@dataclass(frozen=True)
class GeneratedPackage:
    """One generated package: its folder, its files and the build's summary."""

    name: str
    language: str
    path: Path
    files: tuple[str, ...]  # relative to path, POSIX form, sorted
    summary: Summary

    def build(self, type: str = "wheel") -> list[Path]:
        """``apipack build PACKAGE --type TYPE`` (wheel or sdist): the files it made."""
        folder = ship.PackageFolder(self.language, self.path)
        if type == "docker":
            ship.build_image(folder, f"{self.name.replace('_', '-')}:latest", push=False)
            return []
        return ship.build_artifact(folder, registry().languages[self.language], type)


class APIPackEngine:
    """Generate packages for the project in *project* (a folder; its settings apply)."""

    def __init__(self, project: PathLike = ".", *, offline: bool | None = None) -> None:
        self.project = Path(project).resolve()
        self.offline = offline

    def generate_package(
        self,
        function_specs: Sequence[Mapping[str, Any] | PathLike],
        interfaces: Sequence[str] | None = None,
        language: str = "python",
        output: PathLike | None = None,
        *,
        name: str | None = None,
    ) -> GeneratedPackage:
        """Build one package from *function_specs* — spec files (relative to the project) or
        mappings in the spec language (one function each; several are gathered into one
        package called *name*) — exactly as ``apipack generate SPEC -l LANGUAGE -i ... -o
        OUTPUT`` would, and return it. Raises ``ApipackError`` subclasses."""
        if not function_specs:
            raise ConfigError("function_specs: give at least one spec")
        specs = self._spec_files(function_specs, name)
        overrides: dict[str, Any] = {
            "languages": [language],
            "interfaces": sorted(set(interfaces)) if interfaces else None,
            "output": os.fspath(output) if output is not None else None,
        }
        build = prepare(
            specs, cwd=self.project, overrides=overrides, offline=self.offline, quiet=True
        )
        try:
            summary = build.run(jobs=build.plan.effective.settings.jobs, out=io.StringIO())
        except BuildError as exc:
            raise BuildError("\n".join([*build.summary.failures, str(exc)])) from None
        folders = [d.path for d in build.plan.packages]
        if len(folders) != 1:
            raise ConfigError(
                f"function_specs made {len(folders)} packages ({', '.join(folders)}); give "
                f"mappings (gathered into one package) or one spec file"
            )
        (folder,) = folders
        prefix = folder + "/"
        files = tuple(sorted(p[len(prefix) :] for p in build.plan.files if p.startswith(prefix)))
        lang, package = folder.split("/", 1)
        return GeneratedPackage(package, lang, build.output / folder, files, summary)

    def _spec_files(
        self, function_specs: Sequence[Mapping[str, Any] | PathLike], name: str | None
    ) -> list[Path]:
        paths = [Path(s) for s in function_specs if not isinstance(s, Mapping)]
        mappings = [dict(s) for s in function_specs if isinstance(s, Mapping)]
        if paths and mappings:
            raise ConfigError("function_specs: give spec files or mappings, not both")
        if paths:
            return [self.project / p for p in paths]
        if len(mappings) == 1 and name is None:
            document: dict[str, Any] = mappings[0]
            stem = str(document.get("name", "spec"))
        else:
            stem = name or "functions"
            document = {"project": {"name": stem}, "functions": mappings}
        path = self.project / INLINE_SPECS / f"{stem}.yml"
        path.parent.mkdir(parents=True, exist_ok=True)
        text = yaml.safe_dump(document, sort_keys=False, allow_unicode=True)
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
        return [path]
