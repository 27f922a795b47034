"""Hostile input and damaged state, end to end: `apipack` subprocesses against a real HTTP server
on 127.0.0.1 (``fake_llm``), with caches, locks, manifests and folders damaged or poisoned the way
an attacker or a ``kill -9`` would leave them.

What every test holds to: no traceback and no "internal error" (exit 70) reaches the user; bad
input is exit 2 naming the file; what the caches give is checked like a fresh reply, so nothing
poisoned reaches the output or the lock.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import diskcache
import pytest
from fake_llm import FakeLLM, Fault
from helpers import LLM_FUNCTIONS, LLM_SPEC, llm_project, run_apipack, tree, without_settings

FUNCTIONS = "python/llm-tools/src/llm_tools/functions"


def apipack(
    folder: Path, fake: FakeLLM | None, *args: str, **env: str
) -> subprocess.CompletedProcess[str]:
    """``apipack ARGS`` against *fake*; never an internal error, whatever it did."""
    env = {"APIPACK_LLM_RETRIES": "0", **env}
    if fake is not None:
        env = {"APIPACK_LLM_BASE_URL": fake.url, **env}
    done = run_apipack(folder, *args, env=env, timeout=120)
    assert done.returncode != 70 and "internal error" not in done.stderr, done.stderr
    return done


def generate(
    folder: Path, fake: FakeLLM | None, *args: str, **env: str
) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    summary = folder / ".summary.json"
    summary.unlink(missing_ok=True)
    done = apipack(folder, fake, "generate", "--summary-json", str(summary), *args, **env)
    return done, json.loads(summary.read_text()) if summary.exists() else {}


def built(fake: FakeLLM, folder: Path) -> Path:
    done, _ = generate(folder, fake)
    assert done.returncode == 0, done.stderr
    return folder


def rewrite_cache(folder: Path, change: Any) -> int:
    """Rewrite every reply in the project's diskcache with ``change(value) -> value``."""
    cache = diskcache.Cache(str(folder / ".apipack" / "cache"))
    count = 0
    try:
        for key in list(cache.iterkeys()):
            if not key.startswith("request:"):
                cache.set(key, change(cache.get(key)))
                count += 1
    finally:
        cache.close()
    return count


# ---- poisoned caches and locks ----


def poisoned(raw: str) -> str:
    """A cache value rewritten to hold another function's code, its hash made to match: a
    shared cache can be poisoned by someone who knows the format."""
    from apipack_build.base.hashing import content_hash

    value = json.loads(raw)
    value.pop("hash", None)
    value["code"] = "def add_one(value: int) -> int:\n    return value + 1\n"
    return json.dumps({**value, "hash": content_hash(value)}, sort_keys=True)


def test_a_poisoned_cache_never_reaches_the_output_or_the_lock(
    tmp_path: Path, fake: FakeLLM
) -> None:
    project = built(fake, llm_project(tmp_path / "p"))
    assert rewrite_cache(project, poisoned) == LLM_FUNCTIONS
    (project / "apipack.lock").unlink()
    calls = fake.chat_count
    done, summary = generate(project, fake)
    assert done.returncode == 0, done.stderr
    # each function is asked again, with one warning naming it and the cache
    assert fake.chat_count == calls + LLM_FUNCTIONS and summary["llm_calls"] == LLM_FUNCTIONS
    assert "ignored the cache entry for llm-tools.shout (python)" in done.stderr
    assert done.stderr.count("ignored the cache entry for llm-tools.shout (python)") == 1
    shout = (project / "generated" / FUNCTIONS / "shout.py").read_text()
    assert "def shout(text: str) -> str:" in shout and "add_one" not in shout
    assert "add_one" not in (project / "apipack.lock").read_text()


def test_offline_a_poisoned_cache_is_a_missing_answer(tmp_path: Path, fake: FakeLLM) -> None:
    project = built(fake, llm_project(tmp_path / "p"))
    rewrite_cache(project, poisoned)
    (project / "apipack.lock").unlink()
    done, _ = generate(project, None, "--offline")
    assert done.returncode == 3, done.stderr
    assert "no cached or locked response for" in done.stderr
    assert "llm-tools.shout (python)" in done.stderr.split("response for:")[1]


def test_a_poisoned_lock_entry_is_asked_again(tmp_path: Path, fake: FakeLLM) -> None:
    project = built(fake, llm_project(tmp_path / "p"))
    lock = project / "apipack.lock"
    text = lock.read_text()
    lock.write_text(text.replace("def shout(text: str) -> str:", "def shout(text):\n    pass\n"))
    fresh = llm_project(tmp_path / "clone")
    (fresh / "apipack.lock").write_bytes(lock.read_bytes())
    calls = fake.chat_count
    done, _ = generate(fresh, fake)
    assert done.returncode == 0, done.stderr
    assert fake.chat_count == calls + 1
    assert "ignored the apipack.lock entry for llm-tools.shout (python)" in done.stderr
    assert "def shout(text: str) -> str:" in (fresh / "apipack.lock").read_text()


@pytest.mark.parametrize(
    "damage", ["not json", '{"code": "def shout(text: str) -> str: ...", "hash": "xxh3:0"}']
)
def test_a_damaged_cache_value_is_dropped_and_asked_again(
    tmp_path: Path, fake: FakeLLM, damage: str
) -> None:
    project = built(fake, llm_project(tmp_path / "p"))
    rewrite_cache(project, lambda raw: damage)
    (project / "apipack.lock").unlink()
    calls = fake.chat_count
    done, _ = generate(project, fake)
    assert done.returncode == 0, done.stderr
    assert fake.chat_count == calls + LLM_FUNCTIONS
    assert "the cache entry is damaged" in done.stderr


def test_a_pickled_cache_value_is_never_unpickled(tmp_path: Path, fake: FakeLLM) -> None:
    project = built(fake, llm_project(tmp_path / "p"))
    witness = tmp_path / "unpickled"

    class Exploit:
        def __reduce__(self) -> tuple[Any, ...]:
            return (os.system, (f"touch {witness}",))

    rewrite_cache(project, lambda raw: Exploit())
    (project / "apipack.lock").unlink()
    done, _ = generate(project, fake)
    assert done.returncode == 0, done.stderr
    assert not witness.exists()


def test_a_damaged_cache_database_is_set_aside(tmp_path: Path, fake: FakeLLM) -> None:
    project = built(fake, llm_project(tmp_path / "p"))
    (project / ".apipack" / "cache" / "cache.db").write_bytes(b"this is not a database" * 100)
    # else the fast path, or the plan remembered of each unchanged spec, needs no cache
    (project / ".apipack" / "fingerprint.json").unlink()
    (project / ".apipack" / "plan.json").unlink()
    done, summary = generate(project, fake)
    assert done.returncode == 0, done.stderr
    assert "set it aside as cache.damaged" in done.stderr
    assert (project / ".apipack" / "cache.damaged" / "cache.db").is_file()
    assert summary["llm_lock_hits"] == LLM_FUNCTIONS  # the lock still answers: no call made
    done = apipack(project, None, "cache", "stats")
    assert done.returncode == 0, done.stderr


# ---- damaged state files ----


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b"\x00\xff\xfe binary \x89PNG", "not UTF-8 text"),
        (b"version: 99\nentries: []\n", "lock version 99 is not 1"),
        (b"version: 1\nentries: [1, 2]\n", "entry 0 is not a mapping"),
        (b"a: &a [x]\nb: [*a, *a]\n", "YAML aliases (*a) are not allowed"),
        (b"version: 1\nentries: {\n", "cannot read the lock"),
    ],
    ids=["binary", "version-99", "bad-entries", "alias", "bad-yaml"],
)
def test_a_damaged_lock_is_exit_2_naming_the_file(
    tmp_path: Path, fake: FakeLLM, content: bytes, says: str
) -> None:
    project = built(fake, llm_project(tmp_path / "p"))
    (project / "apipack.lock").write_bytes(content)
    for command in ("generate", "check"):
        done = apipack(project, fake, command)
        assert done.returncode == 2, done.stderr
        assert "apipack.lock" in done.stderr and says in done.stderr
    assert (project / "apipack.lock").read_bytes() == content  # nothing overwritten


def test_a_manifest_naming_a_path_outside_the_output_is_set_aside(
    tmp_path: Path, fake: FakeLLM
) -> None:
    project = built(fake, llm_project(tmp_path / "p"))
    bystander = project / "keep.txt"
    bystander.write_text("mine")
    manifest = project / ".apipack" / "manifest.json"
    data = json.loads(manifest.read_text())
    data["outputs"]["generated"]["../keep.txt"] = {"hash": "x", "task": "t", "key": "k"}
    manifest.write_text(json.dumps(data))
    done = apipack(project, fake, "check")
    assert done.returncode in (0, 1), done.stderr
    done, _ = generate(project, fake)
    assert done.returncode == 0, done.stderr
    assert "manifest.json was damaged" in done.stderr
    assert (project / ".apipack" / "manifest.json.damaged").is_file()
    assert bystander.read_text() == "mine"
    assert apipack(project, fake, "check").returncode == 0


def test_a_manifest_that_is_not_json_is_set_aside(tmp_path: Path, fake: FakeLLM) -> None:
    project = built(fake, llm_project(tmp_path / "p"))
    (project / ".apipack" / "manifest.json").write_bytes(b"\xff\xfe{")
    done, _ = generate(project, fake)
    assert done.returncode == 0, done.stderr
    assert apipack(project, fake, "check").returncode == 0


def test_temporary_files_of_a_killed_write_are_swept(tmp_path: Path, fake: FakeLLM) -> None:
    project = built(fake, llm_project(tmp_path / "p"))
    clean_tree = tree(project / "generated")
    left = project / "generated" / FUNCTIONS / ".shout.py.g3p_th2a.tmp"
    left.write_text("half a file")
    users = project / "generated" / FUNCTIONS / "notes.tmp"  # not of apipack's pattern: extra
    done = apipack(project, fake, "check")
    assert done.returncode == 0, done.stdout + done.stderr
    assert ".tmp" not in done.stdout
    lock_left = project / ".apipack.lock.k1ll3d_x.tmp"
    lock_left.write_text("half a lock")
    not_ours = project / ".notes.k1ll3d_x.tmp"  # the project folder is not apipack's alone
    not_ours.write_text("mine")
    done, _ = generate(project, fake, "--refresh", "shout")
    assert done.returncode == 0, done.stderr
    assert not left.exists() and tree(project / "generated") == clean_tree
    assert not lock_left.exists() and not_ours.read_text() == "mine"
    left.write_text("half a file")
    users.write_text("mine")
    assert apipack(project, fake, "clean").returncode == 0
    assert not left.exists() and users.read_text() == "mine"


# ---- what the model replies ----


def test_a_reply_with_module_level_code_is_repaired(tmp_path: Path, fake: FakeLLM) -> None:
    project = llm_project(tmp_path / "p", LLM_SPEC.split("  - name: count_vowels")[0])
    evil = (
        "```python\nimport os\nos.system('echo pwned')\n\n"
        "def shout(text: str) -> str:\n    return text.upper()\n```"
    )
    fake.faults.append(Fault(text=evil))
    done, summary = generate(project, fake)
    assert done.returncode == 0, done.stderr
    assert fake.chat_count == 2 and summary["llm_calls"] == 2
    repair = fake.chats[-1]["body"]["messages"][-1]["content"]
    assert "`os.system('echo pwned')` runs code at import" in repair
    shout = (project / "generated" / FUNCTIONS / "shout.py").read_text()
    assert "os.system" not in shout
    assert "os.system" not in (project / "apipack.lock").read_text()


def test_a_reply_over_the_size_limit_is_invalid(tmp_path: Path, fake: FakeLLM) -> None:
    project = llm_project(tmp_path / "p", LLM_SPEC.split("  - name: count_vowels")[0])
    padding = "# " + "x" * 4000 + "\n"
    big = f"```python\n{padding}def shout(text: str) -> str:\n    return text.upper()\n```"
    fake.faults.extend([Fault(text=big)] * 2)
    done, _ = generate(
        project, fake, APIPACK_LLM_MAX_REPLY_BYTES="2000", APIPACK_LLM_REPAIR_ATTEMPTS="1"
    )
    assert done.returncode == 1
    assert "more than llm.max_reply_bytes (2000)" in done.stdout + done.stderr
    saved = project / ".apipack" / "failed" / "llm-tools.shout.python.txt"
    assert saved.stat().st_size < 2 * 2000 + 100  # what is kept is bounded too


def test_failed_requests_are_counted(tmp_path: Path, fake: FakeLLM) -> None:
    project = llm_project(tmp_path / "p", LLM_SPEC.split("  - name: count_vowels")[0])
    fake.faults.extend([Fault(status=500)] * 4)
    done, summary = generate(project, fake, APIPACK_LLM_RETRIES="3")
    assert done.returncode == 1
    assert fake.chat_count == 4
    assert (summary["llm_calls"], summary["llm_requests"]) == (1, 4)
    assert "LLM: 1 calls, 4 requests" in done.stdout


# ---- credentials, output folders, links ----


def test_credentials_in_urls_are_never_shown_or_stored(tmp_path: Path, fake: FakeLLM) -> None:
    project = llm_project(tmp_path / "p")
    secret = "hunter2secret"
    url = f"http://alice:{secret}@127.0.0.1:9"
    done, _ = generate(project, None, APIPACK_LLM_BASE_URL=url)
    assert done.returncode == 3
    assert "127.0.0.1:9" in done.stderr and secret not in done.stdout + done.stderr
    for command in ("health", "config"):
        done = apipack(project, None, command, APIPACK_LLM_BASE_URL=url)
        assert "***@127.0.0.1:9" in done.stdout, done.stdout
        assert secret not in done.stdout + done.stderr
    # a build that fails during its tasks stores its failures in last-build.json
    working = fake.url.replace("http://", f"http://alice:{secret}@")
    fake.faults.append(Fault(status=400))
    done, summary = generate(
        llm_project(tmp_path / "q", LLM_SPEC.split("  - name: count_vowels")[0]),
        None,
        APIPACK_LLM_BASE_URL=working,
    )
    assert done.returncode == 1, done.stderr
    last = (tmp_path / "q" / ".apipack" / "last-build.json").read_text()
    assert summary["failures"] and secret not in last + done.stdout + done.stderr


@pytest.mark.parametrize(
    ("output", "says"),
    [
        ("specs", "the spec glob 'specs/*.yml' matches files inside it"),
        ("apipack.yml", "it is a file"),
        ("/", "it is the root of the file system"),
        (".", "it is the project folder"),
        ("..", "it holds the project folder itself"),
        (".home", "it is the home folder"),
        (".apipack/out", "inside the build state folder"),
    ],
)
def test_output_folders_that_cannot_work_are_refused(
    tmp_path: Path, output: str, says: str
) -> None:
    project = llm_project(tmp_path / "p")
    (project / ".home").mkdir()
    before = tree(project)
    for command in ("generate", "check", "clean"):
        done = apipack(project, None, command, "-o", output, "--offline" * (command == "generate"))
        assert done.returncode == 2, done.stdout + done.stderr
        assert f"output folder '{output}'" in done.stderr and says in done.stderr
    assert tree(project) == before


def test_a_spec_linked_from_outside_the_project_is_not_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret.yml"
    secret.write_text("password: correct-horse-battery-staple\n")
    project = llm_project(tmp_path / "p")
    (project / "specs" / "linked.yml").symlink_to(secret)
    done = apipack(project, None, "validate")
    assert done.returncode == 2
    assert "specs/linked.yml:1:1: a link to a file outside the project folder" in done.stderr
    assert "correct-horse" not in done.stderr and str(tmp_path) not in done.stderr


def test_size_limits_on_specs_and_implementation_files(tmp_path: Path) -> None:
    project = llm_project(tmp_path / "p")
    done = apipack(project, None, "validate", APIPACK_MAX_SPEC_BYTES="100")
    assert done.returncode == 2
    assert "specs/tools.yml:1:1: the spec is" in done.stderr
    assert "more than max_spec_bytes (100)" in done.stderr
    (project / "specs" / "impl.py").write_text("def given() -> bool:\n    return True\n" * 10)
    spec = project / "specs" / "tools.yml"
    spec.write_text(
        spec.read_text().replace(
            "    code: |\n      def given() -> bool:\n          return True\n",
            "    implementation: impl.py\n",
        )
    )
    done = apipack(project, None, "validate", APIPACK_MAX_IMPLEMENTATION_BYTES="100")
    assert done.returncode == 2
    assert "implementation: implementation file 'impl.py' is 370 bytes" in done.stderr


# ---- kill -9 ----


def _children(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.add(int(entry.name))
    return found


@pytest.mark.skipif(not Path("/proc/self/stat").is_file(), reason="reads /proc")
def test_doit_workers_exit_when_generate_is_killed(tmp_path: Path, fake: FakeLLM) -> None:
    import signal
    import time

    from helpers import tool

    project = llm_project(tmp_path / "p")
    fake.faults.extend([Fault(delay=10)] * LLM_FUNCTIONS)
    env = without_settings("OLLAMA_HOST")
    env.update(HOME=str(project / ".home"), APIPACK_LLM_BASE_URL=fake.url)
    build = subprocess.Popen(
        [tool("apipack"), "generate", "-n", "2"],
        cwd=project,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while fake.chat_count < 2 and time.monotonic() < deadline:  # both workers are asking
            time.sleep(0.1)
        workers = _children(build.pid)
        assert fake.chat_count >= 2 and workers
    finally:
        build.send_signal(signal.SIGKILL)
        build.wait()
    deadline = time.monotonic() + 20
    while any(Path(f"/proc/{pid}").exists() for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    alive = [pid for pid in workers if Path(f"/proc/{pid}/stat").is_file()]
    # a worker gone but not yet reaped by its new parent is a zombie: it holds nothing open
    alive = [
        p for p in alive if Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    ]
    for pid in alive:
        os.kill(pid, signal.SIGKILL)
    assert alive == []


STATE_FILES = [
    ".apipack/fingerprint.json",
    ".apipack/plan.json",
    ".apipack/manifest.json",
    ".apipack/manifest.shards",
    ".apipack/lock.json",
    ".apipack/last-build.json",
    ".apipack/doit.sqlite3",
    ".apipack/cache/cache.db",
]


@pytest.mark.parametrize("relative", STATE_FILES)
@pytest.mark.parametrize(
    "garbage", [b"\x00\xff\xfe\x89 not text", b'{"version": 2, "key": 1, "files": [1]}']
)
def test_no_damaged_state_file_is_an_internal_error(
    tmp_path: Path, fake: FakeLLM, relative: str, garbage: bytes
) -> None:
    project = built(fake, llm_project(tmp_path / "p"))
    expected = tree(project / "generated")
    (project / relative).write_bytes(garbage)
    for args in (["check"], ["cache", "stats"], ["generate"], ["check"]):
        done = apipack(project, fake, *args)
        assert done.returncode in (0, 1), f"{args}: {done.stdout}{done.stderr}"
    assert apipack(project, fake, "check").returncode == 0
    assert tree(project / "generated") == expected
    assert apipack(project, fake, "clean").returncode == 0
