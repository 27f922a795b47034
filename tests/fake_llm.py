"""A real HTTP server on 127.0.0.1 that speaks the Ollama and OpenAI chat protocols.

It answers every chat request from the prompt itself: it copies the signature line of the
first fenced ``python`` block and gives it a body, the way a model would, so replies pass
validation. Tests queue *faults* (status codes, delays, a mid-stream error line, prose around the
code, a wrong signature, a truncated reply) that the next chat requests get, and count requests.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

SIGNATURE = re.compile(r"```python\n(def [^\n]*:)\n")
#: a TypeScript or JavaScript prompt: its fence tag and the signature line (after a JSDoc block)
TS_SIGNATURE = re.compile(
    r"```(typescript|javascript)\n(?:.*?\n)??(export function [^\n]*) \{\n", re.S
)


def body_for(signature: str) -> str:
    """A non-trivial body that returns a value of the declared return type."""
    returns = signature.rsplit("->", 1)[-1].strip().rstrip(":").strip()
    value = {"str": '"done"', "int": "1", "float": "1.0", "bool": "True", "bytes": 'b"done"'}.get(
        returns, "None" if "None" in returns else f"{returns.split('[')[0]}()"
    )
    return f"{signature}\n    result = {value}\n    return result\n"


def ts_body_for(signature: str) -> str:
    """A body returning a value of the declared TypeScript return type (none in JavaScript:
    a string)."""
    returns = signature.rsplit(")", 1)[-1].removeprefix(":").strip()
    value = {
        "bigint": "1n",
        "number": "1.5",
        "boolean": "true",
        "Uint8Array": "new Uint8Array([1])",
    }.get(
        returns,
        "null"
        if "| null" in returns
        else "[]"
        if returns.endswith("[]")
        else "{}"
        if returns.startswith("Record")
        else '"done"',
    )
    return f"{signature} {{\n  const result = {value};\n  return result;\n}}\n"


@dataclass
class Fault:
    status: int = 200
    delay: float = 0.0  # seconds before answering
    text: str | None = None  # the reply text instead of a valid function
    prose: bool = False  # wrap the valid function in chatter
    error_mid_stream: str | None = None
    done_reason: str = "stop"
    retry_after: str | None = None
    stream_delay: float = 0.0  # seconds between streamed chunks (Ollama, streaming only)


@dataclass
class FakeLLM:
    models: dict[str, str] = field(default_factory=lambda: {"mistral:7b": "sha256:" + "a" * 64})
    chats: list[dict[str, Any]] = field(default_factory=list)
    faults: deque[Fault] = field(default_factory=deque)
    other_requests: list[str] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0  # the most chat requests answered at once
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def chat_count(self) -> int:
        with self.lock:
            return len(self.chats)

    def start(self) -> FakeLLM:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                fake.other_requests.append(self.path)
                if self.path == "/api/tags":
                    models = [{"name": n, "model": n, "digest": d} for n, d in fake.models.items()]
                    self._json(200, {"models": models})
                elif self.path == "/api/version":
                    self._json(200, {"version": "0.0.0-fake"})
                elif self.path == "/v1/models":
                    self._json(200, {"data": [{"id": n} for n in fake.models]})
                else:
                    self._json(404, {"error": "not found"})

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                with fake.lock:
                    fake.chats.append(
                        {"path": self.path, "body": body, "headers": dict(self.headers)}
                    )
                    fault = fake.faults.popleft() if fake.faults else Fault()
                    fake.in_flight += 1
                    fake.max_in_flight = max(fake.max_in_flight, fake.in_flight)
                try:
                    self._chat(body, fault)
                finally:
                    with fake.lock:
                        fake.in_flight -= 1

            def _chat(self, body: dict[str, Any], fault: Fault) -> None:
                if fault.delay:
                    time.sleep(fault.delay)
                if body.get("model") not in fake.models:
                    self._json(404, {"error": f"model '{body.get('model')}' not found"})
                    return
                if fault.status != 200:
                    headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
                    self._json(fault.status, {"error": f"fake status {fault.status}"}, headers)
                    return
                text = fault.text if fault.text is not None else self._answer(body, fault)
                if self.path == "/api/chat":
                    self._ollama(body, text, fault)
                elif self.path == "/v1/chat/completions":
                    self._json(
                        200,
                        {
                            "choices": [
                                {
                                    "message": {"role": "assistant", "content": text},
                                    "finish_reason": fault.done_reason,
                                }
                            ],
                            "usage": {"prompt_tokens": 11, "completion_tokens": 7},
                        },
                    )
                else:
                    self._json(404, {"error": "not found"})

            def _answer(self, body: dict[str, Any], fault: Fault) -> str:
                prompt = body["messages"][0]["content"]
                found, typed = SIGNATURE.search(prompt), TS_SIGNATURE.search(prompt)
                if typed:
                    fenced = f"```{typed.group(1)}\n{ts_body_for(typed.group(2))}```"
                else:
                    code = body_for(found.group(1)) if found else "no signature in prompt\n"
                    fenced = f"```python\n{code}```"
                return (
                    f"Sure! Here it is:\n\n{fenced}\n\nHope this helps." if fault.prose else fenced
                )

            def _ollama(self, body: dict[str, Any], text: str, fault: Fault) -> None:
                final = {
                    "done": True,
                    "done_reason": fault.done_reason,
                    "prompt_eval_count": 11,
                    "eval_count": 7,
                    "message": {"content": ""},
                }
                if not body.get("stream", True):
                    final["message"] = {"role": "assistant", "content": text}
                    self._json(200, final)
                    return
                # two chunks, or with a stream delay one per 8 characters, as a slow model sends
                half = len(text) // 2
                pieces = [text[:half], text[half:]]
                if fault.stream_delay:
                    pieces = [text[i : i + 8] for i in range(0, len(text), 8)] or [""]
                lines = [{"message": {"content": pieces[0]}, "done": False}]
                if fault.error_mid_stream:
                    lines.append({"error": fault.error_mid_stream})
                else:
                    lines += [{"message": {"content": p}, "done": False} for p in pieces[1:]]
                    lines.append(final)
                payload = [(json.dumps(line) + "\n").encode() for line in lines]
                self.send_response(200)
                self.send_header("content-type", "application/x-ndjson")
                self.send_header("content-length", str(sum(map(len, payload))))
                self.end_headers()
                for line in payload:
                    self.wfile.write(line)
                    self.wfile.flush()
                    time.sleep(fault.stream_delay)

            def _json(self, status: int, data: Any, headers: dict[str, str] | None = None) -> None:
                payload = json.dumps(data).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
