"""The shared remote cache: LLM replies kept on an HTTP cache server for a team or a CI fleet.

It speaks Bazel's HTTP cache protocol, nothing more: ``GET``/``PUT``/``HEAD`` on
``/cas/<sha256>`` and ``/ac/<64 hex>`` below the configured URL. The servers Bazel users run serve
it: nginx with WebDAV, which stores whatever it is sent, and bazel-remote, which checks what it
stores (``http://cache:8080/apipack`` is a location to nginx, an instance name to bazel-remote).

* **CAS**: a blob's key must be the SHA-256 of its bytes (bazel-remote refuses the PUT
  otherwise). One reply is one blob: the canonical JSON (``_hashing.canonical_json``) of
  ``{format, key, request, provider, model, digest, code}``.
* **AC**: bazel-remote validates action-cache values as REAPI ``ActionResult`` protobufs, and
  answers 404 for one whose blobs are not all in the CAS. So an AC value here is a real
  ActionResult whose one output file, ``apipack-reply.json``, names the reply's blob: it works
  with validation on (the default) or off (``--disable_http_ac_validation``), and eviction of the
  blob reads as a miss. Each reply gets two AC entries, under
  ``sha256("apipack-remote/1 key <cache key>")`` and ``sha256("apipack-remote/1 request
  <request key>")``: the second serves builds that cannot learn the model digest (offline, or
  the LLM server down), as the local cache's request index does.

What comes back is checked here (its blob hash, the format, that it answers the key asked for; a
blob read back damaged is uploaded again by the next store, whatever ``HEAD`` says);
the caller then validates the code as it does a lock entry. The server is never essential: a
failure of the server (unreachable, slow, refusing, 5xx, answering nonsense) turns it off for the
rest of the process with one warning, and nothing is retried; a bad entry is skipped with one
warning. Warnings are queued, not printed: what a doit task prints is swallowed, so the caller
shows them. httpx errors are mapped here and nowhere else. The optional auth header is read from
``APIPACK_REMOTE_CACHE_HEADER`` only and never appears in a message, the caches or the lock.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from ..base import httpxload
from ..base.hashing import canonical_json

if TYPE_CHECKING:
    import httpx  # loaded with the first request: a build without a remote cache needs none

HEADER_VARIABLE = "APIPACK_REMOTE_CACHE_HEADER"
FORMAT = "apipack-remote/1"
REPLY_PATH = "apipack-reply.json"
#: a cache must never slow a build much: short timeouts (seconds), and no retries
READ_TIMEOUT, CONNECT_TIMEOUT = 10.0, 3.0
DAMAGED = "its blob does not have the digest it is stored under"
#: what an entry must hold, and of which type
FIELDS: dict[str, type] = {
    "key": str,
    "request": str,
    "provider": str,
    "model": str,
    "digest": str,
    "code": str,
}


class RemoteCache:
    """One bazel-remote server, read on a local miss and written after a validated reply."""

    def __init__(
        self,
        url: str,
        *,
        environ: Mapping[str, str] | None = None,
        transport: httpx.BaseTransport | None = None,
    ):
        self.url, self.transport = url.rstrip("/"), transport
        self.shown = _without_credentials(url)
        self.warnings: list[str] = []
        self.enabled = True
        #: blobs read back damaged: HEAD says they exist, so a store must overwrite them
        self.damaged: set[str] = set()
        self._client: httpx.Client | None = None
        self._pid = 0
        self._inherited: list[httpx.Client] = []
        self.headers: dict[str, str] = {}
        raw = (os.environ if environ is None else environ).get(HEADER_VARIABLE, "")
        if raw:
            name, colon, value = raw.partition(":")
            if not colon or not name.strip() or not value.strip() or "\n" in raw:
                self._off(f"{HEADER_VARIABLE} is not of the form 'Name: value'")
            else:
                self.headers[name.strip()] = value.strip()

    @property
    def client(self) -> httpx.Client:
        """This process's client. doit's workers are forked from the process that resolved: a
        pooled connection used by two processes would hand one the other's answers."""
        if self._client is None or self._pid != os.getpid():
            if self._client is not None:
                self._inherited.append(self._client)  # the parent's connections: never close
            self._client = httpxload.httpx.Client(
                base_url=self.url,
                timeout=httpxload.httpx.Timeout(READ_TIMEOUT, connect=CONNECT_TIMEOUT),
                transport=self.transport,
                headers=self.headers,
            )
            self._pid = os.getpid()
        return self._client

    # -- the two operations --

    def lookup(self, field: str, ident: str, label: str) -> dict[str, Any] | None:
        """The entry stored under *field* (``key`` or ``request``) = *ident*, or None; *label*
        names what it is for in warnings."""
        if not self.enabled:
            return None
        response = self._send("GET", f"/ac/{ac_name(field, ident)}")
        if response is None or response.status_code == 404:
            return None
        found = reply_digest(response.content)
        if found is None:  # bazel-remote never serves that: not the server we think it is
            self._off("answers action-cache reads with something not an ActionResult")
            return None
        digest, size = found
        blob = self._send("GET", f"/cas/{digest}")
        if blob is None or blob.status_code == 404:
            return None
        problem = _entry_problem(blob.content, digest, size)
        if problem == DAMAGED:
            self.damaged.add(digest)
        if problem is None:
            entry = json.loads(blob.content)
            if entry[field] == ident:
                return {name: entry[name] for name in FIELDS}
            problem = "it was stored for another request"
        self.ignore(label, problem)
        return None

    def store(self, entry: Mapping[str, str]) -> None:
        """Keep *entry* (every name of ``FIELDS``) in the CAS, and point both AC names at it."""
        if not self.enabled:
            return
        blob = canonical_json({"format": FORMAT, **{name: entry[name] for name in FIELDS}})
        digest = hashlib.sha256(blob).hexdigest()
        if digest in self.damaged:
            upload = True
        else:
            present = self._send("HEAD", f"/cas/{digest}")
            if present is None:
                return
            upload = present.status_code == 404
        if upload and self._send("PUT", f"/cas/{digest}", blob) is None:
            return
        result = action_result(digest, len(blob))
        for field in ("key", "request"):
            if self._send("PUT", f"/ac/{ac_name(field, entry[field])}", result) is None:
                return

    def take_warnings(self) -> list[str]:
        taken, self.warnings = self.warnings, []
        return taken

    def close(self) -> None:
        if self._client is not None and self._pid == os.getpid():
            self._client.close()
            self._client = None

    # -- talking to the server --

    def _send(self, method: str, path: str, content: bytes | None = None) -> httpx.Response | None:
        """One request; None (and the remote turned off) if the server failed."""
        try:
            response = self.client.request(method, path, content=content)
        except httpxload.httpx.TimeoutException:
            self._off(f"did not answer within {READ_TIMEOUT:.0f} s")
            return None
        except httpxload.httpx.HTTPError as exc:
            self._off(f"cannot be reached ({_reason(exc)})")
            return None
        if response.is_success or (method != "PUT" and response.status_code == 404):
            return response
        if response.status_code in (401, 403):
            self._off(
                f"refused {method} ({response.status_code}); check {HEADER_VARIABLE}, the "
                f"header it wants (e.g. 'Authorization: Basic ...')"
            )
            return None
        text = response.text.strip()
        detail = f" ({text.splitlines()[0][:120]})" if text else ""
        self._off(f"answered {method} {path.split('/')[1]}/… with {response.status_code}{detail}")
        return None

    def _off(self, problem: str) -> None:
        if self.enabled:
            self.enabled = False
            self.warnings.append(
                f"remote cache {self.shown}: {problem}; going on without it for this build"
            )

    def ignore(self, label: str, problem: str) -> None:
        """Skip one bad entry (the server stays on)."""
        self.warnings.append(f"remote cache {self.shown}: ignored its entry for {label}: {problem}")


def ac_name(field: str, ident: str) -> str:
    """The action-cache key of the entry whose *field* is *ident*."""
    return hashlib.sha256(f"{FORMAT} {field} {ident}".encode()).hexdigest()


def show_warnings(warnings: Iterable[str]) -> None:
    for warning in warnings:
        print(f"apipack: {warning}", file=sys.stderr)


def _entry_problem(blob: bytes, digest: str, size: int) -> str | None:
    """What is wrong with a blob read as an entry, if anything."""
    if hashlib.sha256(blob).hexdigest() != digest or len(blob) != size:
        return DAMAGED
    try:
        entry = json.loads(blob)
    except ValueError:
        return "its blob is not JSON"
    if not isinstance(entry, dict) or entry.get("format") != FORMAT:
        return f"its blob is not an {FORMAT} entry"
    wrong = [name for name, kind in FIELDS.items() if not isinstance(entry.get(name), kind)]
    return f"its blob lacks {', '.join(wrong)}" if wrong else None


def _without_credentials(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", ""))


def _reason(exc: httpx.HTTPError) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


# -- the few protobuf messages of REAPI needed (field numbers from remote_execution.proto) --
#
#   message Digest       { string hash = 1; int64 size_bytes = 2; }
#   message OutputFile   { string path = 1; Digest digest = 2; ... }
#   message ActionResult { repeated OutputFile output_files = 2; ... }


def action_result(digest: str, size: int) -> bytes:
    """A serialized ActionResult with one output file, ``apipack-reply.json``, of that blob."""
    digest_message = _field(1, digest.encode()) + _key(2, 0) + _varint(size)
    output_file = _field(1, REPLY_PATH.encode()) + _field(2, digest_message)
    return _field(2, output_file)


def reply_digest(data: bytes) -> tuple[str, int] | None:
    """The (sha256 hex, size) of ``apipack-reply.json`` in a serialized ActionResult, or None
    if *data* is not one (fields a server adds, such as execution metadata, are skipped)."""
    try:
        for number, value in _fields(data):
            if number != 2 or not isinstance(value, bytes):
                continue
            output = dict(_fields(value))
            digest_field = output.get(2)
            if output.get(1) != REPLY_PATH.encode() or not isinstance(digest_field, bytes):
                continue
            digest = dict(_fields(digest_field))
            hash_hex, size = digest.get(1, b""), digest.get(2, 0)
            if isinstance(hash_hex, bytes) and isinstance(size, int):
                text = hash_hex.decode("ascii")
                if len(text) == 64 and all(c in "0123456789abcdef" for c in text):
                    return text, size
    except (ValueError, UnicodeDecodeError):
        return None
    return None


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        low, value = value & 0x7F, value >> 7
        out.append(low | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _key(number: int, wire_type: int) -> bytes:
    return _varint(number << 3 | wire_type)


def _field(number: int, payload: bytes) -> bytes:
    """A length-delimited field (strings, bytes, messages)."""
    return _key(number, 2) + _varint(len(payload)) + payload


def _read_varint(data: bytes, at: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if at >= len(data) or shift > 63:
            raise ValueError("truncated varint")
        byte = data[at]
        value |= (byte & 0x7F) << shift
        at, shift = at + 1, shift + 7
        if not byte & 0x80:
            return value, at


def _fields(data: bytes) -> Iterator[tuple[int, int | bytes]]:
    """(field number, value) of each field of a message: varints as int, length-delimited as
    bytes; fixed-width fields are skipped; anything else is not protobuf (ValueError)."""
    at = 0
    while at < len(data):
        key, at = _read_varint(data, at)
        number, wire_type = key >> 3, key & 7
        if number == 0:
            raise ValueError("field number 0")
        if wire_type == 0:
            value, at = _read_varint(data, at)
            yield number, value
        elif wire_type == 2:
            length, at = _read_varint(data, at)
            if at + length > len(data):
                raise ValueError("truncated field")
            yield number, data[at : at + length]
            at += length
        elif wire_type in (1, 5):
            at += 8 if wire_type == 1 else 4
            if at > len(data):
                raise ValueError("truncated field")
        else:
            raise ValueError(f"wire type {wire_type}")
