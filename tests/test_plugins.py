"""Extending apipack from outside: the ``examples/plugin-markdown`` package, pip-installed into a
virtual environment, adds a language with its rules and templates, and an LLM provider; and
template lookup goes project ``templates/`` > ``~/.apipack/templates`` > plugins > built-in.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from helpers import tree, without_settings

REPO = Path(__file__).resolve().parents[1]
PLUGIN = REPO / "examples" / "plugin-markdown"
BUILTIN_README = REPO / "templates" / "python" / "core" / "README.md.j2"

SPEC = """\
project: {name: shop, description: Prices and stock, version: 0.1.0}
functions:
  - name: net_price
    description: Price after a percentage discount
    output_type: float
    parameters:
      - {name: price, type: float, description: List price}
      - {name: discount, type: float, default: 0.0, description: Percent off}
    code:
      python: |
        def net_price(price: float, discount: float = 0.0) -> float:
            \"\"\"Price after a percentage discount.\"\"\"
            return round(price * (1 - discount / 100), 2)
    examples:
      - {input: {price: 10.0, discount: 50.0}, output: 5.0}
  - name: slugify
    description: A URL slug of a product title
    output_type: string
    parameters:
      - {name: title, type: string}
"""
# the same, with slugify written by hand: no LLM at all
CODED = (
    SPEC
    + """\
    code: |
      def slugify(title: str) -> str:
          \"\"\"A URL slug of a product title.\"\"\"
          return "-".join(title.lower().split())
"""
)


#: what a wheel of apipack is built from (the sdist's files): the rest of the checkout stays out
SOURCE = ("pyproject.toml", "README.md", "apipack", "apipack_build", "rules", "templates")


@pytest.fixture(scope="module")
def plugin_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Python of a new virtual environment with apipack and the example plugin installed, as
    a user installs them: pip, from copies of this checkout and of the plugin (a build writes
    into its source folder)."""
    root = tmp_path_factory.mktemp("plugin")
    apipack = root / "apipack"
    apipack.mkdir()
    for name in SOURCE:
        if (REPO / name).is_dir():
            shutil.copytree(
                REPO / name, apipack / name, ignore=shutil.ignore_patterns("__pycache__")
            )
        else:
            shutil.copy(REPO / name, apipack / name)
    plugin = root / "plugin"
    shutil.copytree(PLUGIN, plugin, ignore=shutil.ignore_patterns("build", "*.egg-info"))
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    python = venv / "bin" / "python"
    done = subprocess.run(
        [python, "-m", "pip", "install", "-q", "--disable-pip-version-check", apipack, plugin],
        timeout=600,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return python


def _apipack(
    folder: Path, *args: str, python: Path | None = None, expect: int = 0
) -> subprocess.CompletedProcess[str]:
    """``apipack ARGS`` in *folder* with *python* (default: ours, without the plugin), a private
    HOME and none of the caller's apipack settings; never a traceback."""
    env = without_settings("OLLAMA_HOST")
    env["HOME"] = str(folder.parent / "home")
    done = subprocess.run(
        [str(python or sys.executable), "-m", "apipack_build.cli", *args],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    shown = f"$ apipack {' '.join(args)}\n{done.stdout}{done.stderr}"
    assert done.returncode == expect, shown
    assert "Traceback" not in done.stdout + done.stderr, shown
    return done


def _generate(folder: Path, python: Path | None = None) -> dict[str, Any]:
    summary = folder.parent / "summary.json"
    _apipack(folder, "generate", "--summary-json", str(summary), python=python)
    data: dict[str, Any] = json.loads(summary.read_text(encoding="utf-8"))
    return data


def _project(folder: Path, settings: str, spec: str = SPEC) -> Path:
    (folder / "specs").mkdir(parents=True)
    (folder / "specs" / "shop.yml").write_text(spec, encoding="utf-8")
    (folder / "apipack.yml").write_text(settings, encoding="utf-8")
    return folder


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_an_installed_plugin_adds_a_language_with_templates_and_a_provider(
    plugin_python: Path, tmp_path: Path
) -> None:
    folder = _project(
        tmp_path / "shop",
        "languages: [python, markdown]\ninterfaces: [rest, cli]\n"
        "llm: {provider: stub, model: none}\n",
    )

    listed = _apipack(folder, "templates", python=plugin_python).stdout.splitlines()
    first = _generate(folder, plugin_python)
    again = _generate(folder, plugin_python)

    assert "markdown/function.md.j2  [plugin markdown]" in listed
    assert "python/core/README.md.j2  [builtin]" in listed
    docs = tree(folder / "generated" / "markdown" / "shop")
    assert sorted(docs) == [
        "cli/net_price.md",
        "cli/slugify.md",
        "functions/net_price.md",
        "functions/slugify.md",
        "index.md",
        "rest/net_price.md",
        "rest/slugify.md",
    ]
    assert b"| `discount` | `float` | no | `0.0` | Percent off |" in docs["functions/net_price.md"]
    assert b"# `POST /slugify`" in docs["rest/slugify.md"]
    assert b"shop net-price --price PRICE [--discount DISCOUNT]" in docs["cli/net_price.md"]
    # the plugin's provider wrote slugify's Python body: one call; markdown needs no code
    assert first["llm_calls"] == 1
    body = folder / "generated" / "python" / "shop" / "src" / "shop" / "functions" / "slugify.py"
    assert 'raise NotImplementedError("write this function")' in body.read_text(encoding="utf-8")
    assert (again["tasks_run"], again["files_written"]) == (0, 0)

    # a project template overrides the plugin's: only the task that renders it runs
    index = folder / "generated" / "markdown" / "shop" / "index.md"
    own = index.read_text(encoding="utf-8").replace("| Function |", "| Operation |")
    text = (PLUGIN / "apipack_markdown" / "templates" / "markdown" / "index.md.j2").read_text()
    _write(folder / "templates/markdown/index.md.j2", text.replace("| Function |", "| Operation |"))
    overridden = _generate(folder, plugin_python)

    assert (overridden["tasks_run"], overridden["files_written"]) == (2, 1)  # and the manifest
    assert index.read_text(encoding="utf-8") == own


def test_plugin_names_are_checked_against_what_is_installed(
    plugin_python: Path, tmp_path: Path
) -> None:
    typo = _project(tmp_path / "typo", "llm: {provider: stbu}\n")
    provider = _project(tmp_path / "provider", "llm: {provider: stub}\n")
    language = _project(tmp_path / "language", "languages: [markdown]\n", CODED)

    with_plugin = _apipack(typo, "generate", python=plugin_python, expect=2).stderr
    no_provider = _apipack(provider, "generate", expect=2).stderr
    no_language = _apipack(language, "generate", expect=2).stderr

    assert with_plugin.strip() == (
        "apipack.yml:1:17: llm.provider: unknown provider 'stbu' (did you mean 'stub'?); "
        "registered: mistral, ollama, openai, stub"
    )
    assert no_provider.strip() == (
        "apipack.yml:1:17: llm.provider: unknown provider 'stub'; "
        "registered: mistral, ollama, openai"
    )
    assert "markdown" in no_language


def test_templates_come_from_the_project_then_the_user_then_apipack(tmp_path: Path) -> None:
    folder = _project(tmp_path / "shop", "languages: [python]\ninterfaces: [rest, cli]\n", CODED)
    readme = folder / "generated" / "python" / "shop" / "README.md"
    builtin = BUILTIN_README.read_text(encoding="utf-8")
    user = tmp_path / "home" / ".apipack" / "templates" / "python" / "core" / "README.md.j2"
    project = folder / "templates" / "python" / "core" / "README.md.j2"

    _generate(folder)
    by_apipack = readme.read_text(encoding="utf-8")
    _write(user, builtin + "\nOverridden in the user's templates.\n")
    by_user = _generate(folder)
    user_text = readme.read_text(encoding="utf-8")
    _write(project, builtin + "\nOverridden in the project's templates.\n")
    by_project = _generate(folder)
    project_text = readme.read_text(encoding="utf-8")
    listed = _apipack(folder, "templates").stdout.splitlines()

    assert "Overridden in" not in by_apipack
    assert user_text.endswith("Overridden in the user's templates.\n")
    assert project_text.endswith("Overridden in the project's templates.\n")
    # each override re-renders only the package task that reads README.md.j2 (and the manifest)
    for summary in (by_user, by_project):
        assert (summary["tasks_run"], summary["files_written"]) == (2, 1)
    name = "python/core/README.md.j2"
    assert listed.index(f"{name}  [project]") < listed.index(f"{name}  [user] (overridden)")
    assert listed.index(f"{name}  [user] (overridden)") < listed.index(
        f"{name}  [builtin] (overridden)"
    )
    assert "python/core/function.py.j2  [builtin]" in listed

    project.unlink()
    assert _generate(folder)["files_written"] == 1
    assert readme.read_text(encoding="utf-8") == user_text
