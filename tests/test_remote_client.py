"""The remote-cache client on its own, through httpx's MockTransport: its protobuf, its failure
modes, and what its warnings show. End-to-end tests against a server are in
``test_remote_cache.py``."""

from __future__ import annotations

import hashlib

import httpx
import pytest

from apipack_build.ask.remote import FORMAT, RemoteCache, ac_name, action_result, reply_digest
from apipack_build.base.hashing import canonical_json

DIGEST = hashlib.sha256(b"blob").hexdigest()
ENTRY = {
    "key": "xxh3:" + "1" * 32,
    "request": "xxh3:" + "2" * 32,
    "provider": "ollama",
    "model": "mistral:7b",
    "digest": "sha256:" + "a" * 64,
    "code": "def f() -> int:\n    return 1\n",
}


def test_action_result_round_trip_skips_fields_a_server_adds() -> None:
    data = action_result(DIGEST, 300)
    assert reply_digest(data) == (DIGEST, 300)
    # bazel-remote adds ExecutedActionMetadata (field 9) with the worker (field 1)
    worker = b"\x0a\x09127.0.0.1"
    assert reply_digest(data + b"\x4a" + bytes([len(worker)]) + worker) == (DIGEST, 300)
    for garbage in (b"", b"<html>not found</html>", data[:-3], b"\xff" * 12):
        assert reply_digest(garbage) is None


class Server:
    """A dict-backed cache behind MockTransport; *status* forces an answer."""

    def __init__(self, status: int | None = None, body: bytes = b""):
        self.store: dict[str, bytes] = {}
        self.status, self.body = status, body
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.status is not None:
            return httpx.Response(self.status, content=self.body)
        path = request.url.path
        if request.method == "PUT":
            self.store[path] = request.content
            return httpx.Response(200)
        if path not in self.store:
            return httpx.Response(404)
        return httpx.Response(200, content=b"" if request.method == "HEAD" else self.store[path])

    def client(self, url: str = "http://cache.test:8080", **environ: str) -> RemoteCache:
        return RemoteCache(url, environ=environ, transport=httpx.MockTransport(self))


def test_store_then_lookup_by_either_key() -> None:
    server = Server()
    remote = server.client()
    remote.store(ENTRY)
    blob = canonical_json({"format": FORMAT, **ENTRY})
    sha = hashlib.sha256(blob).hexdigest()
    assert server.store[f"/cas/{sha}"] == blob
    assert server.store[f"/ac/{ac_name('key', ENTRY['key'])}"] == action_result(sha, len(blob))
    assert remote.lookup("key", ENTRY["key"], "f") == ENTRY
    assert remote.lookup("request", ENTRY["request"], "f") == ENTRY
    assert remote.lookup("key", "xxh3:" + "3" * 32, "g") is None
    assert remote.take_warnings() == []
    # a second store finds the blob with HEAD and does not send it again
    before = len([r for r in server.requests if r.url.path.startswith("/cas/")])
    remote.store(ENTRY)
    cas = [r.method for r in server.requests if r.url.path.startswith("/cas/")][before:]
    assert cas == ["HEAD"]


@pytest.mark.parametrize(
    "status, body, expected",
    [
        (500, b"disk full", "with 500 (disk full)"),
        (401, b"", "refused GET (401)"),
        (200, b"<html>hello</html>", "not an ActionResult"),
    ],
)
def test_a_failing_server_is_turned_off_with_one_warning(
    status: int, body: bytes, expected: str
) -> None:
    server = Server(status, body)
    remote = server.client("http://user:hunter2@cache.test:8080/team")
    assert remote.lookup("key", ENTRY["key"], "f") is None
    assert remote.lookup("key", ENTRY["key"], "f") is None
    remote.store(ENTRY)
    assert len(server.requests) == 1  # nothing more was sent once it failed
    warnings = remote.take_warnings()
    assert len(warnings) == 1 and expected in warnings[0]
    assert "http://cache.test:8080/team" in warnings[0] and "hunter2" not in warnings[0]


def test_an_unreachable_server_and_a_bad_header() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused")

    remote = RemoteCache("http://cache.test", transport=httpx.MockTransport(refuse), environ={})
    assert remote.lookup("request", ENTRY["request"], "f") is None
    assert "cannot be reached (ConnectError: connection refused)" in remote.take_warnings()[0]

    server = Server()
    remote = server.client(APIPACK_REMOTE_CACHE_HEADER="Bearer-without-a-name")
    remote.store(ENTRY)
    assert server.requests == []
    (warning,) = remote.take_warnings()
    assert "APIPACK_REMOTE_CACHE_HEADER is not of the form" in warning
    assert "Bearer-without-a-name" not in warning

    server = Server()
    server.client(APIPACK_REMOTE_CACHE_HEADER="X-Token:  abc ").store(ENTRY)
    assert all(r.headers["X-Token"] == "abc" for r in server.requests)
