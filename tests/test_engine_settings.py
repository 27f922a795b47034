"""Settings layers: default < ``~/.apipack/config.yml`` < ``apipack.yml`` < environment < flags.
``apipack config`` shows each value with where it came from; bad values point into their file."""

from __future__ import annotations

import re

from helpers import Project, tree


def _config(project: Project, *args: str, env: dict[str, str] | None = None) -> dict[str, str]:
    """``apipack config`` as {setting: "value  # origin"}."""
    lines = project.apipack("config", *args, env=env).stdout.splitlines()
    pairs = (re.match(r"(\S+) = (.*)", line) for line in lines if not line.startswith("#"))
    return {m[1]: m[2] for m in pairs if m}


def test_config_shows_defaults(project: Project) -> None:
    shown = _config(project)

    assert shown["jobs"] == "1  # default"
    assert shown["output"] == "generated  # default"
    assert shown["llm.model"] == "mistral:7b  # default"
    assert all(value.endswith("# default") for value in shown.values())


def test_each_layer_beats_the_one_below(project: Project) -> None:
    project.write_user_config(
        "output: user-out\njobs: 2\nllm:\n  temperature: 0.5\n  model: user-model\n"
    )
    project.write(
        "apipack.yml",
        "# the project's settings\noutput: project-out\njobs: 3\nllm: {temperature: 0.7}\n",
    )
    env = {"APIPACK_OUTPUT": "env-out", "APIPACK_JOBS": "4", "OLLAMA_HOST": "gpu-box:11434"}

    shown = _config(project, "-o", "flag-out", env=env)

    assert shown["output"] == "flag-out  # command line"
    assert shown["jobs"] == "4  # env APIPACK_JOBS"
    assert shown["llm.temperature"] == "0.7  # apipack.yml:4:20"
    assert shown["llm.model"] == "user-model  # ~/.apipack/config.yml:5:10"
    assert shown["llm.base_url"] == "http://gpu-box:11434  # env OLLAMA_HOST"
    assert shown["llm.seed"] == "42  # default"


def test_apipack_variable_beats_ollama_host(project: Project) -> None:
    env = {"OLLAMA_HOST": "gpu-box:11434", "APIPACK_LLM_BASE_URL": "http://other:1"}

    assert _config(project, env=env)["llm.base_url"] == "http://other:1  # env APIPACK_LLM_BASE_URL"


def test_settings_steer_the_build(project: Project) -> None:
    project.write_spec({"alpha": "First"}, interfaces=None, language=None)
    project.write("apipack.yml", "languages: [text]\ninterfaces: [docs, summary]\noutput: out\n")

    project.apipack("generate")
    assert sorted(tree(project.root / "out/text/tools")) == [
        "SUMMARY.txt",
        "docs/alpha.txt",
        "index.txt",
    ]

    project.apipack("generate", "-i", "summary", "-o", "narrow")  # flags beat the project file
    assert sorted(tree(project.root / "narrow/text/tools")) == ["SUMMARY.txt"]


def test_the_spec_beats_project_settings_and_a_flag_beats_the_spec(project: Project) -> None:
    project.write("apipack.yml", "languages: [text]\ninterfaces: [summary]\n")

    project.apipack("generate")  # the spec says [docs]
    assert sorted(tree(project.out)) == [
        "docs/alpha.txt",
        "docs/beta.txt",
        "docs/gamma.txt",
        "index.txt",
    ]

    project.apipack("generate", "-i", "summary")
    assert sorted(tree(project.out)) == ["SUMMARY.txt"]

    # the APIpack README's spelling, comma-separated
    project.apipack("generate", "--interfaces", "docs,summary")
    assert sorted(tree(project.out)) == [
        "SUMMARY.txt",
        "docs/alpha.txt",
        "docs/beta.txt",
        "docs/gamma.txt",
        "index.txt",
    ]


def test_bad_project_settings_are_located_all_at_once(project: Project) -> None:
    project.write(
        "apipack.yml", "specs: [specs/*.yml]\njobs: 0\nlangauges: [text]\nllm:\n  modle: x\n"
    )

    result = project.apipack("config", expect=2)

    assert result.stderr.splitlines() == [
        "apipack.yml:2:7: jobs: Input should be greater than or equal to 1",
        "apipack.yml:3:1: langauges: unknown field (did you mean 'languages'?)",
        "apipack.yml:5:3: llm.modle: unknown field (did you mean 'model'?)",
    ]
    assert result.stdout == ""
    project.apipack("generate", expect=2)


def test_bad_user_settings_and_variables_name_their_origin(project: Project) -> None:
    project.write_user_config("jobs: many\n")
    from_file = project.apipack("config", expect=2)
    assert from_file.stderr.startswith(
        "~/.apipack/config.yml:1:7: jobs: Input should be a valid integer"
    )

    (project.home / ".apipack/config.yml").unlink()
    from_env = project.apipack("generate", env={"APIPACK_JOBS": "many"}, expect=2)
    assert from_env.stderr.startswith(
        "apipack: env APIPACK_JOBS: jobs: Input should be a valid integer"
    )
