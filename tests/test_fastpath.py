"""The no-op fast path: a build whose fingerprint still holds answers without planning — and
every kind of change, anywhere a build reads, takes the full path and gives the right output."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from fake_llm import FakeLLM
from helpers import (
    FUNCTIONS,
    LLM_FUNCTIONS,
    LLM_SPEC,
    Project,
    llm_project,
    run_apipack,
    standard_project,
    tree,
    without_settings,
    write_plugin,
)

import apipack_build
from apipack_build.engine import prepare


@pytest.fixture
def fresh(built: Project) -> Project:
    """A built project whose next no-op build took the fast path (the copy's first build
    records the fingerprint: paths and inodes moved with the copy)."""
    built.generate()
    summary = built.generate()
    assert summary["fast_path"] is True and summary["tasks_run"] == 0
    assert summary["tasks_up_to_date"] == summary["tasks_total"] > 0
    return built


def full_build_agrees(project: Project) -> dict[str, bytes]:
    """The next build takes the full path; the tree equals a from-scratch build's."""
    summary = project.generate()
    assert summary["fast_path"] is False
    result = tree(project.root / "generated")
    scratch = project.root.parent / f"{project.root.name}-scratch"
    shutil.rmtree(scratch, ignore_errors=True)
    shutil.copytree(project.root, scratch, ignore=shutil.ignore_patterns(".apipack", "generated"))
    clone = Project(scratch, Path(project.env["PYTHONPATH"].split(os.pathsep)[0]), project.home)
    clone.generate()
    assert tree(scratch / "generated") == result
    return result


def test_touch_keeps_the_fast_path(fresh: Project) -> None:
    for path in [*(fresh.root / "specs").iterdir(), fresh.out / "index.txt"]:
        os.utime(path)
    assert fresh.generate()["fast_path"] is True
    assert fresh.generate()["fast_path"] is True  # the moved signatures were learnt
    assert "generated files are current" in fresh.apipack("check").stdout


CHANGES: dict[str, Callable[[Project], None]] = {
    "spec edited": lambda p: p.edit("specs/tools.yml", "First", "Primary"),
    "spec added": lambda p: p.write_spec({"extra": "x"}, "specs/more.yml", name="more"),
    "template edited": lambda p: p.edit("templates/text/fn.txt.j2", ": ", " - "),
    "template added to the user folder": lambda p: (
        (p.home / ".apipack" / "templates" / "text").mkdir(parents=True),
        (p.home / ".apipack" / "templates" / "text" / "summary.txt.j2").write_text("x\n"),
    ),
    "project setting changed": lambda p: p.write("apipack.yml", "deployment: {port: 9000}\n"),
    "output edited by hand": lambda p: (p.out / "index.txt").write_text("hand edit\n"),
    "output deleted": lambda p: (p.out / "index.txt").unlink(),
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_every_change_takes_the_full_path(fresh: Project, change: str) -> None:
    CHANGES[change](fresh)
    full_build_agrees(fresh)


def test_an_environment_override_takes_the_full_path(fresh: Project) -> None:
    summary_path = fresh.root.parent / "env-summary.json"
    fresh.apipack("generate", "--summary-json", summary_path, env={"APIPACK_OUTPUT": "other"})
    summary = json.loads(summary_path.read_text(encoding="utf-8"))
    assert summary["fast_path"] is False and summary["files_written"] > 0
    assert (fresh.root / "other").is_dir()


def test_rule_code_edited_takes_the_full_path(tmp_path: Path) -> None:
    site = write_plugin(tmp_path / "own-site")
    project = standard_project(tmp_path / "p", site, tmp_path / "home", FUNCTIONS)
    project.generate()
    assert project.generate()["fast_path"] is True
    plugin = site / "txtrules" / "__init__.py"
    plugin.write_text(
        plugin.read_text().replace(
            '"description": req.function.description',
            '"description": req.function.description + "!"',
        )
    )
    summary = project.generate()
    assert summary["fast_path"] is False and summary["files_written"] > 0


# `apipack check` and `generate --dry-run` answer from the same fingerprint; with the fast path
# turned off (`templates.cache_enabled: false`) they plan in full, and must say the same.
NO_FAST_PATH = {"APIPACK_TEMPLATES_CACHE_ENABLED": "false"}


def check_and_dry_run(project: Project, env: dict[str, str] | None = None) -> list[str]:
    check = project.apipack("check", expect=None, env=env)
    dry = project.apipack("generate", "--dry-run", expect=None, env=env)
    return [str(check.returncode), check.stdout, check.stderr, dry.stdout, dry.stderr]


#: changes that leave every generated file as it was: `generate` keeps the fast path
BESIDE: dict[str, Callable[[Project], None]] = {
    "file added beside the generated ones": lambda p: p.write("generated/text/tools/notes", "x"),
    "folder added in the output": lambda p: (p.out / "more").mkdir(),
}


@pytest.mark.parametrize("change", [None, *CHANGES, *BESIDE])
def test_check_and_dry_run_answer_as_the_full_plan_does(fresh: Project, change: str | None) -> None:
    if change is not None:
        {**CHANGES, **BESIDE}[change](fresh)
    before = tree(fresh.root)

    fast = check_and_dry_run(fresh)

    assert fast == check_and_dry_run(fresh, NO_FAST_PATH)
    # a shadowed user template and a setting no text rule reads leave every output current
    unchanged = (
        None,
        "template added to the user folder",
        "project setting changed",
        "folder added in the output",
    )
    assert (fast[0] == "0") == (change in unchanged)
    assert tree(fresh.root) == before  # neither writes anything, state included


def test_a_no_op_loads_no_build_machinery(fresh: Project) -> None:
    """With nothing changed, `generate`, `check` and `--dry-run` answer before doit, Jinja,
    httpx, diskcache, pydantic or YAML are imported: the settings come from the fingerprint."""
    commands = (["generate", "--offline"], ["check"], ["generate", "--dry-run"])
    out = no_op_imports(fresh.root, fresh.env, *commands)
    assert out.splitlines()[-1] == "[]", out
    assert "generated files are current" in out
    assert "dry run: 0 file(s) would change" in out


def test_a_changed_setting_source_resolves_the_settings_again(fresh: Project) -> None:
    """The recorded settings stand in only while what they were read from is unchanged."""
    fresh.write("apipack.yml", "output: elsewhere\n")
    summary = fresh.generate()
    assert summary["fast_path"] is False
    assert (fresh.root / "elsewhere" / "text" / "tools" / "index.txt").is_file()
    assert fresh.generate()["fast_path"] is True


def no_op_imports(folder: Path, env: dict[str, str], *commands: list[str]) -> str:
    """Run *commands* through ``apipack_build.cli.main`` in one fresh interpreter (each must
    exit 0): what they print, then the heavy libraries imported, as ``['name', …]``."""
    code = (
        "import sys\n"
        "from apipack_build.cli import main\n"
        f"for args in {commands!r}:\n"
        "    assert main(args) == 0, args\n"
        "heavy = {'doit', 'jinja2', 'httpx', 'diskcache', 'pydantic', 'yaml'}\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & heavy))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=folder, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def llm_env(folder: Path, fake: FakeLLM) -> dict[str, str]:
    """The environment ``run_apipack`` gives ``apipack`` with *fake* as the model server."""
    return {**without_settings(), "HOME": str(folder / ".home"), "APIPACK_LLM_BASE_URL": fake.url}


def test_an_online_no_op_asks_the_digest_without_httpx(tmp_path: Path, fake: FakeLLM) -> None:
    """Online, a no-op asks the server for the model's digest, and nothing heavier is loaded
    for it than for `--offline`; a re-pulled model (a new digest) takes the full path."""
    folder = llm_project(tmp_path / "p")
    server = {"APIPACK_LLM_BASE_URL": fake.url}
    run_apipack(folder, "generate", env=server)
    assert fake.chat_count == LLM_FUNCTIONS
    fake.other_requests.clear()

    out = no_op_imports(folder, llm_env(folder, fake), ["generate"], ["check"])
    assert out.splitlines()[-1] == "[]", out
    assert "0 run" in out and "generated files are current" in out
    assert fake.other_requests == ["/api/tags"]  # check asks no model

    fake.models["mistral:7b"] = "sha256:" + "b" * 64
    done = run_apipack(folder, "generate", "--summary-json", "s.json", env=server)
    assert done.returncode == 0, done.stderr
    assert json.loads((folder / "s.json").read_text())["fast_path"] is False


def test_a_no_op_records_settings_it_had_to_resolve(tmp_path: Path, fake: FakeLLM) -> None:
    """A no-op whose settings' source changed but whose key held (the server moved) keeps the
    settings it resolved: the next no-op reads them from the fingerprint, validating none."""
    folder = llm_project(tmp_path / "p")
    run_apipack(folder, "generate", env={"APIPACK_LLM_BASE_URL": fake.url})
    moved = FakeLLM().start()
    try:
        first = no_op_imports(folder, llm_env(folder, moved), ["generate"])
        assert "0 run" in first and "pydantic" in first.splitlines()[-1], first
        again = no_op_imports(folder, llm_env(folder, moved), ["generate"], ["check"])
        assert again.splitlines()[-1] == "[]", again
        assert moved.other_requests == ["/api/tags", "/api/tags"] and moved.chat_count == 0
        recorded = json.loads((folder / ".apipack" / "fingerprint.json").read_text())
        assert recorded["settings"]["llm"]["base_url"] == moved.url
    finally:
        moved.stop()


def test_a_moved_model_server_keeps_the_fast_path_and_the_plan(
    tmp_path: Path, fake: FakeLLM, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``llm.base_url`` says where the model is served, not what it is: moving the server (the
    same model, the same digest) re-plans nothing, and asks the new server for the digest."""
    folder = llm_project(tmp_path / "p")
    (folder / "specs" / "more.yml").write_text(
        LLM_SPEC.replace("llm-tools", "more-tools"), encoding="utf-8"
    )
    for name in [n for n in os.environ if n.startswith("APIPACK_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("APIPACK_LLM_BASE_URL", fake.url)
    apipack_build.generate(folder)
    moved = FakeLLM().start()
    try:
        monkeypatch.setenv("APIPACK_LLM_BASE_URL", moved.url)
        assert apipack_build.generate(folder).fast_path is True
        assert moved.other_requests == ["/api/tags"]

        (folder / "specs" / "more.yml").write_text(
            LLM_SPEC.replace("llm-tools", "more-tools").replace("Half of", "One half of"),
            encoding="utf-8",
        )
        plan = prepare([folder]).plan
        assert plan.reused_tasks > 0  # tools.yml's tasks, from the memo
        assert {t.name.split("/")[0] for t in plan.every_task() if t.reused} == {"llm-tools"}
        assert moved.chat_count == 0
    finally:
        moved.stop()


def test_the_fingerprint_a_build_keeps_is_what_its_file_reads_back(
    tmp_path: Path, fake: FakeLLM, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A process keeps the fingerprint it wrote (a daemon reads it between builds and in the
    next one) with the types reading the file gives: the same as parsing it again."""
    from apipack_build.base.fsio import stat_signature
    from apipack_build.base.lookup import FINGERPRINT_FILE, STATE_DIR
    from apipack_build.run import fastpath

    folder = llm_project(tmp_path / "p")
    for name in [n for n in os.environ if n.startswith("APIPACK_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("APIPACK_LLM_BASE_URL", fake.url)
    path = folder / STATE_DIR / FINGERPRINT_FILE
    for _ in range(2):  # the first build, then an edit
        apipack_build.generate(folder)
        kept = fastpath._read.get(str(path), stat_signature(path))
        assert kept is not None and kept == json.loads(path.read_text(encoding="utf-8"))
        assert json.dumps(kept, sort_keys=True) == json.dumps(json.loads(path.read_bytes()))
        spec = folder / "specs" / "tools.yml"
        spec.write_text(spec.read_text().replace("Half of", "One half of"), encoding="utf-8")
