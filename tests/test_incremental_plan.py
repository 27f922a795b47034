"""The incremental plan (``apipack_build/plan/memo.py``) against the full one.

One project is built after every edit with what the last build remembers of each spec file;
a twin gets the same edits and is planned in full every time (its memo deleted before each
build); every few edits a third copy is built from nothing. Their trees, manifests and task
counts must agree, byte for byte, over a long random sequence of edits of every kind. Builds
run in this process (``apipack_build.generate``) with the ``txtrules`` plugin on ``sys.path``.
"""

from __future__ import annotations

import json
import random
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from helpers import TEMPLATES, tree

import apipack_build
from apipack_build.engine import prepare

EDITS = 200
FROM_NOTHING_EVERY = 25


pytestmark = pytest.mark.usefixtures("in_process")


@dataclass
class Spec:
    name: str  # the package name (stays when the file is renamed)
    functions: dict[str, str]  # name -> description
    interfaces: tuple[str, ...] | None  # None: the project's setting
    implementations: dict[str, str] = field(default_factory=dict)  # function -> file text

    def text(self) -> str:
        lines = [f"project: {{name: {self.name}, description: Random tools}}", "language: text"]
        if self.interfaces is not None:
            lines.append(f"interfaces: [{', '.join(self.interfaces)}]")
        lines.append("functions:")
        for function, description in self.functions.items():
            lines += [
                f"  - name: {function}",
                f"    description: {json.dumps(description)}",
                "    output_type: string",
            ]
            if function in self.implementations:
                lines.append(f"    implementation: impl/{function}.py")
            else:
                lines.append('    code: "x"')
        return "\n".join(lines) + "\n"


@dataclass
class Inputs:
    """Every input file of the project, as a model the edits change."""

    specs: dict[str, Spec]  # file name in specs/ -> spec
    templates: dict[str, str]
    interfaces: tuple[str, ...] = ("docs",)
    counter: int = 0

    def files(self) -> dict[str, str]:
        found = {
            "apipack.yml": f"specs: ['specs/*.yml']\ninterfaces: [{', '.join(self.interfaces)}]\n"
        }
        for file, spec in self.specs.items():
            found[f"specs/{file}"] = spec.text()
            for function, text in spec.implementations.items():
                found[f"specs/impl/{function}.py"] = text
        for name, text in self.templates.items():
            found[f"templates/{name}"] = text
        return found

    def fresh(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"


def write(root: Path, files: dict[str, str]) -> None:
    """Make *root*'s inputs exactly *files*: unchanged ones keep their bytes."""
    for folder in ("specs", "templates"):
        for path in sorted((root / folder).rglob("*")) if (root / folder).is_dir() else []:
            if path.is_file() and path.relative_to(root).as_posix() not in files:
                path.unlink()
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8", newline="\n")


def edit(inputs: Inputs, rng: random.Random) -> str:
    """One random edit of the inputs; returns what it did."""
    specs = inputs.specs
    file = rng.choice(sorted(specs))
    spec = specs[file]
    kind = rng.choice(
        [
            "edit function", "edit function", "add function", "remove function",
            "rename function", "add file", "remove file", "rename file", "edit template",
            "edit include", "settings", "spec interfaces", "implementation", "nothing",
        ]
    )  # fmt: skip
    function = rng.choice(sorted(spec.functions))
    if kind == "edit function":
        spec.functions[function] = inputs.fresh("described ")
    elif kind == "add function":
        spec.functions[inputs.fresh("fn_")] = "added"
    elif kind == "remove function" and len(spec.functions) > 1:
        del spec.functions[function]
        spec.implementations.pop(function, None)
    elif kind == "rename function":
        new = inputs.fresh("fn_")
        spec.functions = {new if k == function else k: v for k, v in spec.functions.items()}
        if function in spec.implementations:
            spec.implementations[new] = spec.implementations.pop(function)
    elif kind == "add file" and len(specs) < 5:
        specs[f"{inputs.fresh('s')}.yml"] = Spec(inputs.fresh("pkg-"), {"fn_a": "new"}, None)
    elif kind == "remove file" and len(specs) > 1:
        del specs[file]
    elif kind == "rename file":
        specs[f"{inputs.fresh('s')}.yml"] = specs.pop(file)
    elif kind == "edit template":
        name = rng.choice(["text/fn.txt.j2", "text/index.txt.j2", "text/summary.txt.j2"])
        inputs.templates[name] = TEMPLATES[name] + f"{inputs.fresh('revision ')}\n"
    elif kind == "edit include":
        inputs.templates["text/_header.j2"] = f"# {inputs.fresh('header ')} from {{{{ source }}}}\n"
    elif kind == "settings":
        inputs.interfaces = ("docs",) if "summary" in inputs.interfaces else ("docs", "summary")
    elif kind == "spec interfaces":
        spec.interfaces = rng.choice([None, ("docs",), ("docs", "summary"), ("summary",)])
    elif kind == "implementation":
        spec.implementations[function] = f"# {inputs.fresh('body ')}\n"
    else:
        return f"nothing ({kind} not possible)" if kind != "nothing" else "nothing"
    return f"{kind} in {file}"


def outcome(root: Path, summary: apipack_build.Summary) -> dict[str, Any]:
    manifest = json.loads((root / ".apipack" / "manifest.json").read_text(encoding="utf-8"))
    counts = {
        name: getattr(summary, name)
        for name in ("tasks_total", "tasks_run", "tasks_failed", "files_written", "files_deleted")
    }
    return {"tree": tree(root / "generated"), "manifest": manifest, "counts": counts}


def build(root: Path, *, full: bool) -> dict[str, Any]:
    if full:
        (root / ".apipack" / "plan.json").unlink(missing_ok=True)
    return outcome(root, apipack_build.generate(root, offline=True))


def test_incremental_and_full_plans_agree_over_random_edits(tmp_path: Path) -> None:
    rng = random.Random(16)
    inputs = Inputs(
        {
            "a.yml": Spec("alpha", {"fn_a": "first", "fn_b": "second"}, ("docs",)),
            "b.yml": Spec("beta", {"fn_a": "third"}, None),
            "c.yml": Spec("gamma", {"fn_c": "fourth"}, ("docs", "summary")),
        },
        dict(TEMPLATES),
    )
    incremental, full = tmp_path / "incremental", tmp_path / "full"
    reused = 0
    for step in range(EDITS + 1):
        done = edit(inputs, rng) if step else "first build"
        files = inputs.files()
        write(incremental, files)
        write(full, files)
        planned = prepare([incremental], offline=True).plan
        reused += planned.reused_tasks
        got, expected = build(incremental, full=False), build(full, full=True)
        assert got == expected, f"step {step}: {done}"
        if step % FROM_NOTHING_EVERY == 0:
            scratch = tmp_path / f"scratch{step}"
            write(scratch, files)
            fresh = build(scratch, full=True)
            assert fresh["tree"] == got["tree"], f"step {step}: {done}"
            assert fresh["manifest"] == got["manifest"], f"step {step}: {done}"
            shutil.rmtree(scratch)
    assert reused > EDITS  # the incremental plan did reuse what it remembered


def _built_then_alpha_edited(tmp_path: Path) -> Path:
    """Two spec files built, then a function of the first one edited."""
    inputs = Inputs(
        {
            "a.yml": Spec("alpha", {"fn_a": "first", "fn_b": "second"}, ("docs",)),
            "b.yml": Spec("beta", {"fn_c": "third"}, ("docs",)),
        },
        dict(TEMPLATES),
    )
    root = tmp_path / "proj"
    write(root, inputs.files())
    apipack_build.generate(root, offline=True)
    inputs.specs["a.yml"].functions["fn_a"] = "edited"
    write(root, inputs.files())
    return root


def test_an_edit_replans_only_its_spec_file(tmp_path: Path) -> None:
    root = _built_then_alpha_edited(tmp_path)

    plan = prepare([root], offline=True).plan

    # beta's two tasks (its function, its package index) come from the memo, unread
    assert sorted(t.name for t in plan.every_task() if t.reused) == [
        "beta/text/docs/_package",
        "beta/text/docs/fn_c",
    ]
    summary = apipack_build.generate(root, offline=True)
    assert (summary.tasks_run, summary.files_written) == (2, 1)  # fn_a and the manifest


def test_a_template_edit_replans_only_the_spec_files_that_render_it(tmp_path: Path) -> None:
    inputs = Inputs(
        {
            "a.yml": Spec("alpha", {"fn_a": "first"}, ("docs",)),
            "b.yml": Spec("beta", {"fn_b": "second"}, ("docs", "summary")),
        },
        dict(TEMPLATES),
    )
    root = tmp_path / "proj"
    write(root, inputs.files())
    apipack_build.generate(root, offline=True)
    inputs.templates["text/summary.txt.j2"] += "edited\n"  # only beta has a summary
    write(root, inputs.files())

    plan = prepare([root], offline=True).plan

    # alpha is reused whole; beta is planned from its remembered package, its summary only
    assert [part.spec for part in plan.parts if part.reused] == ["specs/a.yml"]
    assert [t.name for t in plan.tasks if not t.reused] == ["beta/text/summary/_package"]
    summary = apipack_build.generate(root, offline=True)
    assert (summary.tasks_run, summary.files_written) == (2, 1)  # beta's summary, the manifest
    assert (root / "generated/text/beta/SUMMARY.txt").read_text().endswith("edited\n")

    inputs.templates["text/_header.j2"] = "# included by every function's page\n"
    write(root, inputs.files())
    plan = prepare([root], offline=True).plan
    # both spec files render fn.txt.j2, which includes it; their package tasks do not
    assert not any(part.reused for part in plan.parts)
    assert sorted(t.name for t in plan.tasks if not t.reused) == [
        "alpha/text/docs/fn_a",
        "beta/text/docs/fn_b",
    ]


def test_a_damaged_memo_means_a_full_plan(tmp_path: Path) -> None:
    inputs = Inputs({"a.yml": Spec("alpha", {"fn_a": "first"}, ("docs",))}, dict(TEMPLATES))
    root = tmp_path / "proj"
    write(root, inputs.files())
    apipack_build.generate(root, offline=True)
    (root / ".apipack" / "plan.json").write_text("{not json", encoding="utf-8")
    inputs.specs["a.yml"].functions["fn_b"] = "added"
    write(root, inputs.files())

    assert prepare([root], offline=True).plan.reused_tasks == 0
    apipack_build.generate(root, offline=True)
    assert (root / "generated" / "text" / "alpha" / "docs" / "fn_b.txt").is_file()


def test_a_hand_edited_output_replans_its_spec(tmp_path: Path) -> None:
    inputs = Inputs({"a.yml": Spec("alpha", {"fn_a": "first"}, ("docs",))}, dict(TEMPLATES))
    root = tmp_path / "proj"
    write(root, inputs.files())
    apipack_build.generate(root, offline=True)
    target = root / "generated" / "text" / "alpha" / "docs" / "fn_a.txt"
    good = target.read_bytes()
    target.write_text("edited by hand\n", encoding="utf-8")
    inputs.specs["a.yml"].functions["fn_b"] = "added"  # not the fast path: something changed
    write(root, inputs.files())

    apipack_build.generate(root, offline=True)

    assert target.read_bytes() == good


def test_the_model_s_address_and_jobs_leave_the_memo_valid(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """How the model is reached (a new port) or how many jobs run changes no task: the memo
    stays; a setting a task reads (the model's name keys LLM bodies) makes every spec fresh."""
    root = _built_then_alpha_edited(tmp_path)

    monkeypatch.setenv("APIPACK_LLM_BASE_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("APIPACK_LLM_TIMEOUT", "5")
    monkeypatch.setenv("APIPACK_JOBS", "2")
    assert prepare([root], offline=True).plan.reused_tasks == 2  # beta's, unread

    monkeypatch.setenv("APIPACK_LLM_MODEL", "another:7b")
    assert prepare([root], offline=True).plan.reused_tasks == 0
