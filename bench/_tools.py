"""openapi-generator for the comparison: found in ``bench/.tools/``, or installed there.

The jar ``org.openapitools:openapi-generator-cli`` comes from Maven Central through ``mvn
dependency:copy``; without Maven, the npm wrapper ``@openapitools/openapi-generator-cli`` is
installed into the same folder and fetches the same jar. Either way the benchmark runs the jar
with ``java -jar`` (no wrapper in the timings). When nothing works the reason is returned,
never raised: the comparison is reported as unavailable and the rest of the run goes on.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

TOOLS = Path(__file__).resolve().parent / ".tools"
VERSION = "7.25.0"
ARTIFACT = f"org.openapitools:openapi-generator-cli:{VERSION}"
DEPENDENCY_PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.6.1"
NPM_PACKAGE = "@openapitools/openapi-generator-cli@2"
INSTALL_TIMEOUT = 900.0


@dataclass(frozen=True)
class Generator:
    """How to run openapi-generator, or why it cannot run."""

    command: tuple[str, ...] = ()
    version: str = ""
    unavailable: str = ""


def _jar(tools: Path) -> Path:
    return tools / f"openapi-generator-cli-{VERSION}.jar"


def _npm_jar(tools: Path) -> Path:
    return (
        tools / "node_modules" / "@openapitools" / "openapi-generator-cli" / "versions"
    ) / f"{VERSION}.jar"


def _run(command: list[str], cwd: Path, log: list[str]) -> bool:
    try:
        done = subprocess.run(
            command,
            cwd=cwd,
            env={**os.environ, "PWD": str(cwd)},  # the npm wrapper finds its config by $PWD
            capture_output=True,
            text=True,
            timeout=INSTALL_TIMEOUT,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        log.append(f"{command[0]}: {exc}")
        return False
    if done.returncode != 0:
        last = (done.stdout + done.stderr).strip().splitlines()[-3:]
        log.append(f"{' '.join(command[:2])}: exit {done.returncode}: {' / '.join(last)}")
    return done.returncode == 0


def _install_with_maven(tools: Path, log: list[str]) -> Path | None:
    mvn = shutil.which("mvn")
    if mvn is None:
        log.append("mvn: not installed")
        return None
    command = [
        mvn,
        "-q",
        "-B",
        f"{DEPENDENCY_PLUGIN}:copy",
        f"-Dartifact={ARTIFACT}",
        f"-DoutputDirectory={tools}",
    ]
    return _jar(tools) if _run(command, tools, log) and _jar(tools).is_file() else None


def _install_with_npm(tools: Path, log: list[str]) -> Path | None:
    npm = shutil.which("npm")
    if npm is None:
        log.append("npm: not installed")
        return None
    if not _run([npm, "install", "--no-save", "--prefix", str(tools), NPM_PACKAGE], tools, log):
        return None
    wrapper = tools / "node_modules" / ".bin" / "openapi-generator-cli"
    # The wrapper downloads the jar its openapitools.json names on first use. Its
    # `version-manager set` asks a search service for the list of versions first, so the pin
    # is written directly: the download itself needs only Maven Central.
    (tools / "openapitools.json").write_text(
        json.dumps({"generator-cli": {"version": VERSION}}) + "\n", encoding="utf-8"
    )
    _run([str(wrapper), "version"], tools, log)
    return _npm_jar(tools) if _npm_jar(tools).is_file() else None


def find_or_install(tools: Path = TOOLS, *, install: bool = True) -> Generator:
    java = shutil.which("java")
    if java is None:
        return Generator(unavailable="java is not installed (openapi-generator needs Java 11+)")
    jar = next((j for j in (_jar(tools), _npm_jar(tools)) if j.is_file()), None)
    log: list[str] = []
    if jar is None and install:
        tools.mkdir(parents=True, exist_ok=True)
        jar = _install_with_maven(tools, log) or _install_with_npm(tools, log)
    if jar is None:
        reason = "; ".join(log) if log else f"not in {tools} and installing was not allowed"
        return Generator(
            unavailable=f"openapi-generator {VERSION} could not be installed: {reason}"
        )
    command = (java, "-jar", str(jar))
    probe: list[str] = []
    if not _run([*command, "version"], tools, probe):
        return Generator(unavailable=f"openapi-generator does not run: {'; '.join(probe)}")
    return Generator(command=command, version=VERSION)
