"""Plain ``doit`` in a project folder with a one-line ``dodo.py`` runs the same task graph, with
the same state, as ``apipack generate``."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from helpers import DODO, Project, tree


@pytest.fixture
def dodo_project(project: Project) -> Project:
    project.write("dodo.py", DODO)
    return project


def test_doit_builds_what_apipack_builds_and_shares_its_state(
    dodo_project: Project, make_project: Callable[..., Project]
) -> None:
    reference = make_project("reference")
    by_apipack = reference.popen("apipack", "generate")

    first = dodo_project.doit_build()
    second = dodo_project.doit_build()
    then_apipack = dodo_project.generate()

    _, err = by_apipack.communicate(timeout=120)
    assert by_apipack.returncode == 0, err
    assert tree(dodo_project.root / "generated") == tree(reference.root / "generated")
    assert (first["tasks_run"], first["files_written"]) == (5, 4)
    assert (second["tasks_run"], second["tasks_up_to_date"]) == (0, 5)
    assert (then_apipack["tasks_run"], then_apipack["tasks_up_to_date"]) == (0, 5)


def test_doit_list_all_shows_each_task(dodo_project: Project) -> None:
    listed = dodo_project.doit("list", "--all").stdout.split()

    assert {
        "apipack",
        "apipack:_manifest",
        "apipack:tools/text/docs/_package",
        "apipack:tools/text/docs/alpha",
        "apipack:tools/text/docs/beta",
        "apipack:tools/text/docs/gamma",
    } <= set(listed)


def test_doit_clean_removes_outputs_and_doit_rebuilds_them(dodo_project: Project) -> None:
    dodo_project.doit_build()
    built = tree(dodo_project.out)

    dodo_project.doit("clean")
    assert not dodo_project.out.exists()

    rebuilt = dodo_project.doit_build()
    assert (rebuilt["tasks_run"], rebuilt["files_written"]) == (4, 4)  # the manifest still holds
    assert tree(dodo_project.out) == built


def test_doit_forget_makes_every_task_run_again(dodo_project: Project) -> None:
    dodo_project.doit_build()

    dodo_project.doit("forget")
    summary = dodo_project.doit_build()

    # every task runs, but the files already hold the right bytes
    assert (summary["tasks_run"], summary["files_written"]) == (5, 0)
    assert dodo_project.doit_build()["tasks_run"] == 0


def test_a_bad_spec_under_doit_is_one_located_message(dodo_project: Project) -> None:
    dodo_project.edit(
        "specs/tools.yml",
        'output_type: string\n    code: "x"\n  - name: gamma',
        'output_type: strng\n    code: "x"\n  - name: gamma',
    )

    result = dodo_project.doit(expect=2)

    assert result.stderr.strip() == (
        "specs/tools.yml:11:18: functions[1].output_type: "
        "unknown type 'strng' (did you mean 'string'?)"
    )
    assert not dodo_project.out.exists()


def test_a_doit_build_between_two_generates_is_not_taken_for_up_to_date(
    dodo_project: Project,
) -> None:
    dodo_project.generate()  # records the fast path's fingerprint of these inputs
    dodo_project.edit("specs/tools.yml", '"Second"', '"Second, edited"')
    dodo_project.doit_build()
    dodo_project.edit("specs/tools.yml", '"Second, edited"', '"Second"')

    back = dodo_project.generate()

    assert back["tasks_run"] > 0  # the inputs are the first build's; the outputs are not
    dodo_project.apipack("check")
