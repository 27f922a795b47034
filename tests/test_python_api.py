"""``from apipack import APIPackEngine`` and ``apipack.plugins``: the APIpack README's Python
API, run in fresh interpreters (a registered plugin lives in its process)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from helpers import Project, tree

SPEC = """\
name: word_count
description: How many words the text has
parameters: [{name: text, type: string}]
output_type: int
examples: [{input: {text: one two}, output: 2}]
code: |
  def word_count(text: str) -> int:
      return len(text.split())
"""


def python(project: Project, script: str) -> dict[str, object]:
    """Run *script* in the project folder; it prints one JSON value, returned here."""
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        cwd=project.root,
        env=project.env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    result: dict[str, object] = json.loads(done.stdout.splitlines()[-1])
    return result


def test_engine_writes_the_bytes_apipack_generate_writes(project: Project) -> None:
    project.write("specs/word_count.yml", SPEC)
    project.apipack(
        "generate", "specs/word_count.yml", "-l", "python", "-i", "rest,cli", "-o", "cli"
    )

    result = python(
        project,
        """
        import json
        from apipack import APIPackEngine
        package = APIPackEngine().generate_package(
            function_specs=["specs/word_count.yml"], interfaces=["rest", "cli"],
            language="python", output="api")
        print(json.dumps({"path": str(package.path), "files": list(package.files)}))
        """,
    )

    cli = tree(project.root / "cli/python/word_count")
    api = tree(project.root / "api/python/word_count")
    assert api == cli
    assert result["files"] == sorted(cli)
    assert result["path"] == str((project.root / "api/python/word_count").resolve())


def test_a_spec_mapping_is_built_as_its_file_would_be(project: Project) -> None:
    result = python(
        project,
        """
        import json
        from apipack import APIPackEngine
        spec = {"name": "pdf_to_text", "description": "Extract text from PDF files",
                "input_type": "bytes", "output_type": "string",
                "code": "def pdf_to_text(data: bytes) -> str:\\n    return data.decode()\\n"}
        package = APIPackEngine().generate_package(function_specs=[spec],
                                                   interfaces=["rest", "grpc"], language="python")
        built = package.build()
        print(json.dumps({"name": package.name, "built": [p.name for p in built],
                          "tasks": package.summary.tasks_total}))
        """,
    )
    assert result["name"] == "pdf_to_text" and result["built"] == [
        "pdf_to_text-0.1.0-py3-none-any.whl"
    ]
    project.apipack("generate", ".apipack/specs/pdf_to_text.yml", "-i", "rest,grpc", "-o", "again")
    assert tree(project.root / "again/python/pdf_to_text") == {
        name: data
        for name, data in tree(project.root / "generated/python/pdf_to_text").items()
        if not name.startswith(("dist/", "build/", "src/pdf_to_text.egg-info/"))
    }


PLUGIN = """
import json
from apipack import APIPackEngine
from apipack.plugins import BasePlugin, BaseGenerator, register_plugin, register_generator

class MyInterfacePlugin(BasePlugin):
    name = "my-interface"

    def generate(self, function_specs, language, output_dir):
        names = "\\n".join(spec["name"] for spec in function_specs)
        return {f"my-interface/{language}.txt": names + "\\n"}

    def validate(self, generated_files):
        return [] if generated_files else ["nothing generated"]

register_plugin(MyInterfacePlugin())

@register_generator("custom-api")
class CustomAPIGenerator(BaseGenerator):
    def generate(self, spec):
        return {f"custom/{spec['name']}.txt": spec["description"] + "\\n"}

package = APIPackEngine().generate_package(
    function_specs=["specs/word_count.yml"], interfaces=["my-interface", "custom-api"],
    language="python")
print(json.dumps({"files": list(package.files), "run": package.summary.tasks_run}))
"""


def test_a_registered_plugin_renders_its_files_once(project: Project) -> None:
    project.write("specs/word_count.yml", SPEC)

    first = python(project, PLUGIN)
    second = python(project, PLUGIN)

    package = project.root / "generated/python/word_count"
    assert (package / "my-interface/python.txt").read_text() == "word_count\n"
    assert (package / "custom/word_count.txt").read_text() == "How many words the text has\n"
    assert {"my-interface/python.txt", "custom/word_count.txt"} <= set(first["files"])  # type: ignore[arg-type]
    assert first["run"] and second["run"] == 0
