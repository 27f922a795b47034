"""Live progress: `apipack generate` subprocesses whose stderr is a pseudo-terminal or a pipe,
against the fake LLM server on 127.0.0.1 streaming its replies slowly, so LLM functions are seen
waiting. What is asserted is what a user sees, never how often the line was drawn."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import subprocess
from pathlib import Path

import pytest
from fake_llm import FakeLLM, Fault
from helpers import LLM_FUNCTIONS, llm_project, run_apipack, tool, without_settings

ERASE = "\r\x1b[K"
PLAIN_LINE = re.compile(
    r"^apipack: LLM llm-tools\.(shout|count_vowels|halve) \(python\): \d+ tokens in [\d.]+ s"
    r"(, \d+ tok/s)? \[(\d)/3\]$"
)


def environment(folder: Path, fake: FakeLLM) -> dict[str, str]:
    env = without_settings()
    env.update(HOME=str(folder / ".home"), APIPACK_LLM_BASE_URL=fake.url, TERM="xterm")
    return env


def on_a_terminal(folder: Path, fake: FakeLLM, *args: str) -> tuple[str, str, int]:
    """``apipack generate ARGS`` with stderr on a pseudo-terminal: (what the terminal showed,
    stdout, exit code)."""
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [tool("apipack"), "generate", *args],
        cwd=folder,
        env=environment(folder, fake),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=follower,
    )
    os.close(follower)
    shown = b""
    while True:
        ready, _, _ = select.select([leader], [], [], 1.0)
        if not ready:
            if process.poll() is not None:
                break
            continue
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the terminal closed: the process has ended
            break
        if not chunk:
            break
        shown += chunk
    os.close(leader)
    assert process.stdout is not None
    stdout = process.stdout.read().decode()
    return shown.decode(), stdout, process.wait(timeout=120)


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_terminal_sees_one_line_that_updates(tmp_path: Path, fake: FakeLLM, jobs: str) -> None:
    project = llm_project(tmp_path / "p")
    fake.faults.extend(Fault(stream_delay=0.05) for _ in range(LLM_FUNCTIONS))
    summary_file = tmp_path / "summary.json"
    shown, stdout, code = on_a_terminal(
        project, fake, "-n", jobs, "--summary-json", str(summary_file)
    )
    assert code == 0, shown + stdout
    assert "Traceback" not in shown
    frames = [frame for frame in shown.split(ERASE) if frame]
    assert shown.endswith(ERASE), "the line is erased before the summary"
    assert len(set(frames)) >= 3, frames  # the one line was redrawn with new content
    assert "\n" not in "".join(frames), "the live line never scrolls"
    summary = json.loads(summary_file.read_text())
    total = summary["tasks_total"]
    counts = [int(m.group(1)) for f in frames if (m := re.match(r"apipack \[(\d+)/(\d+)\]", f))]
    assert counts == sorted(counts) and counts[-1] == total and len(counts) == len(frames)
    assert all(f"/{total}]" in frame for frame in frames)
    waiting = " ".join(f for f in frames if "LLM: " in f)
    assert {"shout", "count_vowels", "halve"} <= set(re.findall(r"[a-z_]+", waiting))
    assert re.search(r"\d+ tok/s", waiting), "a streaming reply shows its tokens per second"
    assert re.search(r"~\d+ s left", shown), "an estimate once a function has been written"
    # the summary line goes where it always went; progress goes into no file
    assert stdout.startswith("apipack: ") and stdout.count("\n") == 1
    assert "\r" not in stdout and "tok/s" not in summary_file.read_text()


def test_not_on_a_terminal_one_plain_line_per_llm_function(tmp_path: Path, fake: FakeLLM) -> None:
    project = llm_project(tmp_path / "p")
    done = run_apipack(project, "generate", "-n", "2", env={"APIPACK_LLM_BASE_URL": fake.url})
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    matched = [PLAIN_LINE.match(line) for line in lines]
    assert all(matched), lines
    assert sorted(m.group(1) for m in matched if m) == ["count_vowels", "halve", "shout"]
    assert [m.group(3) for m in matched if m] == ["1", "2", "3"]
    assert "\r" not in done.stderr and "\x1b" not in done.stderr
    assert done.stdout.startswith("apipack: ") and done.stdout.count("\n") == 1

    # a build that asks nothing shows no progress lines, only its summary
    spec = project / "specs" / "tools.yml"
    spec.write_text(spec.read_text().replace("Written by hand", "Written by a hand"))
    done = run_apipack(project, "generate", env={"APIPACK_LLM_BASE_URL": fake.url})
    assert done.returncode == 0 and done.stderr == "", done.stderr


def test_quiet_shows_neither_progress_nor_summary(tmp_path: Path, fake: FakeLLM) -> None:
    project = llm_project(tmp_path / "p")
    done = run_apipack(project, "generate", "--quiet", env={"APIPACK_LLM_BASE_URL": fake.url})
    assert done.returncode == 0, done.stderr
    assert (done.stdout, done.stderr) == ("", "")
    assert fake.chat_count == LLM_FUNCTIONS
    shown, stdout, code = on_a_terminal(project, fake, "-q")  # and the fast path is quiet too
    assert (shown, stdout, code) == ("", "", 0)


def test_a_failed_llm_function_is_a_plain_line_too(tmp_path: Path, fake: FakeLLM) -> None:
    project = llm_project(tmp_path / "p")
    fake.faults.extend(Fault(status=400) for _ in range(LLM_FUNCTIONS))
    done = run_apipack(
        project, "generate", env={"APIPACK_LLM_BASE_URL": fake.url, "APIPACK_LLM_RETRIES": "0"}
    )
    assert done.returncode == 1, done.stderr
    failed = [line for line in done.stderr.splitlines() if line.endswith("/3]")]
    assert len(failed) == LLM_FUNCTIONS and all(": failed [" in line for line in failed), failed
