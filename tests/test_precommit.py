"""Our pre-commit hooks with the real ``pre-commit`` and real ``git`` in a temporary repository.

Most tests mirror ``.pre-commit-hooks.yaml`` as ``repo: local`` hooks (same entry, files and
pass_filenames; ``language: system`` so no virtual environment is built) and run ``git commit``.
One test has pre-commit install our package as the manifest says (``language: python``).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml
from fake_llm import FakeLLM
from helpers import Project, standard_project

REPO = Path(__file__).resolve().parents[1]
MANIFEST = REPO / ".pre-commit-hooks.yaml"
HOOKS: list[dict[str, Any]] = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
STALE_ALPHA = "generated/text/tools/docs/alpha.txt: stale"


def hook_env(project: Project, pre_commit_home: Path) -> dict[str, str]:
    """The project's environment (plugin on PYTHONPATH, private HOME), our ``apipack`` first on
    PATH, a private pre-commit cache, and nothing from a git hook we may be running inside."""
    env = {
        k: v
        for k, v in project.env.items()
        if not k.startswith(("GIT_", "PRE_COMMIT")) and k != "SKIP"
    }
    env.update(
        PATH=os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")]),
        PRE_COMMIT_HOME=str(pre_commit_home),
        PRE_COMMIT_COLOR="never",
        GIT_CONFIG_NOSYSTEM="1",
    )
    return env


def local_hooks(*hook_ids: str) -> dict[str, Any]:
    """Our hooks as ``repo: local`` hooks: the same definitions, run by the ``apipack`` on PATH."""
    hooks = [dict(hook, language="system") for hook in HOOKS if hook["id"] in hook_ids]
    return {"repo": "local", "hooks": hooks}


class GitRepo:
    """A git repository around *project*; pre-commit runs the hooks of *repo* on every commit."""

    def __init__(self, project: Project, env: Mapping[str, str], repo: dict[str, Any]):
        self.root, self.env = project.root, dict(env)
        self.git("init", "-q")
        self.git("config", "user.name", "Test Author")
        self.git("config", "user.email", "author@example.com")
        self.git("config", "commit.gpgsign", "false")
        project.write(".gitignore", ".apipack/\n")
        config = yaml.safe_dump({"repos": [repo]}, sort_keys=False)
        project.write(".pre-commit-config.yaml", config)
        self.run(sys.executable, "-m", "pre_commit", "install")

    def run(self, *args: str | Path, expect: int | None = 0) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [str(a) for a in args],
            cwd=self.root,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        shown = f"$ {' '.join(map(str, args))}\n{done.stdout}{done.stderr}"
        if expect is not None:
            assert done.returncode == expect, shown
        assert "Traceback" not in done.stdout + done.stderr, shown
        return done

    def git(self, *args: str, expect: int | None = 0) -> subprocess.CompletedProcess[str]:
        return self.run("git", *args, expect=expect)

    def commit(self, *paths: str, expect: int) -> str:
        """``git add PATHS`` and ``git commit``, which runs the hooks; their output."""
        self.git("add", *paths)
        done = self.git("commit", "-m", "change", expect=expect)
        return done.stdout + done.stderr

    def commits(self) -> int:
        return int(self.git("rev-list", "--count", "HEAD").stdout)


@pytest.fixture
def env(project: Project, tmp_path: Path) -> dict[str, str]:
    return hook_env(project, tmp_path / "pre-commit-home")


def test_check_hook_blocks_stale_output_and_passes_fresh(
    project: Project, env: dict[str, str]
) -> None:
    repo = GitRepo(project, env, local_hooks("apipack-check"))
    project.apipack("generate")
    assert "Passed" in repo.commit(".", expect=0)
    project.write("NOTES.txt", "not an input of the build\n")
    assert "(no files to check)Skipped" in repo.commit("NOTES.txt", expect=0)

    project.edit("specs/tools.yml", '"First"', '"First of all"')
    alpha = (project.out / "docs/alpha.txt").read_bytes()
    shown = repo.commit("specs/tools.yml", expect=1)
    assert STALE_ALPHA in shown and "run `apipack generate`" in shown
    assert (project.out / "docs/alpha.txt").read_bytes() == alpha  # the check wrote nothing
    assert repo.commits() == 2

    project.apipack("generate")
    repo.commit(".", expect=0)
    (project.out / "docs/beta.txt").write_text("edited by hand\n")
    shown = repo.commit("generated", expect=1)
    assert "generated/text/tools/docs/beta.txt: edited by hand" in shown
    assert repo.commits() == 3


def test_generate_hook_regenerates_fails_then_passes(project: Project, env: dict[str, str]) -> None:
    repo = GitRepo(project, env, local_hooks("apipack-generate"))
    project.apipack("generate")
    repo.commit(".", expect=0)

    project.write_spec({"alpha": "First of all", "beta": "Second", "gamma": "Third", "delta": "4"})
    shown = repo.commit("specs/tools.yml", expect=1)
    assert "updated generated/text/tools/docs/alpha.txt" in shown
    assert "created generated/text/tools/docs/delta.txt" in shown
    assert "generate changed 3 file(s)" in shown  # alpha, delta and index.txt
    assert repo.commits() == 1
    project.apipack("check")  # the hook left a current tree, for the author to review

    assert "apipack generate" in repo.commit(".", expect=0)
    assert repo.commits() == 2


def test_cache_miss_fails_without_calling_the_llm(
    project: Project, tmp_path: Path, fake: FakeLLM
) -> None:
    """A function the model writes builds offline from cache and lock; a new one is a clear
    failure of both hooks, with no request to the server."""
    project.env["APIPACK_LLM_BASE_URL"] = fake.url
    env = hook_env(project, tmp_path / "pre-commit-home")
    repo = GitRepo(project, env, local_hooks("apipack-check", "apipack-generate"))
    project.write("templates/prompts/text.j2", "Describe {{ function.name }}.\n")
    spec = project.root / "specs/tools.yml"
    llm_function = "  - {name: %s, description: Written by the model, output_type: string}\n"
    spec.write_text(spec.read_text() + llm_function % "delta")
    project.apipack("generate")
    assert fake.chat_count == 1
    assert (project.root / "apipack.lock").is_file()
    assert repo.commit(".", expect=0).count("Passed") == 2
    requests = len(fake.other_requests)

    (project.root / "apipack.lock").unlink()  # the cache has the reply: the lock is rewritten
    done = project.apipack("generate", "--offline", "--fail-on-change", expect=1)
    assert done.stdout.splitlines()[-1] == "created apipack.lock"
    project.apipack("generate", "--offline", "--fail-on-change")
    repo.git("diff", "--exit-code")

    spec.write_text(spec.read_text() + llm_function % "epsilon")
    shown = repo.commit("specs/tools.yml", expect=1)
    assert shown.count("- exit code: 3") == 2
    assert shown.count("no cached or locked response for:\n  tools.epsilon (text)") == 2
    assert "offline mode" in shown
    assert fake.chat_count == 1 and len(fake.other_requests) == requests
    assert repo.commits() == 1


def test_fail_on_change_names_each_change(built: Project) -> None:
    built.apipack("generate", "--fail-on-change")
    built.write_spec({"alpha": "First", "gamma": "Third, revised"})
    done = built.apipack("generate", "--fail-on-change", expect=1)
    assert done.stdout.splitlines()[-3:] == [
        "deleted generated/text/tools/docs/beta.txt",
        "updated generated/text/tools/docs/gamma.txt",
        "updated generated/text/tools/index.txt",
    ]
    assert "generate changed 3 file(s)" in done.stderr
    built.apipack("check")
    built.apipack("generate", "--fail-on-change")
    done = built.apipack("generate", "--fail-on-change", "--dry-run", expect=2)
    assert "not allowed with argument" in done.stderr


@pytest.mark.slow
def test_our_manifest_installs_and_runs(tmp_path: Path, site: Path) -> None:
    """``.pre-commit-hooks.yaml`` as users get it: ``repo:`` this repository at ``rev:`` its
    HEAD (the committed state: uncommitted files are not part of a hook repository), which
    pre-commit installs into a virtual environment of its own (``language: python``)."""
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.strip()
    ours = {"repo": str(REPO), "rev": head, "hooks": [{"id": h["id"]} for h in HOOKS]}
    project = standard_project(tmp_path / "repo", site, tmp_path / "home")
    env = hook_env(project, tmp_path / "pre-commit-home")
    # the user's pip cache, not the private HOME's empty one: the wheels, not the test, are slow
    env["PIP_CACHE_DIR"] = os.environ.get("PIP_CACHE_DIR", str(Path.home() / ".cache" / "pip"))
    repo = GitRepo(project, env, ours)
    project.apipack("generate")
    assert repo.commit(".", expect=0).count("Passed") == 2

    project.edit("specs/tools.yml", '"First"', '"First of all"')
    shown = repo.commit("specs/tools.yml", expect=1)
    assert STALE_ALPHA in shown
    assert "updated generated/text/tools/docs/alpha.txt" in shown
    assert repo.commit("generated", expect=0).count("Passed") == 2
    assert repo.commits() == 2
