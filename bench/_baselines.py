"""What apipack is compared with, on the same synthetic project.

- raw doit: a generated ``dodo.py`` with as many trivial tasks as apipack's graph, each
  depending on the same files (its spec file and the templates its outputs come from); timed
  as a no-op after a first run. The floor of doit itself.
- the physical floor: one Python process that stats and hashes every input file.
- openapi-generator: a python-fastapi server from the same API as an OpenAPI document, cold
  (empty output folder) and again with nothing changed.
"""

from __future__ import annotations

import functools
import json
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

from . import _synth
from ._measure import BenchError, Measurement, Repeats, Sample, clean_env, launch
from ._tools import Generator

HERE = Path(__file__).resolve().parent
FLOOR = HERE / "_floor.py"

LABELS = {
    "doit_noop": "raw doit no-op, same tasks and file deps",
    "floor": "physical floor: stat + hash every input",
    "openapi_cold": "openapi-generator python-fastapi, cold",
    "openapi_noop": "openapi-generator python-fastapi, nothing changed",
}

#: the templates each rule's tasks read (per function, and per package)
_RULE_TEMPLATES = {
    "core": (
        ("python/core/function.py.j2", "python/core/test_function.py.j2", "prompts/python.j2"),
        (
            "python/core/pyproject.toml.j2",
            "python/core/README.md.j2",
            "python/core/Dockerfile.j2",
            "python/core/dockerignore.j2",
            "python/core/functions_init.py.j2",
            "python/core/package_init.py.j2",
            "python/core/py.typed.j2",
        ),
    ),
    "rest": (
        ("python/rest/route.py.j2", "python/rest/test_route.py.j2"),
        (
            "python/rest/app.py.j2",
            "python/rest/init.py.j2",
            "python/rest/routes_init.py.j2",
            "python/rest/test_health.py.j2",
            "python/rest/types.py.j2",
        ),
    ),
    "cli": (
        ("python/cli/command.py.j2", "python/cli/test_command.py.j2"),
        (
            "python/cli/args.py.j2",
            "python/cli/commands_init.py.j2",
            "python/cli/init.py.j2",
            "python/cli/main.py.j2",
            "python/cli/output.py.j2",
        ),
    ),
}
_SHARED_TEMPLATES = ("python/header.j2", "python/assert_result.j2")
_FILES_PER_TASK = 2

DODO = '''\
"""Raw doit with the shape of an apipack graph (written by ``python -m bench``)."""

import functools
import json
from pathlib import Path

DOIT_CONFIG = {"backend": "sqlite3", "dep_file": ".doit.sqlite3", "verbosity": 0}
TASKS = json.loads(Path("tasks.json").read_text(encoding="utf-8"))


def write(targets):
    for target in targets:
        path = Path(target)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(path.name + "\\n", encoding="utf-8")


def task_raw():
    for task in TASKS:
        yield {
            "name": task["name"],
            "actions": [write],
            "file_dep": task["file_dep"],
            "targets": task["targets"],
        }
    # like apipack's manifest: after every other task, up to date when they are
    yield {"name": "_manifest", "actions": [lambda: None], "uptodate": [True],
           "task_dep": ["raw:" + task["name"] for task in TASKS]}
'''


def _templates(names: tuple[str, ...]) -> list[str]:
    paths = [_synth.BUILTIN_TEMPLATES / name for name in (*names, *_SHARED_TEMPLATES)]
    return sorted(str(p) for p in paths if p.is_file())


def raw_doit_tasks(project: _synth.SynthProject) -> list[dict[str, object]]:
    """One task per function × rule and per package × rule, as apipack plans them."""
    tasks: list[dict[str, object]] = []

    def add(name: str, spec: Path, templates: tuple[str, ...]) -> None:
        targets = [f"out/{name}/{index}.txt" for index in range(_FILES_PER_TASK)]
        deps = [str(spec), *_templates(templates)]
        tasks.append({"name": name, "file_dep": deps, "targets": targets})

    for spec in project.spec_paths:
        functions = [line.split(":", 1)[1].strip() for line in _function_lines(spec)]
        for rule, (per_function, per_package) in _RULE_TEMPLATES.items():
            for function in functions:
                add(f"{spec.stem}.{function}.{rule}", spec, per_function)
            add(f"{spec.stem}.{rule}", spec, per_package)
    return tasks


def _function_lines(spec: Path) -> list[str]:
    return [
        line
        for line in spec.read_text(encoding="utf-8").splitlines()
        if line.startswith("- name: fn_")
    ]


def measure_raw_doit(
    project: _synth.SynthProject, work: Path, repeats: Repeats, apipack_tasks: int | None
) -> Measurement:
    folder = work / "rawdoit"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    tasks = raw_doit_tasks(project)
    (folder / "tasks.json").write_text(json.dumps(tasks), encoding="utf-8")
    (folder / "dodo.py").write_text(DODO, encoding="utf-8")
    env = clean_env(work / "home")
    command = [sys.executable, "-m", "doit", "-f", "dodo.py"]
    first = launch(command, cwd=folder, env=env, log=folder / "first.log")
    if first.returncode != 0:
        raise BenchError(f"raw doit's first run exited {first.returncode}:\n{first.tail()}")

    def run_once(index: int) -> Sample:
        run = launch(command, cwd=folder, env=env, log=folder / f"noop-{index}.log")
        if run.returncode != 0:
            raise BenchError(f"raw doit's no-op exited {run.returncode}:\n{run.tail()}")
        ran = sum(1 for line in run.log.read_text().splitlines() if line.startswith("."))
        return Sample(
            run.seconds, run.max_rss_mb, {"tasks_total": len(tasks) + 1, "tasks_run": ran}
        )

    note = ""
    if apipack_tasks is not None and apipack_tasks != len(tasks) + 1:
        note = f"{len(tasks) + 1} tasks where apipack's cold build counted {apipack_tasks}"
    return Measurement("doit_noop", project.functions, repeats.take(run_once), note=note)


def measure_floor(project: _synth.SynthProject, work: Path, repeats: Repeats) -> Measurement:
    listing = work / "floor-inputs.txt"
    inputs = project.input_files()
    listing.write_text("".join(f"{p}\n" for p in inputs), encoding="utf-8")
    env = clean_env(work / "home")

    def run_once(index: int) -> Sample:
        run = launch(
            [sys.executable, FLOOR, listing], cwd=work, env=env, log=work / f"floor-{index}.log"
        )
        if run.returncode != 0:
            raise BenchError(f"the floor script exited {run.returncode}:\n{run.tail()}")
        return Sample(run.seconds, run.max_rss_mb, {"files_read": len(inputs)})

    return Measurement("floor", project.functions, repeats.take(run_once))


def measure_openapi(
    project: _synth.SynthProject,
    work: Path,
    generator: Generator,
    repeats: Callable[[str], Repeats],
) -> list[Measurement]:
    n = project.functions
    folder = work / "openapi"
    document = _synth.write_openapi(project, folder / "openapi.json")
    if generator.unavailable:
        return [
            Measurement(scenario, n, note=generator.unavailable)
            for scenario in ("openapi_cold", "openapi_noop")
        ]
    output = folder / "out"
    command: list[str | Path] = [
        *generator.command,
        "generate",
        "-g",
        "python-fastapi",
        "-i",
        document,
        "-o",
        output,
        "--package-name",
        "bench_api",
    ]
    env = clean_env(work / "home")
    failure: list[str] = []

    def run_once(scenario: str, index: int) -> Sample:
        if scenario == "openapi_cold":
            shutil.rmtree(output, ignore_errors=True)
        run = launch(command, cwd=folder, env=env, log=folder / f"{scenario}-{index}.log")
        if run.returncode != 0:
            failure.append(run.tail(5))
            raise BenchError(f"openapi-generator exited {run.returncode}")
        text = run.log.read_text(encoding="utf-8", errors="replace")
        written = text.count("writing file ")
        files = sum(1 for p in output.rglob("*") if p.is_file())
        return Sample(run.seconds, run.max_rss_mb, {"files_written": written, "files": files})

    results = []
    for scenario in ("openapi_cold", "openapi_noop"):
        try:
            samples = repeats(scenario).take(functools.partial(run_once, scenario))
            results.append(
                Measurement(scenario, n, samples, note=f"openapi-generator {generator.version}")
            )
        except BenchError as exc:  # reported in the table, never a crash of the whole run
            detail = " / ".join(failure[-1].splitlines()[-2:]) if failure else ""
            results.append(Measurement(scenario, n, note=f"failed: {exc}: {detail}"))
    return results
