"""The ``apipack`` commands end to end, and how each kind of bad input is reported: an exit
code, one located line per problem, never a traceback (``Project.run`` checks that on every
call)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import jsonschema
import pytest
import yaml
from helpers import FUNCTIONS, Project, spec_text, tree

from apipack_build.errors import ApipackError
from apipack_build.load.registry import registry

LONELY = (
    "name: lonely\ndescription: One function\nlanguage: text\ninterfaces: [docs]\n"
    'output_type: string\ncode: "x"\n'
)


def _python_target_ready() -> bool:
    try:
        return {"rest", "cli"} <= set(registry().interfaces_of("python"))
    except ApipackError:
        return False


# -- init --


def test_init_writes_a_starter_spec_and_a_project_file(
    make_project: Callable[..., Project],
) -> None:
    project = make_project("fresh", bare=True)

    result = project.apipack("init", "--name", "word_tools", "--description", "Count: words")

    assert result.stdout.splitlines() == ["wrote specs/word_tools.yml", "wrote apipack.yml"]
    spec = yaml.safe_load((project.root / "specs/word_tools.yml").read_text())
    assert (spec["name"], spec["description"]) == ("word_tools", "Count: words")
    assert "def word_tools(text: str) -> str:" in spec["code"]["python"]
    assert spec["examples"] == [{"input": {"text": "hello"}, "output": "hello"}]
    settings = yaml.safe_load((project.root / "apipack.yml").read_text())
    assert settings["languages"] == ["python"]


def test_init_never_overwrites(make_project: Callable[..., Project]) -> None:
    project = make_project("fresh", bare=True)
    project.write("apipack.yml", "languages: [text]\n")
    project.apipack("init", "--name", "first")

    again = project.apipack("init", "--name", "first", expect=2)
    other = project.apipack("init", "--name", "second")

    assert "specs/first.yml already exists" in again.stderr
    assert other.stdout.splitlines() == ["wrote specs/second.yml"]
    assert (project.root / "apipack.yml").read_text() == "languages: [text]\n"
    bad = project.apipack("init", "--name", "Bad-Name", expect=2)
    assert "--name 'Bad-Name'" in bad.stderr


@pytest.mark.skipif(not _python_target_ready(), reason="no python rules for rest and cli yet")
def test_init_then_generate(make_project: Callable[..., Project]) -> None:
    project = make_project("fresh", bare=True)
    project.apipack("init", "--name", "echo_text")

    project.apipack("validate")
    first = project.generate()

    assert first["tasks_failed"] == 0
    assert first["files_written"] > 0
    assert project.generate()["tasks_run"] == 0
    project.apipack("check")


# -- validate, schema, templates --


def test_validate_prints_one_ok_line_per_file(project: Project) -> None:
    project.write("specs/lonely.yml", LONELY)

    every = project.apipack("validate").stdout.splitlines()
    named = project.apipack("validate", "specs/tools.yml").stdout.splitlines()

    assert every == ["specs/lonely.yml: ok (1 function)", "specs/tools.yml: ok (3 functions)"]
    assert named == ["specs/tools.yml: ok (3 functions)"]


def test_validate_reports_every_problem_of_every_file(project: Project) -> None:
    project.write("specs/lonely.yml", LONELY.replace("output_type: string", "output_type: strng"))
    project.edit("specs/tools.yml", "name: gamma", "name: Gamma")

    result = project.apipack("validate", expect=2)

    lines = result.stderr.splitlines()
    assert lines[0].startswith("specs/lonely.yml:5:14: output_type: unknown type 'strng'")
    assert lines[1].startswith("specs/tools.yml:13:11: functions[2].name: invalid function name")
    assert len(lines) == 2
    assert result.stdout == ""


def _check_against_schema(schema: dict[str, Any], good: list[Any], bad: list[Any]) -> None:
    for document in good:
        jsonschema.validate(document, schema)
    for document in bad:
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(document, schema)


def test_schema_accepts_good_specs_and_rejects_bad_ones(project: Project) -> None:
    schema = json.loads(project.apipack("schema").stdout)

    multi = yaml.safe_load(spec_text(FUNCTIONS))
    typo = yaml.safe_load(spec_text(FUNCTIONS).replace("description:", "descripton:", 1))
    no_output_type = yaml.safe_load(LONELY.replace("output_type: string\n", ""))
    assert schema["title"] == "apipack spec"
    _check_against_schema(
        schema,
        good=[multi, yaml.safe_load(LONELY)],
        bad=[typo, no_output_type, {"project": {"name": "x"}, "functions": []}],
    )


def test_schema_of_the_project_file(project: Project) -> None:
    schema = json.loads(project.apipack("schema", "--project").stdout)

    _check_against_schema(
        schema,
        good=[{"languages": ["text"], "llm": {"model": "m"}}],
        bad=[{"jobs": 0}, {"langauges": ["text"]}],
    )


def test_templates_lists_origins_and_overrides(project: Project) -> None:
    user = project.home / ".apipack/templates/text"
    user.mkdir(parents=True)
    (user / "fn.txt.j2").write_text("user's own\n")
    (user / "extra.j2").write_text("only in the user folder\n")

    lines = project.apipack("templates").stdout.splitlines()

    for name in ("text/_header.j2", "text/fn.txt.j2", "text/index.txt.j2", "text/summary.txt.j2"):
        assert f"{name}  [project]" in lines
    assert "text/fn.txt.j2  [user] (overridden)" in lines
    assert "text/extra.j2  [user]" in lines
    assert lines.index("text/fn.txt.j2  [project]") < lines.index(
        "text/fn.txt.j2  [user] (overridden)"
    )


def test_project_templates_come_before_user_templates(project: Project) -> None:
    user = project.home / ".apipack/templates/text"
    user.mkdir(parents=True)
    (user / "fn.txt.j2").write_text("user's fn\n")
    (user / "summary.txt.j2").write_text("user's summary\n")
    (project.root / "templates/text/summary.txt.j2").unlink()
    project.edit("specs/tools.yml", "interfaces: [docs]", "interfaces: [docs, summary]")

    project.apipack("generate")

    assert (project.out / "docs/alpha.txt").read_text().endswith("ALPHA: First\n")
    assert (project.out / "SUMMARY.txt").read_text() == "user's summary\n"


# -- output folder, clean --


def test_output_folder_outside_the_project(built: Project) -> None:
    elsewhere = built.root.parent / "elsewhere"
    at_home = tree(built.out)

    first = built.generate("-o", elsewhere)
    built.apipack("check", "-o", elsewhere)
    again = built.generate("-o", elsewhere)
    back = built.generate()

    assert tree(elsewhere / "text/tools") == at_home
    assert first["files_written"] == 4
    assert (again["tasks_run"], again["files_written"]) == (0, 0)
    # each output folder has its own manifest section: neither claims the other's files
    assert (back["files_written"], back["files_deleted"]) == (0, 0)
    assert tree(elsewhere / "text/tools") == tree(built.out) == at_home


def test_clean_deletes_generated_files_and_state_but_keeps_hand_edits(built: Project) -> None:
    (built.out / "docs/beta.txt").write_text("mine now\n")

    result = built.apipack("clean")

    assert "deleted 3 generated file(s)" in result.stdout
    assert "kept text/tools/docs/beta.txt: edited by hand" in result.stderr
    assert tree(built.root / "generated") == {"text/tools/docs/beta.txt": b"mine now\n"}
    assert not {"manifest.json", "doit.sqlite3", "filestat.json"} & {
        p.name for p in built.state.iterdir()
    }


# -- bad input --


def test_a_missing_spec_file_is_one_line(project: Project) -> None:
    result = project.apipack("generate", "specs/nope.yml", expect=2)

    assert result.stderr.strip().endswith("specs/nope.yml: no such file or folder")
    assert len(result.stderr.splitlines()) == 1


def test_an_interface_no_rule_offers(project: Project) -> None:
    result = project.apipack("generate", "-i", "rest", expect=2)

    assert result.stderr.startswith(
        "specs/tools.yml: language 'text' has no rule for interface(s) rest (available: "
    )
    assert not (project.root / "generated").exists()


def test_an_unknown_interface_in_a_spec_is_located(project: Project) -> None:
    project.edit("specs/tools.yml", "interfaces: [docs]", "interfaces: [docs, nonesuch]")

    result = project.apipack("generate", expect=2)

    assert result.stderr.startswith(
        "specs/tools.yml:3:20: interfaces[1]: unknown interface 'nonesuch'"
    )


def test_no_spec_files_gives_a_hint(make_project: Callable[..., Project]) -> None:
    project = make_project("empty", bare=True)

    result = project.apipack("generate", expect=2)

    assert "no spec files match specs/**/*.yml" in result.stderr
    assert "apipack init --name NAME" in result.stderr


def test_a_rule_cannot_write_outside_the_output_folder(project: Project) -> None:
    project.edit("specs/tools.yml", "interfaces: [docs]", "interfaces: [evil]")

    result = project.apipack("generate", expect=2)

    assert "rule 'text.evil' returned an unsafe output path '../escape.txt'" in result.stderr
    assert not (project.root / "generated").exists()
    assert not list(project.root.parent.rglob("escape.txt"))


def test_a_template_syntax_error_names_template_and_line(project: Project) -> None:
    project.write("templates/text/index.txt.j2", "line one\n{% for name in names %}\n")

    result = project.apipack("generate", expect=2)

    assert result.stderr.startswith("apipack: template text/index.txt.j2:2: Unexpected end")
    assert not (project.root / "generated").exists()
