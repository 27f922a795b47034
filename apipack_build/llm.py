"""LLM providers behind one small interface, on one synchronous httpx client.

``ollama`` speaks Ollama's native ``/api/chat`` (streamed NDJSON or one JSON reply) and reads the
model digest from ``/api/tags``; ``openai`` speaks ``/v1/chat/completions`` (vLLM, llama.cpp's
server, LM Studio) with its API key taken only from the environment. httpx errors are mapped into
the apipack error tree here and nowhere else::

    LLMError                      exit 3
    ├── LLMUnavailable            cannot reach the server, or it stays busy/failing after retries
    ├── ModelMissing              the server does not have the model (``ollama pull <model>``)
    └── LLMReplyError             the server answered with an error or something unreadable

Tests swap the network through ``transport`` (an httpx transport), never by patching.

httpx is loaded with the first request that needs it: a build whose bodies are all known asks
the model only for its digest, which ``ask.digest`` reads over a plain socket when it can read it
exactly as httpx would (a plain ``http://`` Ollama server, no proxy, no transport given).
"""

from __future__ import annotations

import functools
import json
import os
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, cast

from .ask.digest import UNSUPPORTED, ollama_digest, plain_http
from .base import httpxload
from .base.lookup import entry_points_of
from .errors import ConfigError, LLMError, redact
from .load.types import did_you_mean
from .settings import PROVIDER_GROUP, LLMSettings, provider_names

if TYPE_CHECKING:
    import ssl  # loaded by httpx when a client is made: a build that asks nothing has none

    import httpx

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
CONNECT_TIMEOUT = 10.0
API_KEY_VARIABLES = ("APIPACK_LLM_API_KEY", "OPENAI_API_KEY")


class LLMUnavailable(LLMError):
    pass


class ModelMissing(LLMError):
    pass


class LLMReplyError(LLMError):
    pass


@dataclass(frozen=True)
class Message:
    role: str
    content: str


@dataclass(frozen=True)
class Reply:
    text: str
    done_reason: str  # "stop", or "length" when the output was cut off
    prompt_tokens: int
    completion_tokens: int
    seconds: float


@dataclass(frozen=True)
class ServerStatus:
    reachable: bool
    version: str
    model_present: bool
    digest: str
    detail: str = ""


class Provider(Protocol):
    name: str

    def model_digest(self) -> str:
        """Identity of the model's weights; raises LLMUnavailable or ModelMissing."""

    def chat(self, messages: list[Message]) -> Reply: ...

    def status(self) -> ServerStatus: ...

    def close(self) -> None: ...


def sampling_options(settings: LLMSettings) -> dict[str, Any]:
    """What shapes a reply besides the messages: part of every cache key."""
    return {
        "temperature": settings.temperature,
        "seed": settings.seed,
        "num_ctx": settings.num_ctx,
        "max_tokens": settings.max_tokens,
    }


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    """httpx's default context (certifi, or ``SSL_CERT_FILE``/``SSL_CERT_DIR``), made once per
    process: loading the certificates costs more than a request to a local model, and a process
    that builds again and again (``apipack watch``) makes a client for each build."""
    return httpxload.httpx.create_ssl_context(trust_env=True)


class _Base:
    name = "base"
    #: called with the number of chunks received so far as a reply streams (live progress)
    on_chunk: Callable[[int], None] | None = None

    def __init__(
        self,
        settings: LLMSettings,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.settings = settings
        self.model = settings.model
        self.sleep = sleep
        self.requests = 0  # HTTP requests sent, retries and failures included
        self.transport = transport
        self._client: httpx.Client | None = None

    @property
    def client(self) -> httpx.Client:
        """The httpx client, made (and httpx loaded) with the first request."""
        if self._client is None:
            settings = self.settings
            self._client = httpxload.httpx.Client(
                base_url=settings.base_url.rstrip("/"),
                timeout=httpxload.httpx.Timeout(
                    settings.timeout, connect=min(CONNECT_TIMEOUT, settings.timeout)
                ),
                transport=self.transport,
                headers=self._headers(),
                # loading the certificates costs more than a request to a local model
                verify=False if plain_http(settings.base_url) else _ssl_context(),
            )
        return self._client

    def _headers(self) -> dict[str, str]:
        return {}

    def _start(self) -> float:
        """The time a request starts, its client made (httpx loaded) first: a reply's seconds
        are the model's alone."""
        _ = self.client
        return time.perf_counter()

    def _where(self) -> str:
        return f"{self.name} at {redact(self.settings.base_url)}"

    def _send(
        self, method: str, path: str, *, stream: bool = False, **kwargs: Any
    ) -> httpx.Response:
        """One request with retries (exponential backoff, jitter) on connection errors, 429, 5xx."""
        attempts = self.settings.retries + 1
        for attempt in range(attempts):
            last = attempt == attempts - 1
            try:
                request = self.client.build_request(method, path, **kwargs)
                self.requests += 1
                response = self.client.send(request, stream=stream)
            except httpxload.httpx.TimeoutException as exc:
                if last:
                    raise LLMUnavailable(
                        f"{self._where()} did not answer within "
                        f"{self.settings.timeout:.0f} s ({type(exc).__name__}); "
                        f"raise llm.timeout or check the server"
                    ) from None
            except httpxload.httpx.TransportError as exc:
                if last:
                    raise LLMUnavailable(
                        f"cannot reach {self._where()}: {exc}; is the server "
                        f"running (`ollama serve`)?"
                    ) from None
            else:
                if response.status_code not in RETRY_STATUSES or last:
                    return response
                retry_after = response.headers.get("retry-after", "")
                response.close()
                if retry_after.isdigit():
                    self.sleep(min(float(retry_after), 30.0))
                    continue
            self.sleep(min(0.5 * 2**attempt, 20.0) * (0.5 + random.random()))
        raise AssertionError("unreachable")  # pragma: no cover

    def _check(self, response: httpx.Response) -> None:
        if response.status_code < 400:
            return
        if response.is_stream_consumed is False:
            response.read()
        detail = _error_text(response)
        if response.status_code == 404 and "model" in detail.lower():
            raise ModelMissing(self._missing_model_hint(detail))
        if response.status_code in (401, 403):
            raise LLMUnavailable(
                f"{self._where()} refused the request ({response.status_code}): "
                f"{detail}; set {API_KEY_VARIABLES[0]}"
            )
        kind = LLMUnavailable if response.status_code in RETRY_STATUSES else LLMReplyError
        raise kind(f"{self._where()} answered {response.status_code}: {detail}")

    def _missing_model_hint(self, detail: str) -> str:
        return f"model '{self.model}' not found on {self._where()} ({detail})"

    def close(self) -> None:
        if self._client is not None:
            self._client.close()

    def model_digest(self) -> str:
        raise NotImplementedError

    def chat(self, messages: list[Message]) -> Reply:
        raise NotImplementedError

    def status(self) -> ServerStatus:
        raise NotImplementedError


class OllamaProvider(_Base):
    name = "ollama"

    def _missing_model_hint(self, detail: str) -> str:
        return (
            f"model '{self.model}' is not on the Ollama server at {self.settings.base_url}; "
            f"run `ollama pull {self.model}`"
        )

    def _tags(self) -> list[dict[str, Any]]:
        response = self._send("GET", "/api/tags")
        self._check(response)
        models = _json(response, self._where()).get("models", [])
        return [m for m in models if isinstance(m, dict)]

    def model_digest(self) -> str:
        if self.transport is None:
            timeout = self.settings.timeout
            found = ollama_digest(self.settings.base_url, self.model, timeout)
            if found not in (None, UNSUPPORTED):
                return str(found)
        # through httpx: a server the probe cannot speak to exactly, or one it could not read
        # (unreachable, an error, no such model), whose error httpx's reply names
        for model in self._tags():
            if self.model in (model.get("name"), model.get("model")):
                return str(model.get("digest", ""))
        raise ModelMissing(self._missing_model_hint("not in /api/tags"))

    def status(self) -> ServerStatus:
        try:
            version_response = self._send("GET", "/api/version")
            version = str(_json(version_response, self._where()).get("version", "?"))
            digest = self.model_digest()
        except ModelMissing as exc:
            return ServerStatus(True, version, False, "", str(exc))
        except LLMError as exc:
            return ServerStatus(False, "", False, "", str(exc))
        return ServerStatus(True, version, True, digest)

    def chat(self, messages: list[Message]) -> Reply:
        options = {
            "temperature": self.settings.temperature,
            "seed": self.settings.seed,
            "num_ctx": self.settings.num_ctx,  # always sent: Ollama's default changed over time
            "num_predict": self.settings.max_tokens,
        }
        body = {
            "model": self.model,
            "messages": [vars(m) for m in messages],
            "stream": self.settings.stream,
            "options": options,
        }
        started = self._start()
        response = self._send("POST", "/api/chat", json=body, stream=True)
        try:
            self._check(response)
            chunks = []
            for chunk in self._events(response):
                chunks.append(chunk)
                if self.on_chunk is not None:
                    self.on_chunk(len(chunks))
        except httpxload.httpx.TimeoutException:
            raise LLMUnavailable(
                f"{self._where()} stopped answering mid-reply (timeout "
                f"{self.settings.timeout:.0f} s)"
            ) from None
        except httpxload.httpx.TransportError as exc:
            raise LLMUnavailable(
                f"{self._where()} dropped the connection mid-reply: {exc}"
            ) from None
        finally:
            response.close()
        text = "".join(str(c.get("message", {}).get("content", "")) for c in chunks)
        final = chunks[-1] if chunks else {}
        if not final.get("done", False):
            raise LLMReplyError(f"{self._where()} ended the reply before it was done")
        return Reply(
            text,
            str(final.get("done_reason", "stop")),
            int(final.get("prompt_eval_count", 0)),
            int(final.get("eval_count", 0)),
            time.perf_counter() - started,
        )

    def _events(self, response: httpx.Response) -> Iterator[dict[str, Any]]:
        for line in response.iter_lines():
            if not line.strip():
                continue
            try:
                event = json.loads(line)
            except ValueError:
                raise LLMReplyError(
                    f"{self._where()} sent a line that is not JSON: {line[:120]!r}"
                ) from None
            if not isinstance(event, dict):
                raise LLMReplyError(f"{self._where()} sent an unexpected line: {line[:120]!r}")
            if "error" in event:
                raise LLMReplyError(f"{self._where()} reported an error: {event['error']}")
            yield event


class OpenAIProvider(_Base):
    name = "openai"

    def _headers(self) -> dict[str, str]:
        for variable in API_KEY_VARIABLES:
            key = os.environ.get(variable)
            if key:
                return {"Authorization": f"Bearer {key}"}
        return {}

    def model_digest(self) -> str:
        """OpenAI-compatible servers name models but publish no digest: the id is the identity."""
        response = self._send("GET", "/v1/models")
        self._check(response)
        ids = [
            str(m.get("id"))
            for m in _json(response, self._where()).get("data", [])
            if isinstance(m, dict)
        ]
        if ids and self.model not in ids:
            raise ModelMissing(
                f"model '{self.model}' is not served by {self._where()} "
                f"(it serves: {', '.join(sorted(ids))})"
            )
        return ""

    def status(self) -> ServerStatus:
        try:
            self.model_digest()
        except ModelMissing as exc:
            return ServerStatus(True, "", False, "", str(exc))
        except LLMError as exc:
            return ServerStatus(False, "", False, "", str(exc))
        return ServerStatus(True, "", True, "")

    def chat(self, messages: list[Message]) -> Reply:
        body = {
            "model": self.model,
            "messages": [vars(m) for m in messages],
            "temperature": self.settings.temperature,
            "seed": self.settings.seed,
            "max_tokens": self.settings.max_tokens,
            "stream": False,
        }
        started = self._start()
        response = self._send("POST", "/v1/chat/completions", json=body)
        self._check(response)
        data = _json(response, self._where())
        try:
            choice = data["choices"][0]
            text = str(choice["message"]["content"] or "")
        except (KeyError, IndexError, TypeError):
            raise LLMReplyError(
                f"{self._where()} sent a reply without choices[0].message"
            ) from None
        usage = data.get("usage") or {}
        return Reply(
            text,
            str(choice.get("finish_reason") or "stop"),
            int(usage.get("prompt_tokens", 0)),
            int(usage.get("completion_tokens", 0)),
            time.perf_counter() - started,
        )


def make_provider(settings: LLMSettings, transport: httpx.BaseTransport | None = None) -> Provider:
    """The provider ``settings.provider`` names, from the ``apipack.providers`` entry points
    (``ollama`` and ``openai`` are registered there like any plugin's)."""
    return provider_class(settings.provider)(settings, transport)


PROVIDER_METHODS = ("model_digest", "chat", "status", "close")


@functools.cache
def provider_class(name: str) -> Callable[..., Provider]:
    """The class ``llm.provider: NAME`` selects, loaded from its entry point. It is called as
    ``cls(settings: LLMSettings, transport: httpx.BaseTransport | None)`` and must do what
    ``apipack_build.llm.Provider`` describes."""
    points = {p.value: p for p in entry_points_of(PROVIDER_GROUP) if p.name == name}
    if not points:
        names = provider_names()
        raise ConfigError(
            f"llm.provider: unknown provider '{name}'{did_you_mean(name, names)}; "
            f"registered: {', '.join(names) or 'none'}"
        )
    if len(points) > 1:
        raise ConfigError(
            f"provider '{name}' is registered twice in {PROVIDER_GROUP}: "
            f"{', '.join(sorted(points))}"
        )
    (point,) = points.values()
    try:
        value = point.load()
    except Exception as exc:  # a broken plugin must name itself, not crash the tool
        raise ConfigError(
            f"cannot load {PROVIDER_GROUP} entry point '{name}' ({point.value}): {exc}"
        ) from exc
    missing = [m for m in PROVIDER_METHODS if not callable(getattr(value, m, None))]
    if not callable(value) or missing:
        raise ConfigError(
            f"entry point '{name}' ({point.value}) in {PROVIDER_GROUP} is not a provider class "
            f"(missing: {', '.join(missing) or 'a constructor'})"
        )
    return cast("Callable[..., Provider]", value)


def _json(response: httpx.Response, where: str) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        raise LLMReplyError(f"{where} sent a reply that is not JSON") from None
    if not isinstance(data, dict):
        raise LLMReplyError(f"{where} sent an unexpected reply")
    return data


def _error_text(response: httpx.Response) -> str:
    try:
        data = response.json()
        if isinstance(data, dict):
            error = data.get("error")
            if isinstance(error, dict):
                return str(error.get("message", error))
            if error:
                return str(error)
    except ValueError:
        pass
    return response.text.strip()[:200] or response.reason_phrase
