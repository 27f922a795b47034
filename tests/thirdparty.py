"""Third-party clients and checkers, installed from their registries and cached across runs.

Each tool is pinned and installed once into ``~/.cache/apipack-tests/<tool>-<version>/`` (or
``$APIPACK_TEST_CACHE``) under a file lock, so pytest-xdist workers and later runs share it:

- openapi-generator (its jar, from Maven Central through ``mvn dependency:copy``; run by Java);
- openapi-python-client (PyPI, into a virtual environment of its own);
- grpcurl and buf (the Go module proxy, through ``go install``);
- TypeScript's ``tsc`` (the npm registry);
- a virtual environment with what openapi-generator's ``python`` client imports (PyPI).

Nothing is looked up on PATH but the toolchains that install (``mvn``, ``java``, ``go``,
``npm``, ``node``); a missing toolchain fails with what to install.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from filelock import FileLock

OPENAPI_GENERATOR = "7.25.0"
OPENAPI_PYTHON_CLIENT = "0.29.1"
GRPCURL = "v1.9.3"
BUF = "v1.75.0"
TYPESCRIPT = "5.9.3"
#: what a client written by openapi-generator's ``python`` generator imports
OPENAPI_GENERATOR_PYTHON_RUNTIME = (
    "pydantic>=2",
    "python-dateutil>=2.8.2",
    "typing-extensions>=4.7.1",
    "urllib3>=2.1,<3",
)
_TIMEOUT = 900


def cache() -> Path:
    root = os.environ.get("APIPACK_TEST_CACHE") or Path.home() / ".cache" / "apipack-tests"
    return Path(root)


def toolchain(name: str, how: str) -> str:
    """A toolchain the installs need, or a failure saying how to get it."""
    found = shutil.which(name)
    assert found, f"{name} is needed to install the third-party test clients: {how}"
    return found


def _run(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> None:
    done = subprocess.run(
        command,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=_TIMEOUT,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, f"{' '.join(command)}:\n{done.stdout}\n{done.stderr}"


def _lock(folder: Path) -> FileLock:
    """The lock of one tool's folder, beside it (``buf-v1.75.0.lock``)."""
    return FileLock(str(folder.parent / f"{folder.name}.lock"))


def openapi_generator() -> list[str]:
    """The command that runs openapi-generator-cli."""
    java = toolchain("java", "apt-get install openjdk-17-jre-headless")
    folder = cache() / f"openapi-generator-{OPENAPI_GENERATOR}"
    jar = folder / f"openapi-generator-cli-{OPENAPI_GENERATOR}.jar"
    folder.mkdir(parents=True, exist_ok=True)
    with _lock(folder):
        if not jar.is_file():
            mvn = toolchain("mvn", "apt-get install maven")
            _run(
                [
                    mvn,
                    "-q",
                    "-B",
                    "org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy",
                    f"-Dartifact=org.openapitools:openapi-generator-cli:{OPENAPI_GENERATOR}",
                    f"-DoutputDirectory={folder}",
                ],
                folder,
            )
    return [java, "-jar", str(jar)]


def python_venv(name: str, requirements: tuple[str, ...]) -> Path:
    """The python of a cached virtual environment holding *requirements*."""
    folder = cache() / name
    python = folder / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    folder.parent.mkdir(parents=True, exist_ok=True)
    with _lock(folder):
        if not (folder / "ready").exists():
            shutil.rmtree(folder, ignore_errors=True)
            _run([sys.executable, "-m", "venv", str(folder)], folder.parent)
            pip = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
            _run([*pip, *requirements], folder)
            (folder / "ready").touch()
    return python


def openapi_python_client() -> list[str]:
    """The command that runs openapi-python-client."""
    python = python_venv(
        f"openapi-python-client-{OPENAPI_PYTHON_CLIENT}",
        (f"openapi-python-client=={OPENAPI_PYTHON_CLIENT}",),
    )
    return [str(python), "-m", "openapi_python_client"]


def go_tool(package: str, version: str) -> str:
    """A Go program installed with ``go install package@version``."""
    go = toolchain("go", "install Go from https://go.dev/dl/ (or apt-get install golang)")
    name = package.rstrip("/").rsplit("/", 1)[-1]
    folder = cache() / f"{name}-{version}"
    binary = folder / (f"{name}.exe" if os.name == "nt" else name)
    folder.mkdir(parents=True, exist_ok=True)
    with _lock(folder):
        if not binary.is_file():
            _run([go, "install", f"{package}@{version}"], folder, {"GOBIN": str(folder)})
    return str(binary)


def grpcurl() -> str:
    return go_tool("github.com/fullstorydev/grpcurl/cmd/grpcurl", GRPCURL)


def buf() -> str:
    return go_tool("github.com/bufbuild/buf/cmd/buf", BUF)


def tsc() -> list[str]:
    """The command that runs TypeScript's compiler (by node)."""
    node = toolchain("node", "apt-get install nodejs npm")
    folder = cache() / f"typescript-{TYPESCRIPT}"
    script = folder / "node_modules" / "typescript" / "bin" / "tsc"
    folder.mkdir(parents=True, exist_ok=True)
    with _lock(folder):
        if not script.is_file():
            npm = toolchain("npm", "apt-get install nodejs npm")
            _run(
                [
                    npm,
                    "install",
                    "--no-save",
                    "--no-audit",
                    "--no-fund",
                    "--prefix",
                    str(folder),
                    f"typescript@{TYPESCRIPT}",
                ],
                folder,
            )
    return [node, str(script)]
