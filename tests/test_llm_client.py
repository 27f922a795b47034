"""The provider client against a real HTTP server on 127.0.0.1 (no patching); code extraction."""

from __future__ import annotations

import httpx
import pytest
from fake_llm import FakeLLM, Fault

from apipack_build.ask.step import extract_code
from apipack_build.llm import (
    LLMReplyError,
    LLMUnavailable,
    Message,
    ModelMissing,
    OllamaProvider,
    OpenAIProvider,
)
from apipack_build.settings import LLMSettings

PROMPT = [Message("user", "Write it.\n```python\ndef f(x: int) -> int:\n    '''doc'''\n```\n")]


def ollama(fake: FakeLLM, **settings: object) -> OllamaProvider:
    config = LLMSettings(base_url=fake.url, **settings)  # type: ignore[arg-type]
    return OllamaProvider(config, sleep=lambda seconds: None)


def test_streamed_and_plain_replies_agree(fake: FakeLLM) -> None:
    streamed = ollama(fake).chat(PROMPT)
    plain = ollama(fake, stream=False).chat(PROMPT)
    assert streamed.text == plain.text
    assert "def f(x: int) -> int:" in streamed.text
    assert streamed.done_reason == "stop" and streamed.completion_tokens > 0
    options = fake.chats[0]["body"]["options"]
    assert set(options) == {"temperature", "seed", "num_ctx", "num_predict"}


def test_digest_and_missing_model(fake: FakeLLM) -> None:
    assert ollama(fake).model_digest() == fake.models["mistral:7b"]
    with pytest.raises(ModelMissing, match="ollama pull llama3"):
        ollama(fake, model="llama3").model_digest()
    with pytest.raises(ModelMissing, match="ollama pull llama3"):
        ollama(fake, model="llama3").chat(PROMPT)


@pytest.mark.parametrize("status", [429, 500, 502, 503])
def test_retries_then_succeeds(fake: FakeLLM, status: int) -> None:
    fake.faults.extend([Fault(status=status), Fault(status=status)])
    reply = ollama(fake, retries=2).chat(PROMPT)
    assert "def f" in reply.text
    assert fake.chat_count == 3


def test_gives_up_after_retries(fake: FakeLLM) -> None:
    fake.faults.extend([Fault(status=503)] * 5)
    with pytest.raises(LLMUnavailable, match="503"):
        ollama(fake, retries=1).chat(PROMPT)
    assert fake.chat_count == 2


def test_error_line_mid_stream(fake: FakeLLM) -> None:
    fake.faults.append(Fault(error_mid_stream="out of memory"))
    with pytest.raises(LLMReplyError, match="out of memory"):
        ollama(fake).chat(PROMPT)


def test_timeout_and_connection_refused(fake: FakeLLM) -> None:
    fake.faults.append(Fault(delay=2))
    with pytest.raises(LLMUnavailable, match="did not answer within"):
        ollama(fake, timeout=0.5, retries=0).chat(PROMPT)
    with pytest.raises(LLMUnavailable, match="cannot reach"):
        OllamaProvider(
            LLMSettings(base_url="http://127.0.0.1:9", retries=1), sleep=lambda s: None
        ).model_digest()


def test_truncated_reply_is_reported(fake: FakeLLM) -> None:
    fake.faults.append(Fault(done_reason="length"))
    assert ollama(fake).chat(PROMPT).done_reason == "length"


def test_openai_compatible(fake: FakeLLM, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret")
    provider = OpenAIProvider(LLMSettings(provider="openai", base_url=fake.url))
    reply = provider.chat(PROMPT)
    assert "def f" in reply.text and reply.prompt_tokens == 11
    assert fake.chats[-1]["headers"]["Authorization"] == "Bearer sk-secret"
    assert provider.model_digest() == ""
    with pytest.raises(ModelMissing):
        OpenAIProvider(
            LLMSettings(provider="openai", base_url=fake.url, model="gpt-x")
        ).model_digest()


def test_mock_transport_seam() -> None:
    """Unit level: the transport seam swaps the network without patching."""

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"models": [{"name": "mistral:7b", "digest": "d1"}]})

    provider = OllamaProvider(LLMSettings(), transport=httpx.MockTransport(handler))
    assert provider.model_digest() == "d1"


@pytest.mark.parametrize(
    "reply, expected",
    [
        ("```python\ndef f():\n    return 1\n```", "def f():\n    return 1\n"),
        ("Sure!\n```py\ndef f():\n    return 1\n```\nEnjoy.", "def f():\n    return 1\n"),
        (
            "```text\nnot this\n```\n```python\ndef f():\n    return 1\n```",
            "def f():\n    return 1\n",
        ),
        ("```\ndef f():\n    return 1\n```", "def f():\n    return 1\n"),
        ("def f():\n    return 1", "def f():\n    return 1\n"),
        ("```python\ndef f():\n    return 1\n", "def f():\n    return 1\n"),  # unterminated fence
    ],
)
def test_extract_code(reply: str, expected: str) -> None:
    assert extract_code(reply, ("python", "py")) == expected
