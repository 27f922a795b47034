"""``examples/monorepo``: one ``dodo.py`` drives two apipack projects in subfolders, each in its
own namespace and with its own state, and a hand-written task that uses what they generate.
Everything runs through real ``doit`` processes on a copy of the example."""

from __future__ import annotations

import json
import select
import shutil
from pathlib import Path
from typing import Any

import pytest
from filelock import FileLock
from helpers import Project, age, snapshot, tree

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "monorepo"
BILLING, INVENTORY = "services/billing", "services/inventory"


@pytest.fixture
def mono(tmp_path: Path, site: Path) -> Project:
    """A fresh copy of the example (never its build products, should any exist)."""
    root = tmp_path / "monorepo"
    shutil.copytree(
        EXAMPLE,
        root,
        ignore=shutil.ignore_patterns(".apipack", "generated", "build", "__pycache__"),
    )
    return Project(root, site, tmp_path / "home")


def _last_build(mono: Project, service: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        (mono.root / service / ".apipack" / "last-build.json").read_text(encoding="utf-8")
    )
    return data


def _generated(mono: Project, service: str) -> dict[str, bytes]:
    return tree(mono.root / service / "generated")


def test_doit_list_shows_one_namespace_per_project(mono: Project) -> None:
    lines = mono.doit("list", "--all").stdout.splitlines()
    names = [line.split()[0] for line in lines]

    assert [name for name in names if ":" not in name] == ["billing", "catalog", "inventory"]
    assert any(line.startswith("billing ") and "billing service" in line for line in lines)
    assert {
        "billing:_manifest",
        "billing:billing/python/core/invoice_total",
        "billing:billing/python/rest/is_overdue",
        "inventory:_manifest",
        "inventory:inventory/python/cli/needs_reorder",
    } <= set(names)
    assert not any(name.startswith("apipack") for name in names)


def test_doit_builds_both_then_nothing_then_only_what_an_edit_touches(
    mono: Project, tmp_path: Path, site: Path
) -> None:
    first = mono.doit_build()
    out = mono.doit("--verbosity", "0").stdout  # the second run
    second_billing, second_inventory = (_last_build(mono, s) for s in (BILLING, INVENTORY))
    catalog = (mono.root / "build" / "catalog.md").read_text(encoding="utf-8")

    # both projects built, each with its own state, and the catalog made from their READMEs
    assert (first["tasks_run"], first["tasks_failed"]) == (17, 0)
    assert _generated(mono, BILLING) and _generated(mono, INVENTORY)
    for service in (BILLING, INVENTORY):
        state = mono.root / service / ".apipack"
        assert {"manifest.json", "filestat", "build.lock"} <= {p.name for p in state.iterdir()}
    assert "# billing" in catalog and "# inventory" in catalog
    # the same bytes as `apipack generate` in the project folder
    alone = Project(tmp_path / "alone", site, mono.home)
    shutil.copytree(mono.root / BILLING / "specs", alone.root / "specs")
    shutil.copy(mono.root / BILLING / "apipack.yml", alone.root)
    alone.apipack("generate")
    assert tree(alone.root / "generated") == _generated(mono, BILLING)

    # the second run does nothing, the hand-written task included
    assert "-- catalog" in out and ".  catalog" not in out
    assert "apipack billing: 10 tasks: 0 run, 10 up to date" in out
    assert "apipack inventory: 7 tasks: 0 run, 7 up to date" in out
    assert second_billing["tasks_run"] == second_inventory["tasks_run"] == 0

    # an edit to one billing function re-runs a few billing tasks and the catalog, nothing else
    age(p for p in (mono.root).rglob("*") if p.is_file() and ".apipack" not in p.parts)
    before = snapshot(mono.root / INVENTORY / "generated")
    mono.edit(f"{BILLING}/specs/billing.yml", "past its due day\n", "past its due date\n")
    third = mono.doit_build()
    billing = _last_build(mono, BILLING)

    assert 0 < billing["tasks_run"] < 10
    assert _last_build(mono, INVENTORY)["tasks_run"] == 0
    assert snapshot(mono.root / INVENTORY / "generated") == before
    assert third["tasks_run"] == billing["tasks_run"]  # the combined summary counts projects
    assert "past its due date" in (mono.root / "build" / "catalog.md").read_text(encoding="utf-8")


def test_the_downstream_task_compares_its_inputs_by_content(mono: Project) -> None:
    mono.doit()
    readme = mono.root / BILLING / "generated" / "python" / "billing" / "README.md"

    age([readme])  # a new mtime, the same bytes
    touched = mono.doit().stdout
    # a code change that leaves every README as it is
    mono.edit(f"{BILLING}/specs/billing.yml", "return today > due_day", "return due_day < today")
    recoded = mono.doit().stdout

    assert "-- catalog" in touched
    assert "apipack billing: 10 tasks: 0 run" in touched
    assert "-- catalog" in recoded
    # billing/python/core/is_overdue and the manifest; one file rewritten
    assert "apipack billing: 10 tasks: 2 run, 8 up to date; files: 1 written" in recoded


def test_each_project_alone_with_doit_f_and_doit_d(mono: Project) -> None:
    # its own two-line dodo.py, named from the monorepo root
    by_file = mono.doit("-f", f"{BILLING}/dodo.py").stdout
    # `-d DIR`: doit runs in DIR and imports the dodo.py found there
    by_dir = mono.doit("-d", INVENTORY).stdout

    assert "apipack: 10 tasks: 10 run" in by_file
    assert "apipack: 7 tasks: 7 run" in by_dir
    for service in (BILLING, INVENTORY):
        assert (mono.root / service / ".apipack" / "doit.sqlite3").is_file()
    assert not (mono.root / "build").exists()
    built = {s: _generated(mono, s) for s in (BILLING, INVENTORY)}

    # the root run keeps its own doit state: its tasks run, but find every file already right
    root = mono.doit_build("-n", "2")
    assert (root["tasks_run"], root["files_written"]) == (17, 0)
    assert {s: _generated(mono, s) for s in (BILLING, INVENTORY)} == built
    assert (mono.root / "build" / "catalog.md").is_file()
    assert "apipack: 10 tasks: 0 run" in mono.doit("-f", f"{BILLING}/dodo.py").stdout


def test_the_root_run_holds_each_projects_build_lock(mono: Project) -> None:
    state = mono.root / INVENTORY / ".apipack"
    state.mkdir(parents=True)
    with FileLock(str(state / "build.lock")):
        job = mono.popen("doit")
        assert job.stderr is not None
        ready, _, _ = select.select([job.stderr], [], [], 60)
        assert ready, "doit neither waited nor finished"
        assert "waiting for another build of this project" in job.stderr.readline()
        assert job.poll() is None
    out, err = job.communicate(timeout=120)

    assert job.returncode == 0, out + err
    assert "apipack inventory: 7 tasks: 7 run" in out


def test_a_bad_spec_names_its_file_from_the_monorepo_root(mono: Project) -> None:
    mono.edit(f"{INVENTORY}/specs/inventory.yml", "output_type: bool", "output_type: boool")

    result = mono.doit(expect=2)

    assert result.stderr.strip() == (
        "services/inventory/specs/inventory.yml:7:18: functions[0].output_type: "
        "unknown type 'boool' (did you mean 'bool'?)"
    )
    assert not (mono.root / BILLING / "generated").exists()


def test_namespaces_can_be_named_and_must_not_clash(mono: Project) -> None:
    mono.write(
        "named.py",
        "from apipack_build.doit import apipack_tasks, doit_config\n"
        "DOIT_CONFIG = doit_config()\n"
        "def task_pay():\n"
        "    yield from apipack_tasks('services/billing', basename='pay')\n",
    )
    mono.write(
        "clash.py",
        "from apipack_build.doit import apipack_tasks, doit_config\n"
        "DOIT_CONFIG = doit_config()\n"
        "def task_a():\n"
        "    yield from apipack_tasks('services/billing', basename='svc')\n"
        "def task_b():\n"
        "    yield from apipack_tasks('services/inventory', basename='svc')\n",
    )

    named = mono.doit("-f", "named.py", "list", "--all").stdout.split()
    clash = mono.doit("-f", "clash.py", "list", expect=2)

    assert "pay" in named and "pay:_manifest" in named
    assert "namespace 'svc' is taken by" in clash.stderr
    assert "basename=" in clash.stderr
