"""A template edit through the cheap path (``apipack_build/plan/retemplate.py``) against a full
build of the same inputs.

Two copies of a project are built alike, then get the same template edit: one builds with what
the last build remembers (its spec files are not read again, only the tasks that render the
edited template are planned), the other with its memo deleted (every spec file planned). Their
generated trees, manifests, memos, locks and explain records must be the same bytes.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from fake_llm import FakeLLM
from helpers import LLM_SPEC, TEMPLATES, run_apipack, spec_text, tree

import apipack_build
from apipack_build.base.explain_format import read_record
from apipack_build.engine import prepare

BUILTIN = Path(__file__).parents[1] / "templates"
#: a Python function written by hand: built offline, without a model
GIVEN_SPEC = """\
project: {name: given-tools, description: Written by hand}
language: python
interfaces: [cli, rest]
functions:
  - name: given
    description: Always true
    output_type: bool
    code: |
      def given() -> bool:
          return True
"""


def state(root: Path) -> dict[str, Any]:
    """What a build leaves that a fresh process reads. The memo's global key (in its header
    line) holds the project's absolute path, so it is left out; the explain record is compared
    as ``apipack explain`` reads it (which spec files' shards a build wrote differs: a full
    build writes all of them)."""
    found: dict[str, Any] = {f"generated/{k}": v for k, v in tree(root / "generated").items()}
    for name in ("manifest.json", "lock.json", "../apipack.lock"):
        path = root / ".apipack" / name
        found[name] = path.read_bytes() if path.is_file() else b""
    header, _, lines = (root / ".apipack" / "plan.json").read_bytes().partition(b"\n")
    found["plan.json"] = ({k: v for k, v in json.loads(header).items() if k != "globals"}, lines)
    found["explain.json"] = explained(root)
    return found


def explained(root: Path) -> dict[str, Any]:
    """The explain record, each task's template set given by its names."""
    record = read_record(root / ".apipack" / "explain.json")
    assert record is not None
    sets = record.pop("template_sets")
    for task in record["tasks"].values():
        if "templates" in task:
            task["templates"] = sets[task["templates"]]
    return record


def twins(tmp_path: Path, files: dict[str, str]) -> tuple[Path, Path]:
    """Two copies of a project of *files*, each built once."""
    roots = tmp_path / "cheap", tmp_path / "full"
    for root in roots:
        for relative, text in files.items():
            (root / relative).parent.mkdir(parents=True, exist_ok=True)
            (root / relative).write_text(text, encoding="utf-8")
        apipack_build.generate(root, offline=True)
    return roots


def edit_both(roots: tuple[Path, Path], name: str, text: str) -> None:
    for root in roots:
        (root / "templates" / name).write_text(text, encoding="utf-8")


def build_both(cheap: Path, full: Path) -> tuple[apipack_build.Summary, apipack_build.Summary]:
    """Build *cheap* as it plans itself, and *full* with its plan memo gone (every spec file
    planned in full); their summaries."""
    summary = apipack_build.generate(cheap, offline=True)
    (full / ".apipack" / "plan.json").unlink()
    return summary, apipack_build.generate(full, offline=True)


def text_project() -> dict[str, str]:
    """Two spec files, one with a summary: ``summary.txt.j2`` is rendered by one of them only,
    ``_header.j2`` is included by every function's page, ``index.txt.j2`` by every package."""
    files = {
        "apipack.yml": "specs: ['specs/*.yml']\ninterfaces: [docs]\n",
        "specs/a.yml": spec_text({"fn_a": "First", "fn_b": "Second"}, name="alpha"),
        "specs/b.yml": spec_text({"fn_c": "Third"}, name="beta", interfaces=("docs", "summary")),
    }
    files.update({f"templates/{name}": text for name, text in TEMPLATES.items()})
    return files


@pytest.mark.parametrize(
    ("template", "planned"),
    [
        ("text/summary.txt.j2", ["beta/text/summary/_package"]),
        (
            "text/_header.j2",
            ["alpha/text/docs/fn_a", "alpha/text/docs/fn_b", "beta/text/docs/fn_c"],
        ),
        ("text/index.txt.j2", ["alpha/text/docs/_package", "beta/text/docs/_package"]),
    ],
)
def test_a_template_edit_plans_only_its_tasks_and_leaves_what_a_full_build_does(
    tmp_path: Path, in_process: None, template: str, planned: list[str]
) -> None:
    cheap, full = twins(tmp_path, text_project())
    edit_both((cheap, full), template, TEMPLATES[template] + "edited\n")

    plan = prepare([cheap], offline=True).plan
    assert sorted(t.name for t in plan.tasks if not t.reused) == planned
    assert sorted(p.spec for p in plan.parts if p.reused is None) == sorted(
        {f"specs/{'b' if t.startswith('beta') else 'a'}.yml" for t in planned}
    )
    summary, expected = build_both(cheap, full)

    assert state(cheap) == state(full)
    assert (summary.tasks_total, summary.tasks_run) == (expected.tasks_total, expected.tasks_run)
    assert summary.tasks_run == len(planned) + 1  # and the manifest


def test_an_unchanged_template_text_then_a_broken_one(tmp_path: Path, in_process: None) -> None:
    """A template edited back to its text plans nothing again; a template that no longer
    parses fails as a full build does, naming it."""
    cheap, full = twins(tmp_path, text_project())
    edit_both((cheap, full), "text/index.txt.j2", TEMPLATES["text/index.txt.j2"])
    assert prepare([cheap], offline=True).plan.reused_tasks == 6  # all

    edit_both((cheap, full), "text/fn.txt.j2", "{% if %}\n")
    with pytest.raises(apipack_build.ApipackError, match=r"text/fn\.txt\.j2:1"):
        apipack_build.generate(cheap, offline=True)


def llm_twins(tmp_path: Path, fake: FakeLLM) -> tuple[Path, Path]:
    """Two copies of a Python project whose bodies the LLM writes, with a project template
    folder (so a template edit keeps the memo's global key), built against *fake*."""
    spec = LLM_SPEC.replace("interfaces: [cli]", "interfaces: [cli, rest]")
    roots = tmp_path / "cheap", tmp_path / "full"
    for root in roots:
        (root / "specs").mkdir(parents=True)
        (root / "specs" / "tools.yml").write_text(spec, encoding="utf-8")
        (root / "apipack.yml").write_text("specs: [specs/*.yml]\n", encoding="utf-8")
        (root / "templates" / "python" / "cli").mkdir(parents=True)
        llm_build(root, fake)
    return roots


def llm_build(root: Path, fake: FakeLLM) -> None:
    done = run_apipack(root, "generate", env={"APIPACK_LLM_BASE_URL": fake.url})
    assert done.returncode == 0, done.stderr


def test_a_python_template_edit_asks_nothing_and_matches_a_full_build(
    tmp_path: Path, fake: FakeLLM, monkeypatch: pytest.MonkeyPatch
) -> None:
    cheap, full = llm_twins(tmp_path, fake)
    asked = fake.chat_count
    text = (BUILTIN / "python" / "cli" / "command.py.j2").read_text(encoding="utf-8")
    edit_both((cheap, full), "python/cli/command.py.j2", text + "# edited\n")

    for name in [n for n in os.environ if n.startswith("APIPACK_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(cheap / ".home"))  # as ``run_apipack`` gives
    plan = prepare([cheap], offline=True).plan
    again = sorted(t.name for t in plan.tasks if not t.reused)
    assert again == [
        f"llm-tools/python/cli/{n}" for n in ("count_vowels", "given", "halve", "shout")
    ]
    llm_build(cheap, fake)
    (full / ".apipack" / "plan.json").unlink()
    llm_build(full, fake)

    assert fake.chat_count == asked  # the bodies are the lock's
    assert state(cheap) == state(full)
    assert (cheap / "generated").is_dir()


def test_a_prompt_edit_asks_again_as_a_full_build_does(tmp_path: Path, fake: FakeLLM) -> None:
    cheap, full = llm_twins(tmp_path, fake)
    asked = fake.chat_count
    (cheap / "templates" / "prompts").mkdir()
    (full / "templates" / "prompts").mkdir()
    prompt = (BUILTIN / "prompts" / "python.j2").read_text(encoding="utf-8")
    edit_both((cheap, full), "prompts/python.j2", prompt + "- Be brief.\n")

    llm_build(cheap, fake)
    assert fake.chat_count == asked + 3  # every LLM-written body asked again
    (full / ".apipack" / "plan.json").unlink()
    llm_build(full, fake)

    assert state(cheap) == state(full)


def test_a_new_template_folder_re_plans_only_what_it_overrides(
    tmp_path: Path, in_process: None
) -> None:
    """The first project template (a copy of a built-in one, edited) adds the project's
    ``templates/`` folder: only the tasks that render it are planned again."""
    files = {"apipack.yml": "specs: ['specs/*.yml']\n", "specs/tools.yml": GIVEN_SPEC}
    cheap, full = twins(tmp_path, files)
    text = (BUILTIN / "python" / "cli" / "test_command.py.j2").read_text(encoding="utf-8")
    for root in (cheap, full):
        (root / "templates" / "python" / "cli").mkdir(parents=True)
    edit_both((cheap, full), "python/cli/test_command.py.j2", text + "# edited\n")

    plan = prepare([cheap], offline=True).plan
    assert sorted(t.name for t in plan.tasks if not t.reused) == ["given-tools/python/cli/given"]
    build_both(cheap, full)
    assert state(cheap) == state(full)


def test_a_package_with_bytes_that_are_not_utf8_takes_the_full_path(
    tmp_path: Path, in_process: None
) -> None:
    """An example of raw bytes has no JSON: the spec's package is not kept, so a template edit
    plans it in full, and both builds leave what a full build does."""
    files = text_project()
    files["specs/b.yml"] = files["specs/b.yml"].replace(
        "    output_type: string\n",
        "    input_type: bytes\n    output_type: string\n"
        "    examples:\n      - input: {data: !!binary /w==}\n        output: x\n",
    )
    cheap, full = twins(tmp_path, files)
    edit_both((cheap, full), "text/summary.txt.j2", TEMPLATES["text/summary.txt.j2"] + "edited\n")

    plan = prepare([cheap], offline=True).plan
    assert [p.spec for p in plan.parts if p.reused is None and not p.retemplated] == ["specs/b.yml"]
    build_both(cheap, full)
    assert state(cheap) == state(full)


def test_a_spec_file_s_retemplated_tasks_stay_current_when_it_is_planned_in_full_again(
    tmp_path: Path, in_process: None
) -> None:
    """The tasks a template edit plans again run as one doit task per spec file: doit's record
    of each stays that of its last run on its own, so when an edit of the spec file plans them
    one by one again, the manifest says they are current, and they run no more than after a
    full build."""
    cheap, full = twins(tmp_path, text_project())
    edit_both((cheap, full), "text/_header.j2", TEMPLATES["text/_header.j2"] + "edited\n")
    build_both(cheap, full)

    for root in (cheap, full):
        spec = root / "specs" / "a.yml"
        spec.write_text(spec.read_text().replace('"First"', '"First, edited"'), encoding="utf-8")
    summary = apipack_build.generate(cheap, offline=True)
    expected = apipack_build.generate(full, offline=True)

    assert state(cheap) == state(full)
    assert (summary.tasks_run, summary.tasks_total) == (expected.tasks_run, expected.tasks_total)
    assert summary.tasks_run == 2  # fn_a and the manifest


def test_a_template_that_fails_to_render_fails_each_task_as_a_full_build_does(
    tmp_path: Path, in_process: None, capsys: pytest.CaptureFixture[str]
) -> None:
    cheap, full = twins(tmp_path, text_project())
    edit_both((cheap, full), "text/_header.j2", "{{ nmae }}\n")
    capsys.readouterr()
    failures = []
    for root in (cheap, full):
        if root == full:
            (full / ".apipack" / "plan.json").unlink()
        with pytest.raises(apipack_build.ApipackError, match="3 task"):
            apipack_build.generate(root, offline=True, echo=True)
        failures.append(
            sorted(line for line in capsys.readouterr().out.splitlines() if "nmae" in line)
        )

    assert failures[0] == failures[1]
    assert "task apipack:alpha/text/docs/fn_a failed: template text/" in failures[0][0]
    edit_both((cheap, full), "text/_header.j2", TEMPLATES["text/_header.j2"] + "fixed\n")
    apipack_build.generate(cheap, offline=True)
    (full / ".apipack" / "plan.json").unlink(missing_ok=True)  # a failed build keeps none
    apipack_build.generate(full, offline=True)
    assert state(cheap) == state(full)


def test_a_generated_file_that_links_outside_is_not_written_through_as_in_a_full_build(
    tmp_path: Path, in_process: None, capsys: pytest.CaptureFixture[str]
) -> None:
    """The writes of a template edit are confined to the output folder by the writing threads
    (``fsio.WritePool``): a generated file replaced by a link to a file outside, with the same
    bytes, fails its task, named as a full build names it, and the file outside is untouched."""
    cheap, full = twins(tmp_path, text_project())
    edit_both((cheap, full), "text/_header.j2", TEMPLATES["text/_header.j2"] + "edited\n")
    capsys.readouterr()
    failures = []
    for root in (cheap, full):
        page = next((root / "generated").rglob("fn_a*"))
        outside = root.parent / f"{root.name}-outside.txt"
        outside.write_bytes(page.read_bytes())
        page.unlink()
        page.symlink_to(outside)
        if root == full:
            (full / ".apipack" / "plan.json").unlink()
        else:  # the same bytes: planned for the template edit, rendered in a batch
            assert any(part.retemplated for part in prepare([root], offline=True).plan.parts)
        with pytest.raises(apipack_build.ApipackError, match="1 task"):
            apipack_build.generate(root, offline=True, echo=True)
        failures.append([line for line in capsys.readouterr().out.splitlines() if "fn_a" in line])
        assert "edited" not in outside.read_text(encoding="utf-8")

    assert failures[0] == failures[1]
    assert "a link leads outside the output folder" in failures[0][0]
