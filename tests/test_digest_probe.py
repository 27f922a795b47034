"""The fast path's model-digest probe (``apipack_build/ask/digest.py``) against real servers on
127.0.0.1: what it reads must be what ``OllamaProvider.model_digest`` reads over httpx, and
everything it cannot say exactly as httpx would is left to the provider."""

from __future__ import annotations

import base64
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from fake_llm import FakeLLM

from apipack_build.ask.digest import OLLAMA_PROVIDER, PROXY_VARIABLES, UNSUPPORTED, ollama_digest
from apipack_build.llm import ModelMissing, OllamaProvider
from apipack_build.settings import LLMSettings

TAGS = b'{"models": [{"name": "tiny:1b", "model": "tiny:1b", "digest": "sha256:bbbb"}]}'


def test_it_reads_the_digest_the_provider_reads(fake: FakeLLM) -> None:
    # given a transport, the provider always asks through httpx
    provider = OllamaProvider(LLMSettings(base_url=fake.url, retries=0), httpx.HTTPTransport())
    try:
        expected = provider.model_digest()
    finally:
        provider.close()
    assert ollama_digest(fake.url, "mistral:7b", 5.0) == expected == fake.models["mistral:7b"]
    assert fake.other_requests == ["/api/tags", "/api/tags"]
    assert f"{OllamaProvider.__module__}:{OllamaProvider.__qualname__}" == OLLAMA_PROVIDER


def test_the_provider_asks_for_the_digest_without_loading_httpx(fake: FakeLLM) -> None:
    """A build whose bodies are all known asks the model only for its digest: for a plain-http
    Ollama server that costs the request, not httpx's import."""
    script = (
        "import sys\n"
        "from apipack_build.llm import OllamaProvider\n"
        "from apipack_build.settings import LLMSettings\n"
        f"provider = OllamaProvider(LLMSettings(base_url={fake.url!r}, retries=0))\n"
        "print(provider.model_digest(), 'httpx' in sys.modules)\n"
    )
    unproxied = {k: v for k, v in os.environ.items() if k.lower() not in PROXY_VARIABLES}
    run = subprocess.run(
        [sys.executable, "-c", script], env=unproxied, capture_output=True, text=True, check=True
    )
    assert run.stdout.split() == [fake.models["mistral:7b"], "False"]
    assert fake.other_requests == ["/api/tags"]


def test_what_the_probe_cannot_read_the_provider_asks_and_names(fake: FakeLLM) -> None:
    provider = OllamaProvider(LLMSettings(base_url=fake.url, model="absent:7b", retries=0))
    try:
        with pytest.raises(ModelMissing, match="ollama pull absent:7b"):
            provider.model_digest()
    finally:
        provider.close()
    assert fake.other_requests == ["/api/tags", "/api/tags"]  # the probe's, then httpx's


def test_no_such_model_or_no_server_is_none(fake: FakeLLM) -> None:
    assert ollama_digest(fake.url, "absent:7b", 5.0) is None
    with socket.socket() as free:  # a port nothing listens on once closed
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    assert ollama_digest(f"http://127.0.0.1:{port}", "mistral:7b", 5.0) is None


def test_what_only_httpx_speaks_is_left_to_the_provider(monkeypatch: pytest.MonkeyPatch) -> None:
    for url in ("https://models.example", "http://host:11434?x=1", "http://host:port"):
        assert ollama_digest(url, "m", 5.0) == UNSUPPORTED, url
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.invalid:3128")
    assert ollama_digest("http://127.0.0.1:9", "m", 5.0) == UNSUPPORTED


class Server:
    """A server that answers ``/ollama/api/tags`` in chunks, after checking basic auth, as
    Ollama behind an authenticating reverse proxy would; anything else is a 500."""

    def __init__(self) -> None:
        self.authorizations: list[str] = []
        seen = self.authorizations

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                seen.append(self.headers.get("Authorization", ""))
                if self.path != "/ollama/api/tags":
                    self.send_response(500)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"{}")
                    return
                self.send_response(200)
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                for start in range(0, len(TAGS), 7):
                    piece = TAGS[start : start + 7]
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                self.wfile.write(b"0\r\n\r\n")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])


@pytest.fixture
def server() -> Iterator[Server]:
    found = Server()
    yield found
    found.server.shutdown()
    found.server.server_close()


def test_a_chunked_reply_below_a_path_with_credentials(server: Server) -> None:
    url = f"http://user:p%40ss@127.0.0.1:{server.port}/ollama/"
    assert ollama_digest(url, "tiny:1b", 5.0) == "sha256:bbbb"
    assert server.authorizations == ["Basic " + base64.b64encode(b"user:p@ss").decode()]


def test_an_error_status_is_none(server: Server) -> None:
    assert ollama_digest(f"http://127.0.0.1:{server.port}", "tiny:1b", 5.0) is None
