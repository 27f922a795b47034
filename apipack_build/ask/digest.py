"""The model digest an Ollama server reports, asked over a plain socket.

The no-op fast path asks for it once per run (``run.fastpath``), and so does a build's plan
(``llm.OllamaProvider.model_digest``): httpx and pydantic would cost ten times the request, and
even ``http.client`` loads ``ssl`` and ``email`` first. One
``GET /api/tags`` with ``Connection: close`` needs none of that: the status line, the headers,
and a body read to the end (de-chunked when the server streams it). It speaks only what it can
speak exactly as ``llm.OllamaProvider.model_digest`` does on httpx: plain ``http://`` (a URL's
``user:pass@`` sent as basic auth, as httpx sends it) with no proxy variable set. Anything else
— ``https``, a proxy, another provider — is ``UNSUPPORTED``, and the caller asks through the
provider itself. Every failure (unreachable, an error status, no such model, a reply it cannot
read) is None: the full path then asks again and says what is wrong. Nothing here logs or shows
the URL or its credentials.
"""

from __future__ import annotations

import base64
import json
import os
import socket
from typing import Any
from urllib.parse import quote, unquote, urlsplit

CONNECT_TIMEOUT = 10.0  # as ``llm.CONNECT_TIMEOUT``
MAX_REPLY_BYTES = 16 * 1024 * 1024  # a model list; more is not an Ollama server
#: the variables through which httpx (``trust_env``) would send the request via a proxy
PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy")
UNSUPPORTED = "unsupported"
#: the provider class this module speaks for, as its ``apipack.providers`` entry point names it
OLLAMA_PROVIDER = "apipack_build.llm:OllamaProvider"


def _proxied() -> bool:
    return any(os.environ.get(name) or os.environ.get(name.upper()) for name in PROXY_VARIABLES)


def plain_http(base_url: str) -> bool:
    """Does httpx reach *base_url* without TLS: an ``http://`` URL and no proxy variable (httpx
    follows no redirect unless asked)? Then its client needs no certificates."""
    return base_url.startswith("http://") and not _proxied()


def ollama_digest(base_url: str, model: str, timeout: float) -> str | None:
    """The digest of *model* in ``GET {base_url}/api/tags``; None if the server cannot say;
    ``UNSUPPORTED`` if this URL needs more than plain HTTP."""
    try:
        parts = urlsplit(base_url.rstrip("/"))
        port = parts.port or 80
    except ValueError:
        return UNSUPPORTED  # httpx says what is wrong with it
    if parts.scheme != "http" or parts.query or parts.fragment or not parts.hostname:
        return UNSUPPORTED
    if _proxied():
        return UNSUPPORTED
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    lines = [
        f"GET {quote(parts.path, safe='/%:@!$&()*+,;=~-._')}/api/tags HTTP/1.1",
        f"Host: {host}" + (f":{parts.port}" if parts.port else ""),
        "Accept: application/json",
        "Connection: close",
    ]
    if parts.username is not None:
        login = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
        lines.append("Authorization: Basic " + base64.b64encode(login).decode("ascii"))
    try:
        reply = _exchange(parts.hostname, port, "\r\n".join([*lines, "", ""]).encode(), timeout)
    except (OSError, UnicodeError):
        return None  # unreachable, refused, timed out
    body = _ok_body(reply)
    return None if body is None else _digest_in(body, model)


def _exchange(host: str, port: int, request: bytes, timeout: float) -> bytes:
    """Send *request*, then read the reply until the server closes the connection."""
    with socket.create_connection((host, port), timeout=min(CONNECT_TIMEOUT, timeout)) as sock:
        sock.settimeout(timeout)
        sock.sendall(request)
        chunks, size = [], 0
        while size <= MAX_REPLY_BYTES and (data := sock.recv(65536)):
            chunks.append(data)
            size += len(data)
    return b"".join(chunks)


def _ok_body(reply: bytes) -> bytes | None:
    """The body of an HTTP/1.x reply with a 2xx or 3xx status, de-chunked; else None."""
    head, found, body = reply.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = lines[0].split(b" ", 2)
    if not found or len(status) < 2 or not status[0].startswith(b"HTTP/1."):
        return None
    if not status[1].isdigit() or int(status[1]) >= 400:
        return None
    headers = {
        name.strip().lower(): value.strip()
        for name, _, value in (line.partition(b":") for line in lines[1:])
    }
    if b"chunked" in headers.get(b"transfer-encoding", b"").lower():
        return _dechunked(body)
    if headers.get(b"content-length", b"").isdigit():
        length = int(headers[b"content-length"])
        return body[:length] if len(body) >= length else None
    return body


def _dechunked(body: bytes) -> bytes | None:
    out: list[bytes] = []
    while True:
        size_line, found, body = body.partition(b"\r\n")
        try:
            size = int(size_line.split(b";", 1)[0], 16)
        except ValueError:
            return None
        if not found or len(body) < size:
            return None
        if size == 0:
            return b"".join(out)
        out.append(body[:size])
        body = body[size + 2 :]


def _digest_in(body: bytes, model: str) -> str | None:
    try:
        data: Any = json.loads(body)
    except ValueError:
        return None
    models = data.get("models", []) if isinstance(data, dict) else []
    for entry in models if isinstance(models, list) else []:
        if isinstance(entry, dict) and model in (entry.get("name"), entry.get("model")):
            return str(entry.get("digest", ""))
    return None
