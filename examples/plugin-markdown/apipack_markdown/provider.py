"""``llm: {provider: stub}``: no model at all. Every function the LLM would write becomes a
stub with the exact signature and docstring that raises ``NotImplementedError`` — a package
that builds, with the bodies left to a person (or to a real model, with ``--refresh``)."""

from __future__ import annotations

import re

import httpx

from apipack_build.llm import Message, Reply, ServerStatus
from apipack_build.settings import LLMSettings

_CODE_BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)
DIGEST = "stub-1"  # stands for the "weights": change it when the stubs change


class StubProvider:
    name = "stub"

    def __init__(self, settings: LLMSettings, transport: httpx.BaseTransport | None = None):
        self.settings = settings

    def model_digest(self) -> str:
        return DIGEST

    def status(self) -> ServerStatus:
        return ServerStatus(True, "1", True, DIGEST)

    def chat(self, messages: list[Message]) -> Reply:
        found = _CODE_BLOCK.search(messages[0].content)
        head = found.group(1).rstrip() if found else ""
        code = f'{head}\n    raise NotImplementedError("write this function")\n'
        return Reply(f"```python\n{code}```\n", "stop", 0, 0, 0.0)

    def close(self) -> None:
        pass
