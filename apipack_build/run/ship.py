"""``apipack build`` and ``apipack deploy``: from generated package folders to artifacts (a
language's own, e.g. a wheel, or a Docker image) and to a cloud platform's command line.

Nothing here knows a language: a language names the commands of its artifacts
(``Language.artifacts``); the platform files themselves are rendered by the rules, like every
other file, when ``deployment.platforms`` lists the platform. External tools are found on the
user's PATH and run only when asked; when one is missing the error (exit 3) names it and prints
the commands to run by hand.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import BuildError, ConfigError, ToolMissing
from .platforms import PLATFORMS as PLATFORMS

if TYPE_CHECKING:  # `apipack deploy --help` lists the platforms without loading the rules API
    from ..rules import Language

DOCKER_PROBE_SECONDS = 20


@dataclass(frozen=True)
class PackageFolder:
    language: str
    path: Path

    @property
    def name(self) -> str:
        return self.path.name


def package_folders(path: Path, languages: Sequence[str]) -> list[PackageFolder]:
    """The package folders at *path*: a package folder itself (``…/LANG/NAME``), a language
    folder (``…/LANG``), or an output folder (``…/LANG/NAME`` below it)."""
    if not path.is_dir():
        raise ConfigError(f"{path}: no such folder")
    if path.parent.name in languages:
        return [PackageFolder(path.parent.name, path)]
    roots = [(path.name, path)] if path.name in languages else []
    roots += [(lang, path / lang) for lang in languages if (path / lang).is_dir()]
    found = [
        PackageFolder(lang, child)
        for lang, root in roots
        for child in sorted(root.iterdir())
        if child.is_dir() and not child.name.startswith(".")
    ]
    if not found:
        raise ConfigError(
            f"{path}: no generated package here (expected LANGUAGE/PACKAGE folders, e.g. "
            f"{path / 'python' / 'NAME'}); run `apipack generate` first"
        )
    return found


def _shown(commands: Sequence[Sequence[str]], folder: Path) -> str:
    return "\n".join(f"  (cd {shlex.quote(str(folder))} && {shlex.join(c)})" for c in commands)


def _run(command: Sequence[str], folder: Path) -> str:
    done = subprocess.run(list(command), cwd=folder, capture_output=True, text=True)
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-20:])
        raise BuildError(f"{folder}: `{shlex.join(command)}` failed ({done.returncode}):\n{tail}")
    return done.stdout


def build_artifact(folder: PackageFolder, language: Language, kind: str) -> list[Path]:
    """Build *kind* (``wheel``, ``sdist``, ...) with the language's command; the new files."""
    if kind not in language.artifacts:
        offered = ", ".join(sorted(language.artifacts)) or "none"
        raise ConfigError(
            f"--type {kind}: language '{language.name}' builds no {kind} (it builds: {offered}, "
            f"and docker)"
        )
    dist = folder.path / "dist"
    before = _stamps(dist)
    _run(language.artifacts[kind](), folder.path)
    return sorted(path for path, stamp in _stamps(dist).items() if before.get(path) != stamp)


def _stamps(folder: Path) -> dict[Path, int]:
    """Each file in *folder* with its modification time: what a build made or rewrote."""
    if not folder.is_dir():
        return {}
    return {path: path.stat().st_mtime_ns for path in folder.iterdir() if path.is_file()}


def docker_commands(folder: PackageFolder, tag: str, push: bool) -> list[tuple[str, ...]]:
    commands: list[tuple[str, ...]] = [("docker", "build", "-t", tag, ".")]
    return [*commands, ("docker", "push", tag)] if push else commands


def docker_missing() -> str | None:
    """Why no Docker image can be built here, or None when a daemon answers."""
    docker = shutil.which("docker")
    if docker is None:
        return "the docker CLI is not installed"
    try:
        probe = subprocess.run(
            [docker, "info", "--format", "{{.ServerVersion}}"],
            capture_output=True,
            text=True,
            timeout=DOCKER_PROBE_SECONDS,
        )
    except subprocess.TimeoutExpired:
        return f"no Docker daemon answered `docker info` within {DOCKER_PROBE_SECONDS} s"
    if probe.returncode != 0:
        reason = (probe.stderr.strip().splitlines() or ["no reply"])[-1]
        return f"no Docker daemon answers `docker info` ({reason})"
    return None


def build_image(folder: PackageFolder, tag: str, push: bool) -> None:
    if not (folder.path / "Dockerfile").is_file():
        raise ConfigError(
            f"{folder.path}: no Dockerfile (a package gets one when it has a server "
            f"interface: rest, graphql, websocket or grpc)"
        )
    commands = docker_commands(folder, tag, push)
    missing = docker_missing()
    if missing is not None:
        raise ToolMissing(
            f"docker: {missing}; to build the image, run:\n{_shown(commands, folder.path)}"
        )
    for command in commands:
        _run(command, folder.path)


def platform_commands(folder: PackageFolder, platform: str) -> list[tuple[str, ...]]:
    spec = PLATFORMS[platform]
    return [tuple(part.format(name=folder.name) for part in c) for c in spec.commands]


def deploy(folder: PackageFolder, platform: str, apply: bool) -> str:
    """Show (or with *apply*, run) the platform's commands for one package folder."""
    commands = platform_commands(folder, platform)
    shown = _shown(commands, folder.path)
    if not apply:
        return f"{folder.path}: {platform} files written; to deploy, run:\n{shown}"
    cli = PLATFORMS[platform].cli
    if shutil.which(cli) is None:
        raise ToolMissing(
            f"{cli}: not installed (the {platform} command line); to deploy, run:\n{shown}"
        )
    for command in commands:
        _run(command, folder.path)
    return f"{folder.path}: deployed to {platform}"
