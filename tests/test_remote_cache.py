"""The shared remote cache end to end: `apipack generate` subprocesses, the fake LLM server of
``fake_llm.py``, and a real HTTP cache server on 127.0.0.1: nginx with WebDAV, as Bazel's
remote-caching documentation configures it (``nginx_cache.py``).
"""

from __future__ import annotations

import base64
import hashlib
import json
import multiprocessing
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from fake_llm import FakeLLM, Fault
from helpers import LLM_FUNCTIONS, LLM_SPEC, llm_project, run_apipack, tree
from nginx_cache import NOT_INSTALLED, Nginx, free_port, nginx_binary, start_nginx

from apipack_build.ask.remote import (
    FIELDS,
    FORMAT,
    HEADER_VARIABLE,
    RemoteCache,
    ac_name,
    action_result,
    reply_digest,
)
from apipack_build.base.hashing import canonical_json

SPEC = LLM_SPEC.split("  - name: given")[0]  # the three the LLM writes


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., Nginx]]:
    """``serve(user=None, password=None)``: a fresh nginx with an empty cache."""
    binary = nginx_binary()
    if binary is None:
        pytest.skip(NOT_INSTALLED)
    servers: list[Nginx] = []

    def start(user: str | None = None, password: str | None = None) -> Nginx:
        servers.append(start_nginx(binary, tmp_path / f"nginx-{len(servers)}", user, password))
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


def cache_requests(server: Nginx) -> list[Any]:
    """The requests apipack made (not the readiness probe of ``start_nginx``)."""
    return [r for r in server.requests() if r.path.startswith(("/ac/", "/cas/"))]


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
    tmp_path: Path, fake: FakeLLM, serve: Callable[..., Nginx]
) -> None:
    remote = serve()
    first = llm_project(tmp_path / "first", SPEC)
    done, summary = build(first, fake, remote.url, "-n", "2", APIPACK_LLM_CONCURRENCY="2")
    assert done.returncode == 0, done.stderr
    assert summary["llm_calls"] == LLM_FUNCTIONS and not remote_warnings(done), done.stderr

    # another machine: no local cache, no lock
    second = llm_project(tmp_path / "second", SPEC)
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
    third = llm_project(tmp_path / "third", SPEC)
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
        project = llm_project(tmp_path / name, SPEC)
        calls = fake.chat_count
        done, _ = build(project, fake, url)
        assert done.returncode == 0, done.stderr
        assert fake.chat_count == calls + LLM_FUNCTIONS
        warnings = remote_warnings(done)
        assert len(warnings) == 1, done.stderr
        assert problem in warnings[0] and "going on without it" in warnings[0]
        assert len(tree(project / "generated")) == len(tree(tmp_path / "down" / "generated"))


def test_the_auth_header_reaches_the_server_and_nothing_else(
    tmp_path: Path, fake: FakeLLM, serve: Callable[..., Nginx]
) -> None:
    secret = "pw-" + "s3cret" * 4
    token = base64.b64encode(f"team:{secret}".encode()).decode()
    remote = serve(user="team", password=secret)
    header = {HEADER_VARIABLE: f"Authorization: Basic {token}"}
    runs = []

    first = llm_project(tmp_path / "first", SPEC)
    runs.append(build(first, fake, remote.url, **header))
    second = llm_project(tmp_path / "second", SPEC)
    runs.append(build(second, fake, remote.url, **header))
    assert [done.returncode for done, _ in runs] == [0, 0], runs[-1][0].stderr
    assert [s["llm_calls"] for _, s in runs] == [LLM_FUNCTIONS, 0]
    assert runs[1][1]["llm_remote_hits"] == LLM_FUNCTIONS
    seen = cache_requests(remote)
    assert seen and all(r.user == "team" and r.status != 401 for r in seen), seen
    assert all("Authorization" not in chat["headers"] for chat in fake.chats)

    # without the header the server refuses: one warning, and the model answers
    third = llm_project(tmp_path / "third", SPEC)
    done, summary = build(third, fake, remote.url)
    runs.append((done, summary))
    assert done.returncode == 0, done.stderr
    assert summary["llm_calls"] == LLM_FUNCTIONS
    warnings = remote_warnings(done)
    assert len(warnings) == 1 and "refused" in warnings[0] and HEADER_VARIABLE in warnings[0]

    for done, _ in runs:
        assert secret not in done.stdout + done.stderr and token not in done.stdout + done.stderr
    for path in tmp_path.rglob("*"):  # the server's files and logs included
        if path.is_file():
            data = path.read_bytes()
            assert secret.encode() not in data and token.encode() not in data, path


def test_bad_entries_on_the_remote_are_ignored(
    tmp_path: Path, fake: FakeLLM, serve: Callable[..., Nginx]
) -> None:
    remote = serve()
    first = llm_project(tmp_path / "first", SPEC)
    done, _ = build(first, fake, remote.url)
    assert done.returncode == 0, done.stderr
    lock = yaml.safe_load((first / "apipack.lock").read_text())
    entries = {e["function"]: e for e in lock["entries"]}

    def put(kind: str, name: str, data: bytes) -> None:
        response = httpx.put(f"{remote.url}/{kind}/{name}", content=data, timeout=10)
        assert response.is_success, response.text

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

    second = llm_project(tmp_path / "second", SPEC)
    done, summary = build(second, fake, remote.url)
    assert done.returncode == 0, done.stderr
    assert summary["llm_calls"] == 2 and summary["llm_remote_hits"] == 1
    warnings = remote_warnings(done)
    assert len(warnings) == 2, done.stderr
    assert any("llm-tools.shout (python)" in w and "not valid" in w for w in warnings)
    assert any("llm-tools.count_vowels (python)" in w and "not JSON" in w for w in warnings)
    assert tree(second / "generated") == tree(first / "generated")

    # the model's valid answers were written back over the bad entries
    third = llm_project(tmp_path / "third", SPEC)
    done, summary = build(third, fake, remote.url)
    assert summary["llm_calls"] == 0 and summary["llm_remote_hits"] == LLM_FUNCTIONS
    assert not remote_warnings(done)


def test_a_blob_corrupted_on_the_server_is_never_used(
    tmp_path: Path, fake: FakeLLM, serve: Callable[..., Nginx]
) -> None:
    """A plain HTTP cache checks nothing it stores: a blob changed on its disk (bit rot, or a
    hand) is refused by its digest; the model is asked, or the lock answers."""
    remote = serve()
    first = llm_project(tmp_path / "first", SPEC)
    done, _ = build(first, fake, remote.url)
    assert done.returncode == 0, done.stderr
    halve = next(
        e
        for e in yaml.safe_load((first / "apipack.lock").read_text())["entries"]
        if e["function"] == "halve"
    )
    found = reply_digest(remote.blob("ac", ac_name("key", halve["key"])).read_bytes())
    assert found is not None
    blob = remote.blob("cas", found[0])
    tampered = blob.read_bytes().replace(b"return result", b"return -result  # tampered")
    assert tampered != blob.read_bytes()

    def corrupt() -> None:
        blob.write_bytes(tampered)

    def clean_of_it(project: Path) -> bool:
        return all(b"tampered" not in p.read_bytes() for p in project.rglob("*") if p.is_file())

    corrupt()
    second = llm_project(tmp_path / "second", SPEC)
    calls = fake.chat_count
    done, summary = build(second, fake, remote.url)
    assert done.returncode == 0, done.stderr
    assert (fake.chat_count - calls, summary["llm_remote_hits"]) == (1, LLM_FUNCTIONS - 1)
    warnings = remote_warnings(done)
    assert len(warnings) == 1 and "llm-tools.halve (python)" in warnings[0], done.stderr
    assert "digest" in warnings[0]
    assert tree(second / "generated") == tree(first / "generated") and clean_of_it(second)

    # the model's answer was written over the damaged blob: the next clone reads all three
    third = llm_project(tmp_path / "third", SPEC)
    done, summary = build(third, fake, remote.url)
    assert summary["llm_remote_hits"] == LLM_FUNCTIONS and not remote_warnings(done)

    # damaged again, in a clone that has the lock: the lock answers, the model is not asked
    corrupt()
    fourth = llm_project(tmp_path / "fourth", SPEC)
    (fourth / "apipack.lock").write_bytes((first / "apipack.lock").read_bytes())
    calls = fake.chat_count
    done, summary = build(fourth, fake, remote.url)
    assert done.returncode == 0, done.stderr
    assert fake.chat_count == calls and summary["llm_lock_hits"] == 1
    assert len(remote_warnings(done)) == 1
    assert tree(fourth / "generated") == tree(first / "generated") and clean_of_it(fourth)


def test_a_server_stopped_mid_build_only_warns(
    tmp_path: Path, fake: FakeLLM, serve: Callable[..., Nginx]
) -> None:
    reference = llm_project(tmp_path / "reference", SPEC)
    done, _ = build(reference, fake, "")
    assert done.returncode == 0, done.stderr

    remote = serve()
    # the model is slow after its first answer: the server goes away while the build runs
    fake.faults.extend([Fault(), Fault(delay=1.5), Fault(delay=1.5)])
    stopped: list[int] = []

    def stop_after_the_first_write() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            requests = cache_requests(remote)
            if any(r.method == "PUT" for r in requests):
                remote.stop()
                stopped.append(len(requests))
                return
            time.sleep(0.02)

    watcher = threading.Thread(target=stop_after_the_first_write)
    watcher.start()
    project = llm_project(tmp_path / "project", SPEC)
    calls = fake.chat_count
    done, summary = build(project, fake, remote.url)
    watcher.join()

    assert stopped, "the build never wrote to the remote cache"
    assert done.returncode == 0, done.stderr
    assert fake.chat_count - calls == summary["llm_calls"] == LLM_FUNCTIONS
    warnings = remote_warnings(done)
    assert len(warnings) == 1 and "going on without it" in warnings[0], done.stderr
    assert tree(project / "generated") == tree(reference / "generated")


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


def test_the_client_works_in_forked_workers(serve: Callable[..., Nginx]) -> None:
    """doit's workers (``-n 2``) are forked after resolution used the client: each process must
    talk on its own connections, or one reads another's answers."""
    server = serve()
    try:
        _FORKED["remote"] = RemoteCache(server.url, environ={})
        assert _FORKED["remote"].lookup("key", "none", "f") is None  # a pooled connection
        parent = cache_requests(server)[-1].connection
        with multiprocessing.get_context("fork").Pool(2) as pool:
            assert pool.map(_store_and_read, range(4)) == [[], [], [], []]
        later = cache_requests(server)[1:]
        assert len(later) >= 4 * 10 * 4 and all(r.connection != parent for r in later)
    finally:
        _FORKED.clear()
