"""The APIpack README (``../shared/seeds/000_37ccc5638833d7a1.txt``, copied into
``tests/corpus/apipack_readme.txt``), run as written.

Every YAML and shell snippet of that file is extracted in order and run in a scratch project
against ``fake_llm`` (a real HTTP server speaking Ollama's protocol):

- each function spec is written where the README says, validated and generated;
- settings (``~/.apipack/config.yml``), project files and ``template.yml`` are written where
  they say and read back (``apipack config``, ``apipack templates``);
- each ``apipack`` command exits 0 — except the ones whose outcome the README cannot promise
  here: ``build --type docker`` without a Docker daemon (exit 3, naming docker) and
  ``--language go`` (exit 2: apipack knows Go's reserved words but has no Go rules yet);
- other lines are not apipack commands and are skipped, each for the reason ``SKIPPED`` gives
  (the test asserts that nothing else is skipped).

What the README leaves out is set up here, and said so: ``spec.yml`` and ``functions.yml`` (the
README's generic names) are its Simple Function and Complex Service specs; the spec files its
project files list are its quick-start and Simple Function specs; ``./generated-package`` is
``apipack generate spec.yml -o generated-package``; ``template.yml``'s two templates are
one-liners.

The quick start's package is then installed into its own venv and passes its tests, with the
README's own test commands (``pytest tests/ --cov=src --cov-report=html`` and
``python -m pytest tests/integration/``).
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from fake_llm import FakeLLM
from helpers import run_apipack, without_settings

#: a copy of the seed (``../shared/seeds/000_37ccc5638833d7a1.txt``), so a clone alone runs this;
#: where the seed is beside the repository, the two must be the same text
SEED = Path(__file__).resolve().parent / "corpus" / "apipack_readme.txt"
SHARED = Path(__file__).resolve().parents[2] / "shared" / "seeds" / "000_37ccc5638833d7a1.txt"

#: first word(s) of shell lines that are not apipack commands, and why they are not run
SKIPPED = {
    "pip install apipack": "installs apipack from PyPI; the tests use this checkout",
    "pip install -e": "installs APIpack's own repository (development setup)",
    "curl": "calls a running service or downloads Ollama",
    "ollama": "the real Ollama; the tests use fake_llm's server",
    "docker": "Docker itself (build and run are apipack build's business, tested there)",
    "docker-compose": "Docker Compose itself",
    "kubectl": "a Kubernetes cluster",
    "git clone": "downloads a repository from GitHub",
    "pre-commit install": "installs git hooks into APIpack's own repository",
    "pytest": "runs a package's tests (run below, in the quick start package's venv)",
    "python -m pytest": "runs a package's tests (run below, in the quick start package's venv)",
    "locust": "a load test (run by tests/test_python_load.py against a running server)",
}
#: YAML snippets that are no apipack input, and why
NOT_APIPACK_YAML = {
    "templates/languages/kotlin/config.yml": (
        "a language described in YAML by the README's architecture notes; apipack languages "
        "are Python packages registered as entry points (docs/plugins.md)"
    ),
}
#: (pattern in the command, expected exit code, pattern in its stderr)
EXPECTED_FAILURES = [
    (r"(--language|-l) go\b", 2, r"language 'go' has no rule for interface"),
]


@dataclass(frozen=True)
class Snippet:
    lang: str
    text: str
    prose: str  # the last line of prose before it


@dataclass
class Walk:
    root: Path
    env: dict[str, str]
    ran: list[tuple[str, int]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    specs: list[str] = field(default_factory=list)


def snippets() -> list[Snippet]:
    """The YAML and shell snippets of the seed, in order, each once."""
    if SHARED.is_file():
        assert SEED.read_bytes() == SHARED.read_bytes(), f"{SEED} is not a copy of {SHARED}"
    found: list[Snippet] = []
    prose = ""
    for part in re.split(r"(```\w*\n.*?```)", SEED.read_text(encoding="utf-8"), flags=re.S):
        block = re.fullmatch(r"```(\w*)\n(.*?)```", part, flags=re.S)
        if block is None:
            lines = [line for line in part.splitlines() if line.strip()]
            prose = lines[-1] if lines else prose
        elif block[1] in ("yaml", "bash") and all(s.text != block[2] for s in found):
            found.append(Snippet(block[1], block[2], prose))
    return found


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeLLM]:
    server = FakeLLM().start()
    yield server
    server.stop()


def _apipack(walk: Walk, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_apipack(cwd, *args, env=walk.env, timeout=600)


def _check(walk: Walk, cwd: Path, command: str, args: list[str]) -> None:
    done = _apipack(walk, cwd, *args)
    walk.ran.append((command, done.returncode))
    shown = f"$ {command}\n{done.stdout}{done.stderr}"
    for pattern, code, message in EXPECTED_FAILURES:
        if re.search(pattern, command):
            assert done.returncode == code and re.search(message, done.stderr), shown
            return
    if args[0] == "build" and "docker" in args:
        if done.returncode == 3:
            assert re.search(r"^docker: (no Docker daemon|the docker CLI)", done.stderr), shown
            assert "docker build -t" in done.stderr, shown
            return
        # a daemon answers here: the image is built; a push may fail without credentials
        assert done.returncode == 0 or "docker push" in done.stderr, shown
        return
    assert done.returncode == 0, shown


# -- YAML --


def _spec_file(snippet: Snippet, data: dict[str, Any]) -> str:
    if "function_spec.yml" in snippet.prose:
        return "function_spec.yml"
    if "project" in data and data["project"].get("name") == "document-processor":
        return "functions.yml"  # `apipack generate --spec functions.yml`: its several functions
    return "spec.yml"  # `apipack generate spec.yml ...`: the Simple Function


def _yaml(walk: Walk, snippet: Snippet, specs: dict[str, str]) -> None:
    first = snippet.text.splitlines()[0]
    named = first[2:].strip() if first.startswith("# ") else ""
    if named in NOT_APIPACK_YAML:
        walk.skipped.append((named, NOT_APIPACK_YAML[named]))
        return
    data = yaml.safe_load(snippet.text)
    root, home = walk.root, walk.root / ".home"
    if named.startswith("~/.apipack/templates/"):
        path = home / named.removeprefix("~/")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(snippet.text, encoding="utf-8")
        for item in data["files"]:  # the README shows no templates: one line each
            (path.parent / item["src"]).write_text("# {{ interface_type }}\n", encoding="utf-8")
        listed = _apipack(walk, root, "templates")
        assert listed.returncode == 0 and f"interface {data['name']} (python)" in listed.stdout
        return
    if "llm" in data:  # global settings (config/default.yml holds the same defaults)
        (home / ".apipack").mkdir(parents=True, exist_ok=True)
        (home / ".apipack/config.yml").write_text(snippet.text, encoding="utf-8")
        shown = _apipack(walk, root, "config")
        assert shown.returncode == 0, shown.stderr
        assert "llm.provider = mistral  # ~/.apipack/config.yml" in shown.stdout
        assert "output.include_tests = True  # ~/.apipack/config.yml" in shown.stdout
        return
    if "functions" in data and all("spec" in f for f in data["functions"]):
        for item in data["functions"]:  # the README shows none of these files
            source = specs["pdf" if "pdf" in item["spec"] else "image"]
            target = root / item["spec"]
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(source, encoding="utf-8")
        (root / "project.apipack.yml").write_text(snippet.text, encoding="utf-8")
        for command in ("config", "validate", "generate"):
            _check(
                walk,
                root,
                f"apipack {command} project.apipack.yml",
                [command, "project.apipack.yml"],
            )
        package = root / "generated/python" / data["name"]
        replicas = data.get("deployment", {}).get("kubernetes", {}).get("replicas", 1)
        manifest = yaml.safe_load((package / "kubernetes/deployment.yaml").read_text())
        assert manifest["spec"]["replicas"] == replicas
        return
    name = named or _spec_file(snippet, data)
    (root / name).write_text(snippet.text, encoding="utf-8")
    walk.specs.append(name)
    if "name" in data and "project" not in data:
        specs["pdf" if "pdf" in data["name"] else "image"] = snippet.text
    _check(walk, root, f"apipack validate {name}", ["validate", name])
    _check(walk, root, f"apipack generate {name}", ["generate", name, "-o", f"out-{name}"])


# -- shell --


def _lines(text: str) -> list[str]:
    joined = text.replace("\\\n", " ")
    return [
        line.strip() for line in joined.splitlines() if line.strip() and not line.startswith("#")
    ]


def _skip_reason(line: str) -> str | None:
    for prefix, reason in SKIPPED.items():
        if line == prefix or line.startswith(prefix + " "):
            return reason
    return None


def _shell(walk: Walk, snippet: Snippet) -> None:
    cwd = walk.root
    for line in _lines(snippet.text):
        words = shlex.split(line)
        if words[0] == "cd":
            target = cwd / words[1]
            if not target.is_dir():  # made by a skipped line (git clone): the rest depends on it
                walk.skipped.append((line, "a folder only a skipped line makes"))
            cwd = target
            continue
        if not cwd.is_dir():
            walk.skipped.append((line, "runs in a folder only a skipped line makes"))
            continue
        if words[0] != "apipack":
            reason = _skip_reason(line)
            assert reason is not None, f"not an apipack command, and no reason to skip it: {line}"
            walk.skipped.append((line, reason))
            continue
        if words[1] == "build" and "./generated-package" in words:
            # the README never says how ./generated-package was made: like this
            _check(
                walk,
                cwd,
                "(setup) generate -o generated-package",
                ["generate", "spec.yml", "-o", "generated-package"],
            )
        _check(walk, cwd, re.sub(r"\s+", " ", line), words[1:])


@pytest.fixture(scope="module")
def walked(tmp_path_factory: pytest.TempPathFactory, fake: FakeLLM) -> Walk:
    root = tmp_path_factory.mktemp("readme")
    env = {"APIPACK_LLM_BASE_URL": fake.url, "APIPACK_LLM_RETRIES": "1"}
    walk = Walk(root, env)
    specs: dict[str, str] = {}
    for snippet in snippets():
        if snippet.lang == "yaml":
            _yaml(walk, snippet, specs)
        else:
            _shell(walk, snippet)
    return walk


def test_every_snippet_of_the_apipack_readme_runs(walked: Walk) -> None:
    commands = [command for command, _ in walked.ran]
    for expected in (
        'apipack init --name pdf_to_text --description "Extract text from PDF files"',
        "apipack generate function_spec.yml --language python --output ./my-pdf-service",
        "apipack generate spec.yml --dry-run",
        "apipack build ./generated-package --type docker --push",
        "apipack deploy --platform gcp-cloud-run",
        "apipack build --config project.apipack.yml",
        "apipack health",
    ):
        assert expected in commands, expected
    assert walked.specs == ["function_spec.yml", "spec.yml", "functions.yml", "multi-service.yml"]
    print("skipped, with reasons:")
    for line, reason in walked.skipped:
        print(f"  {line}  — {reason}")
    kinds = {reason for _, reason in walked.skipped}
    assert kinds <= {
        *SKIPPED.values(),
        *NOT_APIPACK_YAML.values(),
        "a folder only a skipped line makes",
        "runs in a folder only a skipped line makes",
    }


@pytest.mark.slow
def test_the_quick_start_package_passes_its_tests(walked: Walk) -> None:
    package = walked.root / "my-pdf-service/python/pdf_to_text"
    assert "PyPDF2>=3.0.0" in (package / "pyproject.toml").read_text()
    venv = walked.root / "quick-start-venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    install = subprocess.run(
        [python, "-m", "pip", "install", "-q", "--disable-pip-version-check", f"{package}[test]"],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert install.returncode == 0, install.stdout + install.stderr
    env = without_settings()
    for command in (
        ["-m", "pytest", "tests/", "--cov=src", "--cov-report=html"],  # the README's
        ["-m", "pytest", "tests/integration/"],  # the README's
    ):
        done = subprocess.run(
            [python, *command, "-p", "no:cacheprovider"],
            cwd=package,
            capture_output=True,
            text=True,
            timeout=600,
            env=env,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert " passed" in done.stdout.splitlines()[-1], done.stdout
