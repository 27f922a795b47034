"""bazel-remote for the remote-cache tests: the real server when it is installed, and a stand-in.

``start_bazel_remote`` runs the real binary (``APIPACK_BAZEL_REMOTE``, else
``$(go env GOPATH)/bin/bazel-remote``; ``.ci/run`` installs it with ``go install``) on 127.0.0.1
with a fresh cache folder. ``StandIn`` is a real HTTP server on 127.0.0.1 that does what
bazel-remote's HTTP handler does, as its README and ``server/http.go`` describe it, for the paths
apipack uses: ``/[instance/](ac|cas)/<64 hex>`` or 400; a CAS PUT whose body does not hash to its
key is refused; AC values are parsed as ``ActionResult`` protobufs (400 if they are not), stored
with the worker address added to their execution metadata, and read as 404 while a blob they name
is missing from the CAS; PUT needs a Content-Length; htpasswd-style basic auth when given a user.
It records each request's method, path, headers and peer address. It is written from the
protocol, not from apipack's client (its protobuf reader is its own), so the two can disagree.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import shutil
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

PATH = re.compile(r"^/?(.*/)?(ac/|cas/)([a-f0-9]{64})$")
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


def bazel_remote_binary() -> Path | None:
    given = os.environ.get("APIPACK_BAZEL_REMOTE")
    if given:
        return Path(given) if Path(given).is_file() else None
    gopath = ""
    if shutil.which("go"):
        done = subprocess.run(["go", "env", "GOPATH"], capture_output=True, text=True)
        gopath = done.stdout.strip()
    candidate = Path(gopath or Path.home() / "go") / "bin" / "bazel-remote"
    return candidate if candidate.is_file() else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class BazelRemote:
    """A running bazel-remote process."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_bazel_remote(binary: Path, folder: Path, htpasswd: Path | None = None) -> BazelRemote:
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    args = [
        str(binary),
        "--dir",
        str(folder / "data"),
        "--max_size",
        "1",
        "--http_address",
        f"127.0.0.1:{port}",
        "--grpc_address",
        "none",
    ]
    if htpasswd is not None:
        args += ["--htpasswd_file", str(htpasswd)]
    log = folder / "bazel-remote.log"
    with log.open("wb") as out:
        process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT)
    server = BazelRemote(f"http://127.0.0.1:{port}", process, log)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"bazel-remote exited: {log.read_text(errors='replace')[-2000:]}")
        try:
            # the empty blob is always there: any answer (200, or 401 with auth) means it is up
            httpx.head(f"{server.url}/cas/{EMPTY_SHA256}", timeout=1)
            return server
        except httpx.HTTPError:
            time.sleep(0.1)
    server.stop()
    raise RuntimeError("bazel-remote did not start listening within 30 s")


def htpasswd_line(user: str, password: str) -> str:
    """An htpasswd entry in the ``{SHA}`` scheme (bazel-remote reads it)."""
    digest = base64.b64encode(hashlib.sha1(password.encode()).digest()).decode()
    return f"{user}:{{SHA}}{digest}\n"


# -- the stand-in --


def _varint(data: bytes, at: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[at]  # IndexError on truncation
        value |= (byte & 0x7F) << shift
        at, shift = at + 1, shift + 7
        if not byte & 0x80:
            return value, at


def parse_message(data: bytes) -> list[tuple[int, Any]]:
    """Protobuf fields as (number, int or bytes); raises on anything malformed."""
    fields: list[tuple[int, Any]] = []
    at = 0
    while at < len(data):
        key, at = _varint(data, at)
        number, kind = key >> 3, key & 7
        if number == 0:
            raise ValueError("field 0")
        if kind == 0:
            value, at = _varint(data, at)
        elif kind == 2:
            length, at = _varint(data, at)
            if at + length > len(data):
                raise ValueError("truncated")
            value, at = data[at : at + length], at + length
        elif kind in (1, 5):
            size = 8 if kind == 1 else 4
            value, at = data[at : at + size], at + size
        else:
            raise ValueError(f"wire type {kind}")
        fields.append((number, value))
    if at != len(data):
        raise ValueError("truncated")
    return fields


def blobs_named(action_result: bytes) -> list[str]:
    """The CAS hashes an ActionResult's output files name (field 2 → OutputFile.digest.hash)."""
    hashes = []
    for number, value in parse_message(action_result):
        if number == 2:
            output = dict(parse_message(value))
            if not output.get(1):
                raise ValueError("output file without a path")
            digest = dict(parse_message(output[2]))
            hashes.append(digest[1].decode("ascii"))
    return hashes


@dataclass
class StandIn:
    validate_ac: bool = True
    user: str | None = None
    password: str | None = None
    cas: dict[str, bytes] = field(default_factory=dict)
    ac: dict[str, bytes] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> StandIn:
        store = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # as Go's net/http: no 40 ms stalls on keep-alive

            def log_message(self, *args: Any) -> None:
                pass

            def _reply(self, status: int, body: bytes = b"", head: bool = False) -> None:
                self.send_response(status)
                self.send_header("content-type", "application/octet-stream")
                self.send_header("content-length", str(len(body)))
                if status == 401:
                    self.send_header("WWW-Authenticate", 'Basic realm="bazel-remote"')
                self.end_headers()
                if not head:
                    self.wfile.write(body)

            def _start(self) -> tuple[str, str] | None:
                with store.lock:
                    store.requests.append(
                        {
                            "method": self.command,
                            "path": self.path,
                            "headers": dict(self.headers),
                            "peer": self.client_address,
                        }
                    )
                length = self.headers.get("content-length")
                self.body = self.rfile.read(int(length)) if length else b""
                if store.user is not None:
                    expected = base64.b64encode(f"{store.user}:{store.password}".encode())
                    if self.headers.get("authorization", "") != f"Basic {expected.decode()}":
                        self._reply(401, b"Authorization required\n", self.command == "HEAD")
                        return None
                match = PATH.match(self.path)
                if match is None:
                    self._reply(400, b"resource name must be a SHA256 hash in hex\n")
                    return None
                return match.group(2).rstrip("/"), match.group(3)

            def _complete(self, value: bytes) -> bool:
                try:
                    return all(h in store.cas or h == EMPTY_SHA256 for h in blobs_named(value))
                except (ValueError, KeyError, IndexError, UnicodeDecodeError):
                    return False

            def _find(self, kind: str, key: str) -> bytes | None:
                with store.lock:
                    if kind == "cas":
                        return b"" if key == EMPTY_SHA256 else store.cas.get(key)
                    value = store.ac.get(key)
                if value is not None and store.validate_ac and not self._complete(value):
                    return None
                return value

            def do_GET(self) -> None:
                found = self._start()
                if found is None:
                    return
                value = self._find(*found)
                if value is None:
                    self._reply(404, b"Not found\n")
                else:
                    self._reply(200, value)

            def do_HEAD(self) -> None:
                found = self._start()
                if found is None:
                    return
                value = self._find(*found)
                self._reply(200 if value is not None else 404, b"", head=True)

            def do_PUT(self) -> None:
                found = self._start()
                if found is None:
                    return
                if self.headers.get("content-length") is None:
                    self._reply(400, b"PUT without Content-Length\n")
                    return
                kind, key = found
                body = self.body
                if kind == "cas" and hashlib.sha256(body).hexdigest() != key:
                    self._reply(400, b"hashes don't match\n")
                    return
                if kind == "ac" and store.validate_ac:
                    try:
                        blobs_named(body)
                    except (ValueError, KeyError, IndexError, UnicodeDecodeError) as exc:
                        self._reply(400, f"Failed to add worker metadata: {exc}\n".encode())
                        return
                    # bazel-remote records who wrote it: ExecutedActionMetadata.worker
                    worker = b"\x0a\x09127.0.0.1"
                    body += b"\x4a" + bytes([len(worker)]) + worker
                with store.lock:
                    (store.cas if kind == "cas" else store.ac)[key] = body
                self._reply(200)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
