"""Interfaces made of templates alone: a folder with a ``template.yml`` in the project's
``templates/`` (or ``~/.apipack/templates/``) adds an interface, with no Python."""

from __future__ import annotations

from helpers import Project, age, mtimes

TEMPLATE_YML = """\
# ~/.apipack/templates/my-interface/template.yml
name: my-interface
category: interface
language: python
description: Custom interface template

files:
  - src: server.py.j2
    dest: "{{ interface_type }}/server.py"
  - src: client.py.j2
    dest: "{{ interface_type }}/client.py"
  - src: handler.py.j2
    dest: "{{ interface_type }}/handlers/{{ function.name }}.py"
"""
TEMPLATES = {
    "server.py.j2": (
        "# {{ package.name }}: {{ package.functions | map(attribute='name') | join(', ') }}\n"
    ),
    "client.py.j2": "# a client of {{ interface_type }} in {{ language }}\n",
    "handler.py.j2": "# {{ function.name }}: {{ function.description }}\n",
}
SPEC = """\
project: {name: tools}
interfaces: [cli, my-interface]
functions:
  - name: shout
    description: The text in capitals
    parameters: [{name: text, type: string}]
    output_type: string
    code: "def shout(text: str) -> str:\\n    return text.upper()\\n"
  - name: whisper
    description: The text in small letters
    parameters: [{name: text, type: string}]
    output_type: string
    code: "def whisper(text: str) -> str:\\n    return text.lower()\\n"
"""
OUT = "generated/python/tools/my-interface"


def _write(project: Project, base: str = "templates/my-interface") -> None:
    project.write(f"{base}/template.yml", TEMPLATE_YML)
    for name, text in TEMPLATES.items():
        project.write(f"{base}/{name}", text)
    project.write("specs/tools.yml", SPEC)


def test_a_template_interface_is_rendered_listed_and_rebuilt_only_on_change(
    project: Project,
) -> None:
    _write(project)

    listed = project.apipack("templates").stdout
    assert (
        "interface my-interface (python): Custom interface template  "
        "[project: templates/my-interface/template.yml]"
    ) in listed
    project.apipack("validate")
    project.apipack("generate")

    out = project.root / OUT
    assert (out / "server.py").read_text() == "# tools: shout, whisper\n"
    assert (out / "client.py").read_text() == "# a client of my-interface in python\n"
    assert (out / "handlers/shout.py").read_text() == "# shout: The text in capitals\n"
    assert (out / "handlers/whisper.py").read_text() == "# whisper: The text in small letters\n"

    assert project.generate()["tasks_run"] == 0
    package = project.root / "generated/python/tools"
    age(p for p in package.rglob("*") if p.is_file())
    before = mtimes(package)
    project.edit("templates/my-interface/handler.py.j2", "# {{", "## {{")
    summary = project.generate()
    changed = sorted(name for name, ns in mtimes(package).items() if ns != before[name])
    assert changed == ["my-interface/handlers/shout.py", "my-interface/handlers/whisper.py"]
    assert summary["files_written"] == 2
    project.apipack("check")


def test_a_user_template_interface_and_its_errors(project: Project) -> None:
    _write(project, base="../home/.apipack/templates/my-interface")
    project.home.joinpath(".apipack/templates/my-interface/template.yml").write_text(
        TEMPLATE_YML.replace("category: interface", "category: widget")
    )
    done = project.apipack("generate", expect=2)
    assert done.stderr.startswith(
        "~/.apipack/templates/my-interface/template.yml:3:11: category:"
    ), done.stderr

    project.home.joinpath(".apipack/templates/my-interface/template.yml").write_text(TEMPLATE_YML)
    project.apipack("generate")
    assert (project.root / OUT / "client.py").is_file()
    assert (
        "[user: ~/.apipack/templates/my-interface/template.yml]"
        in project.apipack("templates").stdout
    )


BYTES_SPEC = """\
project: {name: tools}
interfaces: [my-interface]
functions:
  - name: size
    description: How many bytes
    parameters: [{name: data, type: bytes}]
    output_type: int
    code: "def size(data: bytes) -> int:\\n    return len(data)\\n"
    examples:
      - name: not_text
        input: {data: !!binary "/4mQ"}
        output: 3
"""


def test_an_example_holding_bytes_that_are_not_utf8_reaches_templates_as_base64(
    project: Project,
) -> None:
    _write(project)
    project.write("specs/tools.yml", BYTES_SPEC)
    project.write(
        "templates/my-interface/handler.py.j2",
        "# {{ function.name }}: {{ function.examples[0].input.data }}\n",
    )
    project.generate()
    assert (project.root / OUT / "handlers/size.py").read_text() == "# size: /4mQ\n"
