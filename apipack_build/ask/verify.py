"""Running an LLM's body against its spec's examples, before the body is cached or locked.

The language says how (``rules.ExampleRun``); this module runs it the same way for every
language: in a new empty folder, with no environment, a time limit and a memory limit, so a body
that loops, eats memory, reads the caller's secrets or litters the project does none of that.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..rules import ExampleRun

MEMORY_LIMIT = 2 << 30  # bytes of address space
#: sets the memory limit in the child, then becomes the language's command: unlike preexec_fn,
#: safe in a process that runs requests in threads. Run with -S: it needs no site-packages, and
#: importing ``site`` (its .pth files) was much of its start-up, paid on every verified body
_LIMITED = (
    "import os, resource, sys; "
    "resource.setrlimit(resource.RLIMIT_AS, ({limit}, {limit})); "
    "os.execv(sys.argv[1], sys.argv[1:])"
)
#: the same for a script this interpreter runs (``ExampleRun.python``): the limit, then the
#: script in the same process, with ``site`` if the run wants it: one interpreter started
#: instead of two (a verified body cost about 0.1 s of CPU, mostly two start-ups)
_LIMITED_HERE = (
    "import resource, runpy, sys; "
    "resource.setrlimit(resource.RLIMIT_AS, ({limit}, {limit})); "
    "sys.argv = sys.argv[1:]; "
    "{site}"
    "runpy.run_path(sys.argv[0], run_name='__main__')"
)
SHOWN_FAILURES = 3


@dataclass(frozen=True)
class Verdict:
    problem: str = ""  # why the body is refused ("" when it is not)
    unverified: str = ""  # why it could not be judged (it is accepted)


def verify(run: ExampleRun, timeout: float) -> Verdict:
    """Run *run*; *timeout* bounds all its examples, start-up included."""
    with tempfile.TemporaryDirectory(prefix="apipack-verify-") as folder:
        where = Path(folder)
        for name, text in sorted(run.files.items()):
            (where / name).write_text(text, encoding="utf-8")
        try:
            done = subprocess.run(
                _with_memory_limit(run),
                cwd=where,
                env={},
                stdin=subprocess.DEVNULL,
                capture_output=True,
                timeout=timeout,
            )
        except subprocess.TimeoutExpired:
            return Verdict(f"running its examples took longer than {timeout:g} s")
        except OSError as exc:
            return Verdict(unverified=f"its examples could not be run ({exc.strerror})")
        try:
            verdict = json.loads((where / run.verdict).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            last = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:]
            return Verdict(f"it crashed running its examples ({''.join(last) or done.returncode})")
    if not isinstance(verdict, dict):
        return Verdict("running its examples gave no verdict")
    if verdict.get("unverified"):
        return Verdict(unverified=str(verdict["unverified"]))
    failures = [str(f) for f in verdict.get("failures") or []]
    if not failures:
        return Verdict()
    more = len(failures) - SHOWN_FAILURES
    shown = "; ".join(failures[:SHOWN_FAILURES]) + (f"; and {more} more" if more > 0 else "")
    return Verdict(f"it fails the spec's examples: {shown}")


def _with_memory_limit(run: ExampleRun) -> list[str]:
    if sys.platform == "win32":  # no RLIMIT_AS there
        return list(run.argv)
    limiter = [sys.executable, "-I", "-S", "-c"]
    if run.script is not None:
        site = "import site; site.main(); " if run.site else ""
        return [*limiter, _LIMITED_HERE.format(limit=MEMORY_LIMIT, site=site), run.script]
    return [*limiter, _LIMITED.format(limit=MEMORY_LIMIT), *run.argv]
