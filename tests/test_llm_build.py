"""The LLM step end to end: `apipack generate` subprocesses against a real HTTP server on
127.0.0.1 that speaks Ollama's (and OpenAI's) protocol and counts requests.

The model text is never asserted: only the plumbing — how many requests, what is cached and
locked, what is written, which errors reach the user.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import textwrap
import threading
from pathlib import Path
from typing import Any

import pytest
from fake_llm import FakeLLM, Fault
from helpers import LLM_FUNCTIONS, LLM_SPEC, llm_project, run_apipack, tree

SPEC = LLM_SPEC


def run(
    folder: Path, fake: FakeLLM | None, *args: str, **env: str
) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    """``apipack generate`` against *fake*; the build summary, if one was written."""
    summary = folder / ".summary.json"
    summary.unlink(missing_ok=True)
    env = {"APIPACK_LLM_RETRIES": "1", **env}
    done = apipack_cmd(folder, fake, "generate", "--summary-json", str(summary), *args, **env)
    return done, json.loads(summary.read_text()) if summary.exists() else {}


def apipack_cmd(
    folder: Path, fake: FakeLLM | None, *args: str, **env: str
) -> subprocess.CompletedProcess[str]:
    if fake is not None:
        env = {"APIPACK_LLM_BASE_URL": fake.url, **env}
    return run_apipack(folder, *args, env=env, timeout=120)


def test_only_changed_functions_hit_the_model(tmp_path: Path, fake: FakeLLM) -> None:
    project = llm_project(tmp_path / "p")
    done, summary = run(project, fake)
    assert done.returncode == 0, done.stderr
    assert fake.chat_count == LLM_FUNCTIONS
    assert summary["llm_calls"] == LLM_FUNCTIONS
    assert summary["llm_prompt_tokens"] > 0 and summary["llm_completion_tokens"] > 0
    lock = (project / "apipack.lock").read_text()
    assert lock.count("function:") == LLM_FUNCTIONS and "given" not in lock
    first = tree(project / "generated")
    module = first["python/llm-tools/src/llm_tools/functions/shout.py"].decode()
    assert "def shout(text: str) -> str:" in module

    done, summary = run(project, fake)
    assert fake.chat_count == LLM_FUNCTIONS and summary["tasks_run"] == 0
    assert summary["llm_cache_hits"] == LLM_FUNCTIONS

    spec = project / "specs" / "tools.yml"
    spec.write_text(spec.read_text().replace("Half of a number", "Half of any number"))
    done, summary = run(project, fake)
    assert done.returncode == 0, done.stderr
    assert fake.chat_count == LLM_FUNCTIONS + 1
    assert "Half of any number" in fake.chats[-1]["body"]["messages"][0]["content"]


def test_prompt_edit_and_new_digest_ask_again(tmp_path: Path, fake: FakeLLM) -> None:
    project = llm_project(tmp_path / "p")
    run(project, fake)
    builtin = Path(__file__).parents[1] / "templates" / "prompts" / "python.j2"
    override = project / "templates" / "prompts" / "python.j2"
    override.parent.mkdir(parents=True)
    override.write_text(builtin.read_text() + "- Prefer clarity over cleverness.\n")
    done, summary = run(project, fake)
    assert done.returncode == 0, done.stderr
    assert summary["llm_calls"] == LLM_FUNCTIONS

    fake.models["mistral:7b"] = "sha256:" + "b" * 64  # the model was pulled again
    done, summary = run(project, fake)
    assert summary["llm_calls"] == LLM_FUNCTIONS
    assert (project / "apipack.lock").read_text().count("b" * 64) == LLM_FUNCTIONS


def test_lock_alone_rebuilds_with_no_calls_and_same_bytes(tmp_path: Path, fake: FakeLLM) -> None:
    project = llm_project(tmp_path / "p")
    run(project, fake)
    before = tree(project / "generated")
    clone = llm_project(tmp_path / "clone")
    (clone / "apipack.lock").write_bytes((project / "apipack.lock").read_bytes())
    calls = fake.chat_count
    done, summary = run(clone, fake)
    assert done.returncode == 0, done.stderr
    assert fake.chat_count == calls and summary["llm_lock_hits"] == LLM_FUNCTIONS
    assert tree(clone / "generated") == before
    # and with no server at all, offline
    other = llm_project(tmp_path / "offline")
    (other / "apipack.lock").write_bytes((project / "apipack.lock").read_bytes())
    done, _ = run(other, None, "--offline", APIPACK_LLM_BASE_URL="http://127.0.0.1:9")
    assert done.returncode == 0, done.stderr
    assert tree(other / "generated") == before


def test_an_edit_writes_the_lock_a_full_build_writes(tmp_path: Path, fake: FakeLLM) -> None:
    """The lock of an edit (the other spec file's package copied from the lock, unparsed) has
    the bytes of the lock a build planned from nothing writes from the same answers."""
    project = llm_project(tmp_path / "p")
    other = SPEC.replace("name: llm-tools", "name: all-tools").replace("[cli]", "[]")
    (project / "specs" / "all.yml").write_text(other, encoding="utf-8")
    assert run(project, fake)[0].returncode == 0
    spec = project / "specs" / "tools.yml"
    spec.write_text(spec.read_text().replace("Half of a number", "Half of any number"))
    done, summary = run(project, fake)
    assert done.returncode == 0, done.stderr
    assert summary["llm_calls"] == 1 and summary["tasks_run"] < summary["tasks_total"] / 2
    lock = (project / "apipack.lock").read_bytes()
    assert lock.count(b"package: all-tools") == lock.count(b"package: llm-tools") == 3
    clone = tmp_path / "clone"
    shutil.copytree(project / "specs", clone / "specs")
    shutil.copy(project / "apipack.yml", clone / "apipack.yml")
    (clone / "apipack.lock").write_bytes(lock)
    done, summary = run(clone, None, "--offline", APIPACK_LLM_BASE_URL="http://127.0.0.1:9")
    assert done.returncode == 0, done.stderr
    assert summary["llm_lock_hits"] == 2 * LLM_FUNCTIONS
    assert (clone / "apipack.lock").read_bytes() == lock
    assert tree(clone / "generated") == tree(project / "generated")


def test_offline_with_a_missing_response_fails_before_any_task(
    tmp_path: Path, fake: FakeLLM
) -> None:
    project = llm_project(tmp_path / "p")
    run(project, fake)
    spec = project / "specs" / "tools.yml"
    spec.write_text(spec.read_text().replace("How many vowels", "Count the vowels"))
    before = tree(project / "generated")
    done, _ = run(project, fake, "--offline")
    assert done.returncode == 3
    assert "llm-tools.count_vowels (python)" in done.stderr
    assert "shout" not in done.stderr.split("response for:")[1]
    assert tree(project / "generated") == before
    done, _ = run(project, fake, APIPACK_OFFLINE="1")
    assert done.returncode == 3


def test_refresh_asks_again_for_one_function(tmp_path: Path, fake: FakeLLM) -> None:
    project = llm_project(tmp_path / "p")
    run(project, fake)
    done, summary = run(project, fake, "--refresh", "shout")
    assert done.returncode == 0, done.stderr
    assert summary["llm_calls"] == 1
    assert "shout" in fake.chats[-1]["body"]["messages"][0]["content"]


@pytest.mark.parametrize(
    "fault_list, calls",
    [
        ([Fault(status=500)], 2),
        ([Fault(status=503)], 2),
        ([Fault(status=429, retry_after="1")], 2),
        ([Fault(prose=True)], 1),
    ],
)
def test_recoverable_faults(
    tmp_path: Path, fake: FakeLLM, fault_list: list[Fault], calls: int
) -> None:
    project = llm_project(tmp_path / "p", SPEC.split("  - name: count_vowels")[0])
    fake.faults.extend(fault_list)
    done, summary = run(project, fake)
    assert done.returncode == 0, done.stderr
    assert fake.chat_count == calls
    assert summary["llm_calls"] == 1


def test_wrong_signature_is_repaired(tmp_path: Path, fake: FakeLLM) -> None:
    project = llm_project(tmp_path / "p", SPEC.split("  - name: count_vowels")[0])
    fake.faults.append(Fault(text="```python\ndef shout(words):\n    return words\n```"))
    done, summary = run(project, fake)
    assert done.returncode == 0, done.stderr
    assert fake.chat_count == 2 and summary["llm_calls"] == 2
    repair = fake.chats[-1]["body"]["messages"]
    assert [m["role"] for m in repair] == ["user", "assistant", "user"]
    assert "parameters are (words), not (text)" in repair[-1]["content"]


@pytest.mark.parametrize(
    "fault",
    [
        Fault(text="I cannot do that."),
        Fault(done_reason="length"),
        Fault(error_mid_stream="model runner crashed"),
    ],
)
def test_unfixable_reply_fails_that_function_only(
    tmp_path: Path, fake: FakeLLM, fault: Fault
) -> None:
    project = llm_project(tmp_path / "p")
    # a bad reply is sent back for repair twice; a broken stream is not a reply to repair
    fake.faults.extend([fault] * (1 if fault.error_mid_stream else 3))
    done, _ = run(project, fake, APIPACK_LLM_RETRIES="0", APIPACK_LLM_REPAIR_ATTEMPTS="2")
    assert done.returncode == 1
    assert "mistral:7b" in done.stdout + done.stderr
    # the two other functions still built
    generated = tree(project / "generated")
    built = [
        name
        for name in ("shout", "count_vowels", "halve")
        if f"python/llm-tools/src/llm_tools/functions/{name}.py" in generated
    ]
    assert len(built) == 2
    failed = next(n for n in ("shout", "count_vowels", "halve") if n not in built)
    assert failed in done.stdout + done.stderr
    if fault.error_mid_stream is None:
        assert (project / ".apipack" / "failed" / f"llm-tools.{failed}.python.txt").is_file()
    # nothing wrong was cached: the next build asks again for that function only
    calls = fake.chat_count
    done, _ = run(project, fake)
    assert done.returncode == 0, done.stderr
    assert fake.chat_count == calls + 1


def test_server_down_and_model_missing_are_clear(tmp_path: Path, fake: FakeLLM) -> None:
    project = llm_project(tmp_path / "p")
    done, _ = run(project, None, APIPACK_LLM_BASE_URL="http://127.0.0.1:9", APIPACK_LLM_RETRIES="0")
    assert done.returncode == 3
    assert "cannot reach ollama" in done.stderr and "llm-tools.shout (python)" in done.stderr
    done, _ = run(project, fake, APIPACK_LLM_MODEL="llama3:8b")
    assert done.returncode == 3
    assert "ollama pull llama3:8b" in done.stderr
    assert fake.chat_count == 0
    assert not (project / "generated").exists()


def test_reply_slower_than_the_timeout(tmp_path: Path, fake: FakeLLM) -> None:
    project = llm_project(tmp_path / "p", SPEC.split("  - name: count_vowels")[0])
    fake.faults.append(Fault(delay=3))
    done, _ = run(project, fake, APIPACK_LLM_TIMEOUT="1", APIPACK_LLM_RETRIES="0")
    assert done.returncode == 1
    assert "did not answer within 1 s" in done.stdout + done.stderr


def test_non_streamed_ollama_and_openai_provider(tmp_path: Path, fake: FakeLLM) -> None:
    project = llm_project(tmp_path / "p")
    done, _ = run(project, fake, APIPACK_LLM_STREAM="false")
    assert done.returncode == 0, done.stderr
    assert all(c["body"]["stream"] is False for c in fake.chats)
    assert all(c["body"]["options"]["num_ctx"] == 8192 for c in fake.chats)

    secret = "sk-test-" + "x" * 24
    other = llm_project(tmp_path / "openai")
    done, _ = run(other, fake, APIPACK_LLM_PROVIDER="openai", OPENAI_API_KEY=secret)
    assert done.returncode == 0, done.stderr
    openai_chats = [c for c in fake.chats if c["path"] == "/v1/chat/completions"]
    assert len(openai_chats) == LLM_FUNCTIONS
    assert all(c["headers"].get("Authorization") == f"Bearer {secret}" for c in openai_chats)
    for path in other.rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path


def test_two_builds_sharing_one_cache_at_once(tmp_path: Path, fake: FakeLLM) -> None:
    cache = tmp_path / "shared-cache"
    projects = [llm_project(tmp_path / name) for name in ("a", "b")]
    results: list[tuple[subprocess.CompletedProcess[str], dict[str, int]]] = []

    def build(folder: Path) -> None:
        results.append(run(folder, fake, "-n", "2", APIPACK_CACHE_DIR=str(cache)))

    threads = [threading.Thread(target=build, args=(p,)) for p in projects]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(done.returncode == 0 for done, _ in results), [d.stderr for d, _ in results]
    assert tree(projects[0] / "generated").keys() == tree(projects[1] / "generated").keys()
    _, summary = run(projects[0], fake, APIPACK_CACHE_DIR=str(cache))
    assert summary["tasks_run"] == 0


@pytest.mark.parametrize("concurrency", [1, 2])
def test_llm_concurrency_setting_with_parallel_jobs(
    tmp_path: Path, fake: FakeLLM, concurrency: int
) -> None:
    """With two jobs, ``llm.concurrency`` requests are in flight at once, and never more."""
    fake.faults.extend(Fault(delay=1.0) for _ in range(LLM_FUNCTIONS))  # each long enough to meet
    project = llm_project(tmp_path / "p")
    done, summary = run(project, fake, "-n", "2", APIPACK_LLM_CONCURRENCY=str(concurrency))
    assert done.returncode == 0, done.stderr
    assert summary["llm_calls"] == LLM_FUNCTIONS
    assert fake.max_in_flight == concurrency


def test_identical_requests_are_sent_once(tmp_path: Path, fake: FakeLLM) -> None:
    """Two packages with the same function and a prompt that does not name the package."""
    spec = textwrap.dedent("""\
        project: {name: NAME}
        language: python
        interfaces: [cli]
        functions:
          - {name: shout, description: Capitals, output_type: string}
        """)
    root = tmp_path / "p"
    (root / "specs").mkdir(parents=True)
    for name in ("twin-one", "twin-two"):
        (root / "specs" / f"{name}.yml").write_text(spec.replace("NAME", name))
    (root / "apipack.yml").write_text("specs: [specs/*.yml]\n")
    prompt = root / "templates" / "prompts" / "python.j2"
    prompt.parent.mkdir(parents=True)
    prompt.write_text(
        "Write this function.\n\n```python\n{{ function | py_signature }}\n"
        "    {{ function | py_prompt_docstring }}\n```\n"
    )
    done, summary = run(root, fake)
    assert done.returncode == 0, done.stderr
    assert fake.chat_count == 1 and summary["llm_calls"] == 1
    generated = tree(root / "generated")
    for name in ("twin-one", "twin-two"):
        module = name.replace("-", "_")
        assert f"python/{name}/src/{module}/functions/shout.py" in generated
    assert (root / "apipack.lock").read_text().count("function: shout") == 2


def test_health_reports_server_model_and_digest(tmp_path: Path, fake: FakeLLM) -> None:
    project = llm_project(tmp_path / "p")
    done = apipack_cmd(project, fake, "health")
    assert done.returncode == 0
    assert "reachable (version 0.0.0-fake)" in done.stdout
    assert fake.models["mistral:7b"] in done.stdout
    done = apipack_cmd(project, fake, "health", APIPACK_LLM_MODEL="phi3")
    assert done.returncode == 3 and "ollama pull phi3" in done.stdout
    done = apipack_cmd(project, None, "health", APIPACK_LLM_BASE_URL="http://127.0.0.1:9")
    assert done.returncode == 3 and "unreachable" in done.stdout


def test_cache_stats_export_import_prune(tmp_path: Path, fake: FakeLLM) -> None:
    project = llm_project(tmp_path / "p")
    run(project, fake)
    stats = apipack_cmd(project, fake, "cache", "stats").stdout
    assert f"entries: {LLM_FUNCTIONS}" in stats
    assert f"last build: 0 cache hits, 0 lock hits, {LLM_FUNCTIONS} LLM calls" in stats

    archive = tmp_path / "cache.json"
    assert apipack_cmd(project, fake, "cache", "export", str(archive)).returncode == 0
    # a CI runner: no cache, no lock, the archive imported -> no LLM calls
    runner = llm_project(tmp_path / "runner")
    done = apipack_cmd(runner, fake, "cache", "import", str(archive))
    assert f"imported {LLM_FUNCTIONS} entries" in done.stdout
    calls = fake.chat_count
    done, summary = run(runner, fake)
    assert done.returncode == 0 and fake.chat_count == calls
    assert summary["llm_cache_hits"] == LLM_FUNCTIONS

    spec = project / "specs" / "tools.yml"
    spec.write_text(spec.read_text().replace("The text in capitals", "Upper-case text"))
    run(project, fake)
    assert f"entries: {LLM_FUNCTIONS + 1}" in apipack_cmd(project, fake, "cache", "stats").stdout
    done = apipack_cmd(project, fake, "cache", "prune")
    assert f"pruned 1 entries; {LLM_FUNCTIONS} left" in done.stdout
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    done = apipack_cmd(project, fake, "cache", "import", str(bad))
    assert done.returncode == 2 and "not an apipack cache archive" in done.stderr


def test_online_no_op_asks_the_server_only_for_the_model_digest(
    tmp_path: Path, fake: FakeLLM
) -> None:
    project = llm_project(tmp_path / "p")
    run(project, fake)
    chats, seen = fake.chat_count, len(fake.other_requests)
    done, summary = run(project, fake)
    assert done.returncode == 0, done.stderr
    assert summary["fast_path"] is True and summary["llm_cache_hits"] == LLM_FUNCTIONS
    assert fake.chat_count == chats and fake.other_requests[seen:] == ["/api/tags"]

    fake.models["mistral:7b"] = "sha256:" + "c" * 64  # the model was pulled again
    done, summary = run(project, fake)
    assert summary["fast_path"] is False and summary["llm_calls"] == LLM_FUNCTIONS
    # and with the server gone, the full path answers from the lock
    done, summary = run(project, None, APIPACK_LLM_BASE_URL="http://127.0.0.1:9")
    assert done.returncode == 0, done.stderr
    assert summary["fast_path"] is False and summary["llm_calls"] == 0


PROMPT_LANGUAGES = sorted(
    p.stem for p in (Path(__file__).parents[1] / "templates" / "prompts").glob("*.j2")
)


@pytest.mark.parametrize("language", PROMPT_LANGUAGES)
@pytest.mark.parametrize(
    "dependencies",
    ["[PyPDF2>=3.0.0, requests]", "{LANG: [requests, PyPDF2>=3.0.0]}"],
    ids=["list", "per-language"],
)
def test_llm_written_function_with_dependencies(
    tmp_path: Path, fake: FakeLLM, language: str, dependencies: str
) -> None:
    """The APIpack README's quick start: no code, `dependencies:` — the prompt names them (the
    prompt template once added tuples to a list: an internal error, exit 70)."""
    spec = textwrap.dedent(
        f"""\
        name: pdf_to_text
        description: Extract text from PDF files
        input_type: bytes
        output_type: string
        language: {language}
        interfaces: [cli]
        dependencies: {dependencies.replace("LANG", language)}
        """
    )
    project = llm_project(tmp_path / "p", spec)
    done, summary = run(project, fake)
    assert done.returncode == 0, done.stderr
    assert summary["llm_calls"] == 1
    prompt = fake.chats[-1]["body"]["messages"][0]["content"]
    assert "these packages: PyPDF2>=3.0.0, requests." in prompt
