"""Measuring commands: wall time and peak RSS through the launcher, repeats, and the fake LLM.

A *sample* is one run of one command; a *measurement* is the samples of one scenario at one N,
with median, min and max. How many samples a measurement takes adapts to how long one takes.
"""

from __future__ import annotations

import collections
import importlib.util
import itertools
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

HERE = Path(__file__).resolve().parent
LAUNCHER = HERE / "_launch.py"
FAKE_LLM = HERE.parent / "tests" / "fake_llm.py"


class BenchError(Exception):
    """A measured command failed, or the harness cannot go on."""


@dataclass(frozen=True)
class Sample:
    seconds: float
    max_rss_mb: float
    counts: Mapping[str, float] = field(default_factory=dict)


@dataclass
class Measurement:
    """The samples of one scenario at one N; no samples and a note when it could not run."""

    scenario: str
    n: int
    samples: list[Sample] = field(default_factory=list)
    note: str = ""

    @property
    def available(self) -> bool:
        return bool(self.samples)

    @property
    def median(self) -> float:
        return statistics.median(s.seconds for s in self.samples)

    @property
    def minimum(self) -> float:
        return min(s.seconds for s in self.samples)

    @property
    def maximum(self) -> float:
        return max(s.seconds for s in self.samples)

    @property
    def peak_rss_mb(self) -> float:
        return max(s.max_rss_mb for s in self.samples)

    def count(self, name: str) -> float | None:
        """The median of a per-run count (tasks run, LLM calls, …), if the runs report it."""
        values = [s.counts[name] for s in self.samples if name in s.counts]
        return statistics.median(values) if values else None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"scenario": self.scenario, "n": self.n, "note": self.note}
        if self.available:
            data.update(
                median_seconds=round(self.median, 4),
                min_seconds=round(self.minimum, 4),
                max_seconds=round(self.maximum, 4),
                peak_rss_mb=round(self.peak_rss_mb, 1),
            )
        data["samples"] = [
            {
                "seconds": round(s.seconds, 4),
                "max_rss_mb": round(s.max_rss_mb, 1),
                **dict(s.counts),
            }
            for s in self.samples
        ]
        return data


@dataclass(frozen=True)
class Repeats:
    """How many samples to take: at least ``least``, at most ``most``, and no more once the
    next one would take the measurement past ``budget`` seconds."""

    least: int
    most: int
    budget: float

    def take(self, run_once: Callable[[int], Sample]) -> list[Sample]:
        samples: list[Sample] = []
        started = time.perf_counter()
        while len(samples) < self.most:
            samples.append(run_once(len(samples)))
            spent = time.perf_counter() - started
            if len(samples) >= self.least and spent * (len(samples) + 1) / len(samples) > (
                self.budget
            ):
                break
        return samples


@dataclass(frozen=True)
class Run:
    """What the launcher saw of one command."""

    seconds: float
    max_rss_mb: float
    returncode: int
    log: Path

    def tail(self, lines: int = 15) -> str:
        text = self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


def launch(
    command: Sequence[str | Path],
    *,
    cwd: Path,
    env: Mapping[str, str],
    log: Path,
    timeout: float = 3600,
) -> Run:
    """Run *command* through the launcher; its output goes to *log*."""
    report = log.with_suffix(".launch.json")
    report.unlink(missing_ok=True)
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w", encoding="utf-8") as out:
        subprocess.run(
            [sys.executable, str(LAUNCHER), str(report), "--", *map(str, command)],
            cwd=cwd,
            env=dict(env),
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            timeout=timeout,
            check=True,
        )
    data = json.loads(report.read_text(encoding="utf-8"))
    return Run(data["seconds"], data["max_rss_kb"] / 1024, data["returncode"], log)


def peak_rss_mb(pid: int) -> float:
    """The peak resident memory of a running process so far (Linux's ``VmHWM``), or 0."""
    try:
        status = Path(f"/proc/{pid}/status").read_text(encoding="utf-8")
    except OSError:
        return 0.0
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def clean_env(home: Path, **extra: str) -> dict[str, str]:
    """The caller's environment without apipack settings, with a private HOME, each command
    in its own process (no daemon serves it, nor does it start one; ``Apipack.daemon``)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("APIPACK_") and k not in ("OLLAMA_HOST", "PYTHONDONTWRITEBYTECODE")
    }
    home.mkdir(parents=True, exist_ok=True)
    env.update(HOME=str(home), APIPACK_NO_DAEMON="1", **extra)
    return env


# -- the fake LLM server of the test suite, with a fixed latency --


def _load_fake_llm() -> ModuleType:
    """``tests/fake_llm.py``, imported by path: the harness reuses the test suite's server."""
    spec = importlib.util.spec_from_file_location("apipack_bench_fake_llm", FAKE_LLM)
    if spec is None or spec.loader is None:
        raise BenchError(f"cannot import {FAKE_LLM}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while building
    spec.loader.exec_module(module)
    return module


class _Latency(collections.deque[Any]):
    """The fake server takes one queued fault per request; this queue never runs dry and
    always hands out a delay, which makes it a server with a fixed latency."""

    def __init__(self, fault: Any):
        super().__init__()
        self.fault = fault

    def __bool__(self) -> bool:
        return True

    def popleft(self) -> Any:
        return self.fault


def _vary_replies(module: Any) -> None:
    """Number each reply in a comment. The test server answers from the signature alone, so a
    prompt edit would get the very same code back and write nothing; a model would answer
    differently, and the scenario must pay for writing what changed. This patches only the
    harness's own copy of the module."""
    plain = module.body_for
    numbers = itertools.count(1)

    def numbered(signature: str) -> str:
        return f"# reply {next(numbers)}\n{plain(signature)}"

    module.body_for = numbered


class FakeServer:
    """An Ollama-protocol server on 127.0.0.1 that answers every chat after ``latency`` s."""

    def __init__(self, latency: float):
        module = _load_fake_llm()
        _vary_replies(module)
        self.server = module.FakeLLM(faults=_Latency(module.Fault(delay=latency)))
        self.latency = latency

    def __enter__(self) -> FakeServer:
        self.server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.stop()

    @property
    def url(self) -> str:
        url: str = self.server.url
        return url

    @property
    def chats(self) -> int:
        count: int = self.server.chat_count
        return count
