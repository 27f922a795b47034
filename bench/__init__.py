"""apipack's benchmark harness (issue 6): ``python -m bench`` (N = 10, 100, 1000) or
``python -m bench --quick`` (N = 10, 100).

For each N it writes a synthetic project (N functions, 25 per spec file, Python, rest + cli),
fills the LLM cache from a local Ollama-protocol server with a fixed latency, and times each
scenario several times as whole ``apipack generate`` processes: cold from a warm cache, no-op,
touch, one function edited, one template edited, the prompt edited. Beside them, in the same run:
raw doit with the same graph shape, the physical floor (stat and hash every input), and
openapi-generator on the same API. Results: ``bench/results/MODE.json``, a table in
``docs/benchmarks.md`` and ``docs/benchmarks-MODE.png``; each figure checked against the targets.
"""

from __future__ import annotations

from ._cli import main

__all__ = ["main"]
