"""``apipack_build.generate`` and ``check`` from Python: the CLI's build, summary and errors.

Calls run in this process, on the built-in Python target with inline code (no LLM server); the
command line runs once per comparison, as a subprocess with the same HOME.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from helpers import run_apipack, tree

import apipack_build
from apipack_build import BuildError, ConfigError, LLMError, SpecError, Summary

SPEC = """\
project: {name: shop, description: Prices and stock, version: 0.1.0}
language: python
interfaces: [rest, cli]
functions:
  - name: net_price
    description: Price after a percentage discount
    output_type: float
    parameters:
      - {name: price, type: float}
      - {name: discount, type: float, default: 0.0}
    code: |
      def net_price(price: float, discount: float = 0.0) -> float:
          \"\"\"Price after a percentage discount.\"\"\"
          return round(price * (1 - discount / 100), 2)
    examples:
      - {input: {price: 10.0, discount: 50.0}, output: 5.0}
  - name: in_stock
    description: Whether any units are left
    output_type: bool
    parameters:
      - {name: units, type: int}
    code: |
      def in_stock(units: int) -> bool:
          \"\"\"Whether any units are left.\"\"\"
          return units > 0
"""


def _project(folder: Path, spec: str = SPEC) -> Path:
    (folder / "specs").mkdir(parents=True)
    (folder / "specs" / "shop.yml").write_text(spec, encoding="utf-8")
    (folder / "apipack.yml").write_text("output: generated\n", encoding="utf-8")
    return folder


@pytest.fixture(autouse=True)
def private_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same isolation ``run_apipack`` gives a subprocess: a private HOME, no APIPACK_*."""
    for name in [n for n in os.environ if n.startswith("APIPACK_")]:
        monkeypatch.delenv(name)
    monkeypatch.delenv("OLLAMA_HOST", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / ".home"))


def _counts(summary: Summary | dict[str, Any]) -> dict[str, Any]:
    data = dataclasses.asdict(summary) if isinstance(summary, Summary) else dict(summary)
    return {k: v for k, v in data.items() if k not in ("seconds", "llm_seconds")}


def _cli(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_apipack(folder, *args)


def test_generate_writes_the_bytes_and_returns_the_summary_of_the_cli(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    by_cli, by_api = _project(tmp_path / "cli"), _project(tmp_path / "api")
    done = _cli(by_cli, "generate", "--summary-json", str(tmp_path / "cli.json"))
    assert done.returncode == 0, done.stderr

    first = apipack_build.generate(by_api)
    again = apipack_build.generate(by_api)

    assert tree(by_api / "generated") == tree(by_cli / "generated")
    cli_summary = json.loads((tmp_path / "cli.json").read_text(encoding="utf-8"))
    assert _counts(first) == _counts(cli_summary)
    assert (first.tasks_run, first.files_written) == (10, 46)
    assert (again.tasks_run, again.files_written, again.tasks_up_to_date) == (0, 0, 10)
    assert capsys.readouterr().out == ""  # quiet unless asked
    assert apipack_build.check(by_api) == []
    # the CLI finds the API's build current, and the other way round
    assert "10 up to date" in _cli(by_api, "generate").stdout
    assert _cli(by_cli, "check").returncode == 0


def test_echo_prints_what_the_cli_prints(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _project(tmp_path / "shop")

    apipack_build.generate(folder, echo=True)
    line = capsys.readouterr().out

    assert line.startswith("apipack: 10 tasks: 10 run, 0 up to date; files: 46 written")
    assert line.count("\n") == 1


def test_options_match_the_command_line_flags(tmp_path: Path) -> None:
    folder = _project(tmp_path / "shop")
    (folder / "specs" / "other.yml").write_text(
        SPEC.replace("name: shop", "name: other"), encoding="utf-8"
    )

    summary = apipack_build.generate(
        folder, specs=["specs/other.yml"], interfaces=["cli"], output="out", jobs=2
    )

    built = tree(folder / "out")
    assert summary.tasks_failed == 0
    assert built and all(path.startswith("python/other/") for path in built)
    assert not any("/rest/" in path for path in built)
    assert any("/cli/" in path for path in built)
    assert not (folder / "generated").exists()


def test_check_lists_what_apipack_check_lists(tmp_path: Path) -> None:
    folder = _project(tmp_path / "shop")
    apipack_build.generate(folder)
    readme = folder / "generated" / "python" / "shop" / "README.md"
    readme.write_text(readme.read_text(encoding="utf-8") + "edited\n", encoding="utf-8")
    (folder / "specs" / "shop.yml").write_text(
        SPEC.replace("Whether any units are left", "Whether any unit is left"), encoding="utf-8"
    )

    found = apipack_build.check(folder)
    cli = _cli(folder, "check")

    assert cli.returncode == 1
    assert found == cli.stdout.splitlines()
    assert "generated/python/shop/README.md: edited by hand (generate would overwrite it)" in found
    assert len(found) > 1


def test_bad_input_raises_the_error_the_cli_reports(tmp_path: Path) -> None:
    folder = _project(tmp_path / "shop", SPEC.replace("output_type: bool", "output_type: boool"))

    with pytest.raises(SpecError) as raised:
        apipack_build.generate(folder)
    cli = _cli(folder, "generate")

    assert cli.returncode == raised.value.exit_code == 2
    assert cli.stderr.strip() == str(raised.value)
    assert str(raised.value).startswith("specs/shop.yml:")
    assert [p.field for p in raised.value.problems] == ["functions[1].output_type"]
    assert not (folder / "generated").exists()
    with pytest.raises(ConfigError, match="no such file or folder"):
        apipack_build.generate(tmp_path / "nowhere")
    with pytest.raises(ConfigError, match="a list of names"):
        apipack_build.generate(folder, languages="python")  # type: ignore[arg-type]


def test_a_missing_reply_offline_raises_llm_error(tmp_path: Path) -> None:
    spec = SPEC.split("    code: |")[0] + "    examples: []\n"  # net_price alone, no code
    folder = _project(tmp_path / "shop", spec)

    with pytest.raises(LLMError) as raised:
        apipack_build.generate(folder, offline=True)
    cli = _cli(folder, "generate", "--offline")

    assert cli.returncode == raised.value.exit_code == 3
    assert "net_price" in str(raised.value)
    assert str(raised.value) in cli.stderr


def test_a_failing_task_raises_build_error_naming_it(tmp_path: Path) -> None:
    folder = _project(tmp_path / "shop")
    template = folder / "templates" / "python" / "core" / "README.md.j2"
    template.parent.mkdir(parents=True)
    template.write_text("# readme\n{{ no_such_value }}\n", encoding="utf-8")

    with pytest.raises(BuildError) as raised:
        apipack_build.generate(folder)
    cli = _cli(folder, "generate")

    message = str(raised.value)
    assert raised.value.exit_code == cli.returncode == 1
    failure = "task apipack:shop/python/core/_package failed: template python/core/README.md.j2:2:"
    assert failure in message
    assert message.splitlines()[0] in cli.stdout  # the failure line the CLI prints
    assert (folder / "generated" / "python" / "shop" / "src").is_dir()  # the others were built
