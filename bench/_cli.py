"""``python -m bench``: run every scenario and comparison at each N, then write the results."""

from __future__ import annotations

import argparse
import dataclasses
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from pathlib import Path

from . import _baselines, _results, _scenarios, _synth, _tools
from ._measure import BenchError, FakeServer, Measurement, Repeats

HERE = Path(__file__).resolve().parent
#: from ``--large-from`` (``_scenarios.LARGE_N``) on, only the scenarios with goals at that size
SIZES = {"quick": (10, 100), "full": (10, 100, 1000, _scenarios.LARGE_N)}
#: samples per measurement, by mode: at least, at most, and no more once the next would take
#: the measurement past the budget (s). Full mode: 7 samples of a 1-second no-op, 1 sample of a
#: prompt edit that asks the LLM 1000 times. Quick mode: 3 samples of a no-op, 1 of anything
#: over 2.5 s, to fit in two minutes on 2 busy cores.
POLICY = {"quick": Repeats(1, 3, 5.0), "full": Repeats(1, 7, 100.0)}
#: a JVM start costs seconds: in quick mode, openapi-generator runs once per measurement
ONCE_IN_QUICK_MODE = frozenset({"openapi_cold", "openapi_noop"})
#: what the targets compare gets a min and a max even in quick mode
TWICE_IN_QUICK_MODE = frozenset(
    {"noop", "noop_offline", "check_noop", "edit_one", "edit_one_served", "doit_noop", "floor"}
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="N = 10 and 100 only (< 2 minutes)")
    parser.add_argument(
        "--sizes", type=_sizes, metavar="N,N,…", help="numbers of functions (default by mode)"
    )
    parser.add_argument(
        "--per-spec", type=int, default=25, metavar="K", help="functions per spec file (25)"
    )
    parser.add_argument(
        "--latency", type=float, default=0.02, metavar="S", help="fake LLM latency, s (0.02)"
    )
    parser.add_argument(
        "--repeats", type=int, metavar="K", help="exactly K samples per measurement"
    )
    parser.add_argument(
        "--large-from",
        type=int,
        default=_scenarios.LARGE_N,
        metavar="N",
        help="from this N on, only the scenarios with goals at large sizes, no baselines "
        f"({_scenarios.LARGE_N})",
    )
    parser.add_argument("--no-openapi", action="store_true", help="skip openapi-generator")
    parser.add_argument(
        "--no-install",
        action="store_true",
        help="use openapi-generator only if bench/.tools/ has it already",
    )
    parser.add_argument(
        "--results", type=Path, default=HERE / "results", help="folder of MODE.json"
    )
    parser.add_argument(
        "--docs", type=Path, default=HERE.parent / "docs" / "benchmarks.md", help="the table"
    )
    parser.add_argument("--work", type=Path, help="scratch folder (default: a temporary one)")
    return parser


def _sizes(text: str) -> tuple[int, ...]:
    sizes = tuple(sorted({int(part) for part in text.split(",") if part.strip()}))
    if not sizes or sizes[0] < 1:
        raise argparse.ArgumentTypeError("sizes are positive integers, e.g. 10,100")
    return sizes


def _policy(args: argparse.Namespace, mode: str) -> Callable[[str], Repeats]:
    def repeats(scenario: str) -> Repeats:
        if args.repeats:
            return Repeats(args.repeats, args.repeats, 0.0)
        if mode == "quick" and scenario in ONCE_IN_QUICK_MODE:
            return Repeats(1, 1, 0.0)
        if mode == "quick" and scenario in TWICE_IN_QUICK_MODE:
            return dataclasses.replace(POLICY[mode], least=2)
        return POLICY[mode]

    return repeats


def _progress(started: float) -> Callable[[str], None]:
    def say(message: str) -> None:
        print(f"[{time.perf_counter() - started:6.1f} s] {message}", file=sys.stderr, flush=True)

    return say


def measure_all(
    args: argparse.Namespace,
    mode: str,
    sizes: Sequence[int],
    work: Path,
    say: Callable[[str], None],
) -> list[Measurement]:
    repeats = _policy(args, mode)
    if args.no_openapi:
        generator = _tools.Generator(unavailable="skipped (--no-openapi)")
    else:
        say("openapi-generator: looking in bench/.tools/ (installing if missing)")
        generator = _tools.find_or_install(install=not args.no_install)
        if generator.unavailable:
            say(f"openapi-generator: {generator.unavailable}")
    measurements: list[Measurement] = []
    with FakeServer(args.latency) as server:
        for n in sizes:
            folder = work / f"n{n}"
            project = _synth.write_project(folder / "project", n, args.per_spec)
            apipack = _scenarios.Apipack(project, server.url, folder / "logs")
            large = n >= args.large_from
            only = _scenarios.LARGE_SCENARIOS if large else None
            ours = _scenarios.run_scenarios(apipack, repeats, say, only)
            measurements += ours
            if large:
                continue
            # the graph of a build from a warm LLM cache (the first build's has an LLM task more
            # per function, and a no-op's fast path reports the last full build's count)
            cold = next(m for m in ours if m.scenario == "cold")
            tasks = cold.count("tasks_total")
            say(f"N={n}: {_baselines.LABELS['doit_noop']}")
            measurements.append(
                _baselines.measure_raw_doit(
                    project, folder, repeats("doit_noop"), int(tasks) if tasks else None
                )
            )
            say(f"N={n}: {_baselines.LABELS['floor']}")
            measurements.append(_baselines.measure_floor(project, folder, repeats("floor")))
            if not generator.unavailable:
                say(f"N={n}: openapi-generator")
            measurements += _baselines.measure_openapi(project, folder, generator, repeats)
    return measurements


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    mode = "quick" if args.quick else "full"
    sizes = args.sizes or SIZES[mode]
    started = time.perf_counter()
    say = _progress(started)
    machine = _results.machine_info()
    work = args.work or Path(tempfile.mkdtemp(prefix="apipack-bench-"))
    try:
        measurements = measure_all(args, mode, sizes, work, say)
    except BenchError as exc:
        print(f"bench: {exc}\n(scratch folder kept: {work})", file=sys.stderr)
        return 1
    if args.work is None:
        shutil.rmtree(work, ignore_errors=True)
    settings = {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "sizes": list(sizes),
        "functions_per_spec": args.per_spec,
        "languages": ["python"],
        "rules": ["core", *_synth.INTERFACES],
        "llm_latency": args.latency,
        "llm_concurrency": 1,
        "jobs": 1,
        "run_seconds": round(time.perf_counter() - started, 1),
    }
    data = _results.results_json(mode, settings, machine, measurements, sizes)
    json_path = args.results / f"{mode}.json"
    _results.write_json(json_path, data)
    plot_path = args.docs.parent / f"benchmarks-{mode}.png"
    problem = _results.plot(measurements, plot_path, f"apipack benchmark, {mode} mode")
    if problem:
        say(f"no plot: {problem}")
    section = _results.markdown_section(
        data, measurements, sizes, "" if problem else plot_path.name
    )
    _results.update_docs(args.docs, mode, section)
    print(_results.terminal_report(measurements, sizes))
    written = [json_path, args.docs] + ([] if problem else [plot_path])
    print(f"\nwrote {', '.join(str(p) for p in written)} in {time.perf_counter() - started:.0f} s")
    return 0
