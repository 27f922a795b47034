"""The shared remote cache end to end: `apipack generate` subprocesses, the fake LLM server of
``fake_llm.py``, and a bazel-remote server on 127.0.0.1 — the real one when it is installed
(``.ci/run`` installs it; else those cases skip) and the protocol stand-in of
``fake_bazel_remote.py``, which always runs.
"""

from __future__ import annotations

import base64
import hashlib
import json
import multiprocessing
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from fake_bazel_remote import (
    StandIn,
    bazel_remote_binary,
    free_port,
    htpasswd_line,
    start_bazel_remote,
)
from fake_llm import FakeLLM
from helpers import LLM_FUNCTIONS, LLM_SPEC, run_apipack, tree

from apipack_build._hashing import canonical_json
from apipack_build._remote import (
    FIELDS,
    FORMAT,
    HEADER_VARIABLE,
    RemoteCache,
    ac_name,
    action_result,
)

SPEC = LLM_SPEC.split("  - name: given")[0]  # the three the LLM writes
NOT_INSTALLED = (
    "bazel-remote is not installed (set APIPACK_BAZEL_REMOTE, or `go install "
    "github.com/buchgr/bazel-remote/v2@v2.5.1` as .ci/run does)"
)


@dataclass
class Remote:
    url: str
    stand_in: StandIn | None  # None: the real bazel-remote


@pytest.fixture
def fake() -> Iterator[FakeLLM]:
    server = FakeLLM().start()
    yield server
    server.stop()


@pytest.fixture(params=["bazel-remote", "stand-in"])
def serve(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[..., Remote]]:
    """``serve(user=None, password=None)``: a fresh, empty server of this kind."""
    stops: list[Callable[[], None]] = []

    def start(user: str | None = None, password: str | None = None) -> Remote:
        if request.param == "stand-in":
            stand_in = StandIn(user=user, password=password).start()
            stops.append(stand_in.stop)
            return Remote(stand_in.url, stand_in)
        binary = bazel_remote_binary()
        if binary is None:
            pytest.skip(NOT_INSTALLED)
        folder = tmp_path / f"bazel-remote-{len(stops)}"
        htpasswd = None
        if user is not None and password is not None:
            htpasswd = tmp_path / "htpasswd"
            htpasswd.write_text(htpasswd_line(user, password))
        server = start_bazel_remote(binary, folder, htpasswd)
        stops.append(server.stop)
        return Remote(server.url, None)

    yield start
    for stop in stops:
        stop()


def make_project(folder: Path) -> Path:
    (folder / "specs").mkdir(parents=True)
    (folder / "specs" / "tools.yml").write_text(SPEC, encoding="utf-8")
    (folder / "apipack.yml").write_text("specs: [specs/*.yml]\n", encoding="utf-8")
    return folder


def build(
    folder: Path, fake: FakeLLM | None, remote: str, *args: str, **env: str
) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    """``apipack generate`` with the remote cache at *remote*; the build summary."""
    summary = folder / ".summary.json"
    environ = {
        "APIPACK_LLM_RETRIES": "0",
        "APIPACK_LLM_REMOTE_CACHE": remote,
        **({"APIPACK_LLM_BASE_URL": fake.url} if fake is not None else {}),
        **env,
    }
    done = run_apipack(
        folder, "generate", "--summary-json", str(summary), *args, env=environ, timeout=120
    )
    return done, json.loads(summary.read_text()) if summary.exists() else {}


def remote_warnings(done: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in done.stderr.splitlines() if "remote cache" in line]


def test_a_clean_build_gets_every_body_from_the_remote(
    tmp_path: Path, fake: FakeLLM, serve: Callable[..., Remote]
) -> None:
    remote = serve()
    first = make_project(tmp_path / "first")
    done, summary = build(first, fake, remote.url, "-n", "2", APIPACK_LLM_CONCURRENCY="2")
    assert done.returncode == 0, done.stderr
    assert summary["llm_calls"] == LLM_FUNCTIONS and not remote_warnings(done), done.stderr

    # another machine: no local cache, no lock
    second = make_project(tmp_path / "second")
    calls = fake.chat_count
    done, summary = build(second, fake, remote.url)
    assert done.returncode == 0, done.stderr
    assert fake.chat_count == calls and summary["llm_calls"] == 0
    assert summary["llm_remote_hits"] == LLM_FUNCTIONS
    assert f"{LLM_FUNCTIONS} remote hits" in done.stdout
    assert tree(second / "generated") == tree(first / "generated")
    assert (second / "apipack.lock").read_bytes() == (first / "apipack.lock").read_bytes()
    # the local cache was filled on the way: a rebuild there needs no server at all
    done, summary = build(second, fake, f"http://127.0.0.1:{free_port()}")
    assert summary["tasks_run"] == 0 and not remote_warnings(done)

    # offline with the model server gone, no lock: the entries by request key answer
    third = make_project(tmp_path / "third")
    done, summary = build(
        third, None, remote.url, "--offline", APIPACK_LLM_BASE_URL="http://127.0.0.1:9"
    )
    assert done.returncode == 0, done.stderr
    assert summary["llm_remote_hits"] == LLM_FUNCTIONS
    assert tree(third / "generated") == tree(first / "generated")


def test_a_remote_that_is_down_or_not_bazel_remote_only_warns(
    tmp_path: Path, fake: FakeLLM
) -> None:
    down = f"http://127.0.0.1:{free_port()}"
    for name, url, problem in (
        ("down", down, "cannot be reached"),
        ("wrong", fake.url, "with 501"),  # an HTTP server, but not a cache
    ):
        project = make_project(tmp_path / name)
        calls = fake.chat_count
        done, _ = build(project, fake, url)
        assert done.returncode == 0, done.stderr
        assert fake.chat_count == calls + LLM_FUNCTIONS
        warnings = remote_warnings(done)
        assert len(warnings) == 1, done.stderr
        assert problem in warnings[0] and "going on without it" in warnings[0]
        assert len(tree(project / "generated")) == len(tree(tmp_path / "down" / "generated"))


def test_the_auth_header_reaches_the_server_and_nothing_else(
    tmp_path: Path, fake: FakeLLM, serve: Callable[..., Remote]
) -> None:
    secret = "pw-" + "s3cret" * 4
    token = base64.b64encode(f"team:{secret}".encode()).decode()
    remote = serve(user="team", password=secret)
    header = {HEADER_VARIABLE: f"Authorization: Basic {token}"}
    runs = []

    first = make_project(tmp_path / "first")
    runs.append(build(first, fake, remote.url, **header))
    second = make_project(tmp_path / "second")
    runs.append(build(second, fake, remote.url, **header))
    assert [done.returncode for done, _ in runs] == [0, 0], runs[-1][0].stderr
    assert [s["llm_calls"] for _, s in runs] == [LLM_FUNCTIONS, 0]
    assert runs[1][1]["llm_remote_hits"] == LLM_FUNCTIONS
    if remote.stand_in is not None:
        seen = [r["headers"].get("Authorization") for r in remote.stand_in.requests]
        assert seen and all(value == f"Basic {token}" for value in seen)
    assert all("Authorization" not in chat["headers"] for chat in fake.chats)

    # without the header the server refuses: one warning, and the model answers
    third = make_project(tmp_path / "third")
    done, summary = build(third, fake, remote.url)
    runs.append((done, summary))
    assert done.returncode == 0, done.stderr
    assert summary["llm_calls"] == LLM_FUNCTIONS
    warnings = remote_warnings(done)
    assert len(warnings) == 1 and "refused" in warnings[0] and HEADER_VARIABLE in warnings[0]

    for done, _ in runs:
        assert secret not in done.stdout + done.stderr and token not in done.stdout + done.stderr
    for path in tmp_path.rglob("*"):
        if path.is_file() and "bazel-remote" not in path.parts[-2] and path.name != "htpasswd":
            data = path.read_bytes()
            assert secret.encode() not in data and token.encode() not in data, path


def test_bad_entries_on_the_remote_are_ignored(
    tmp_path: Path, fake: FakeLLM, serve: Callable[..., Remote]
) -> None:
    remote = serve()
    first = make_project(tmp_path / "first")
    done, _ = build(first, fake, remote.url)
    assert done.returncode == 0, done.stderr
    lock = yaml.safe_load((first / "apipack.lock").read_text())
    entries = {e["function"]: e for e in lock["entries"]}

    def put(kind: str, name: str, data: bytes) -> None:
        response = httpx.put(f"{remote.url}/{kind}/{name}", content=data, timeout=10)
        assert response.status_code == 200, response.text

    def point(function: str, blob: bytes) -> None:
        """Make the entry of *function* (by cache key) name *blob*."""
        digest = hashlib.sha256(blob).hexdigest()
        put("cas", digest, blob)
        put("ac", ac_name("key", entries[function]["key"]), action_result(digest, len(blob)))

    # a well-formed entry whose code does not have the spec's signature
    shout = entries["shout"]
    wrong = {name: shout[name] for name in ("key", "request", "provider", "model", "digest")}
    point("shout", canonical_json({"format": FORMAT, **wrong, "code": "def shout(w):\n    pass\n"}))
    # an entry whose blob is not JSON at all
    point("count_vowels", b"\x00\x01 not json")

    second = make_project(tmp_path / "second")
    done, summary = build(second, fake, remote.url)
    assert done.returncode == 0, done.stderr
    assert summary["llm_calls"] == 2 and summary["llm_remote_hits"] == 1
    warnings = remote_warnings(done)
    assert len(warnings) == 2, done.stderr
    assert any("llm-tools.shout (python)" in w and "not valid" in w for w in warnings)
    assert any("llm-tools.count_vowels (python)" in w and "not JSON" in w for w in warnings)
    assert tree(second / "generated") == tree(first / "generated")

    # the model's valid answers were written back over the bad entries
    third = make_project(tmp_path / "third")
    done, summary = build(third, fake, remote.url)
    assert summary["llm_calls"] == 0 and summary["llm_remote_hits"] == LLM_FUNCTIONS
    assert not remote_warnings(done)


_FORKED: dict[str, RemoteCache] = {}
ENTRY_FIELDS = tuple(FIELDS)


def _store_and_read(worker: int) -> list[str]:
    remote = _FORKED["remote"]
    for index in range(10):
        entry = {name: f"{name}-{worker}-{index}" for name in ENTRY_FIELDS}
        remote.store(entry)
        if remote.lookup("key", entry["key"], "f") != entry:
            return [f"worker {worker} read another answer", *remote.take_warnings()]
    return remote.take_warnings()


def test_the_client_works_in_forked_workers() -> None:
    """doit's workers (``-n 2``) are forked after resolution used the client: each process must
    talk on its own connections, or one reads another's answers."""
    server = StandIn().start()
    try:
        _FORKED["remote"] = RemoteCache(server.url, environ={})
        assert _FORKED["remote"].lookup("key", "none", "f") is None  # a pooled connection
        parent = server.requests[-1]["peer"]
        with multiprocessing.get_context("fork").Pool(2) as pool:
            assert pool.map(_store_and_read, range(4)) == [[], [], [], []]
        assert all(r["peer"] != parent for r in server.requests[1:])
    finally:
        _FORKED.clear()
        server.stop()
