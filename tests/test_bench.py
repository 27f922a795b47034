"""The benchmark harness end to end at a tiny scale: ``python -m bench`` with N = 3, one sample
per measurement, no openapi-generator, everything written into a tmp folder.

Only that the harness works is asserted (what each scenario did, that results, table and plot
are written); its speed goals are reported by the harness, never asserted here.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
INTRO = "# Benchmarks\n\nA hand-written intro that the harness must keep.\n"


def test_bench_runs_end_to_end(tmp_path: Path) -> None:
    docs = tmp_path / "docs" / "benchmarks.md"
    docs.parent.mkdir()
    stale = "<!-- bench:quick:start -->\nold numbers\n<!-- bench:quick:end -->\n"
    docs.write_text(INTRO + "\n" + stale + "\nA closing remark.\n", encoding="utf-8")
    work = tmp_path / "work"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench",
            "--quick",
            "--sizes",
            "3,4",
            "--large-from",
            "4",
            "--per-spec",
            "2",
            "--repeats",
            "1",
            "--no-openapi",
            "--results",
            str(tmp_path / "results"),
            "--docs",
            str(docs),
            "--work",
            str(work),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

    data = json.loads((tmp_path / "results" / "quick.json").read_text(encoding="utf-8"))
    assert data["machine"]["cpu_count"] and data["machine"]["python"]
    found = {m["scenario"]: m for m in data["measurements"] if m["n"] == 3}

    def counts(scenario: str) -> dict[str, float]:
        samples = found[scenario]["samples"]
        assert len(samples) == 1 and samples[0]["seconds"] > 0 and samples[0]["max_rss_mb"] > 0
        return samples[0]

    assert counts("first")["llm_calls"] == 3
    cold = counts("cold")
    assert cold["llm_calls"] == 0 and cold["files_written"] > 0
    assert counts("noop")["tasks_run"] == 0 and counts("noop")["files_written"] == 0
    assert counts("noop_offline")["tasks_run"] == 0 and counts("noop_offline")["llm_calls"] == 0
    counts("check_noop")  # `apipack check` exited 0: every generated file current
    assert counts("touch")["tasks_run"] == 0
    assert counts("edit_one")["llm_calls"] == 1
    assert counts("explain")["tasks_run"] >= 1  # the edited function's tasks, and more
    # served by the daemon the first command started, with the counts a fresh process gives
    assert counts("noop_served")["tasks_run"] == 0 and counts("noop_served")["fast_path"] == 1
    assert counts("edit_one_served")["llm_calls"] == 1
    served_rss = counts("edit_one_served")  # the daemon's memory counts, with the client's
    assert served_rss["max_rss_mb"] >= served_rss["daemon_peak_rss_mb"] > 0
    watch = found["watch"]["samples"]  # one session, at least ten edits whatever --repeats says
    assert len(watch) >= 10 and all(s["seconds"] > 0 for s in watch)
    assert counts("edit_template")["files_written"] == 3  # one CLI command module per function
    assert counts("edit_template_served")["files_written"] == 3
    assert counts("edit_prompt")["llm_calls"] == 3
    assert counts("doit_noop")["tasks_run"] == 0
    assert counts("floor")["files_read"] > 3
    # Python + TypeScript: nothing to do once both are built
    assert counts("two_languages")["tasks_run"] == 0
    assert counts("two_languages")["files_written"] == 0
    assert found["openapi_noop"]["note"] == "skipped (--no-openapi)"
    assert {t["status"] for t in data["targets"]} <= {"pass", "miss", "n/a"}
    assert len(data["targets"]) == 2 * 15  # per N
    edit_rss = [t for t in data["targets"] if t["target"] == "peak RSS of one function edited"]
    assert [t["status"] for t in edit_rss] == ["pass", "pass"]  # at N = 3 and 4, both measured
    for kind in ("in its own process", "served (the default)"):
        template = [t for t in data["targets"] if t["target"] == f"one template edited, {kind}"]
        assert [t["n"] for t in template] == [3, 4]  # at N = 4 (large) not measured
        assert "+ 3 × 2 ms = " in template[0]["measured"] and template[1]["status"] == "n/a"
    # a large N runs its first build and the scenarios with goals at that size, no baselines
    large = {m["scenario"] for m in data["measurements"] if m["n"] == 4}
    served = {"noop_served", "edit_one_served"}
    assert large == {"first", "noop", "noop_offline", "check_noop", "edit_one", *served}

    document = json.loads((work / "n3" / "openapi" / "openapi.json").read_text(encoding="utf-8"))
    assert len(document["paths"]) == 3

    text = docs.read_text(encoding="utf-8")
    assert text.startswith(INTRO) and text.rstrip().endswith("A closing remark.")
    assert "old numbers" not in text and text.count("<!-- bench:quick:start -->") == 1
    assert "| no-op | 3 |" in text and "| no-op against raw doit |" in text
    assert (docs.parent / "benchmarks-quick.png").stat().st_size > 0  # matplotlib: test extras
    assert "benchmarks-quick.png" in text
