"""The bundled examples as TypeScript packages: their TypeScript implementations pass the check
every body gets and their own examples (run by Node, types stripped in process), and each
generated package passes, from a clean copy of its folder, ``npm ci`` (from the shared npm
cache), strict ``tsc --noEmit``, its own ESLint config, prettier's check and its generated
tests.

The TypeScript target offers REST and the CLI on this branch; the specs ask for every interface,
so the build names those two on the command line (which beats the spec)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from apipack_rules.typescript._implementation import check_code
from apipack_rules.typescript._verify import example_run
from helpers import run_apipack
from kitchen import run
from ts_kitchen import NPM_CACHE, npm, npm_env

from apipack_build.ask.verify import verify
from apipack_build.load.registry import registry
from apipack_build.spec import Function, load_spec

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("document-tools", "html_to_pdf", "image_resize", "pdf_to_text")


def _functions() -> list[object]:
    found = []
    for spec in sorted((REPO / "specs").glob("*.yml")):
        for function in load_spec(spec, REPO, registry().vocabulary()).functions:
            found.append(pytest.param(function, id=f"{spec.stem}.{function.name}"))
    return found


def _typescript(function: Function) -> str:
    if "typescript" in function.code:
        return function.code["typescript"]
    return (REPO / function.implementation["typescript"]).read_text(encoding="utf-8")


@pytest.mark.parametrize("function", _functions())
def test_each_typescript_implementation_passes_its_check_and_examples(function: Function) -> None:
    npm()  # Node runs the examples
    code = _typescript(function)
    assert check_code(code, function) is None
    run = example_run(code, function)
    assert run is not None
    verdict = verify(run, timeout=60)
    assert (verdict.problem, verdict.unverified) == ("", "")


@pytest.mark.slow
def test_bundled_examples_build_as_typescript_packages_that_pass_their_tests(
    tmp_path: Path,
) -> None:
    npm_path = npm()
    project = tmp_path / "examples"
    shutil.copytree(REPO / "specs", project / "specs")
    shutil.copy(REPO / "apipack.yml", project / "apipack.yml")
    done = run_apipack(
        project,
        *("generate", "--offline", "-l", "typescript"),
        env={"APIPACK_LLM_BASE_URL": "http://127.0.0.1:9"},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    generated = project / "generated" / "typescript"
    assert sorted(p.name for p in generated.iterdir()) == sorted(PACKAGES)
    NPM_CACHE.mkdir(parents=True, exist_ok=True)
    for name in PACKAGES:
        package = tmp_path / "clean" / name  # a clean copy: nothing but what apipack wrote
        shutil.copytree(generated / name, package)
        for step in (
            ["ci", "--prefer-offline"],
            ["exec", "--", "tsc", "--noEmit", "-p", "."],
            ["run", "lint"],
            ["run", "format:check"],
            ["test"],
        ):
            done = run([npm_path, *step], package, env=npm_env())
            assert done.returncode == 0, f"{name}: npm {' '.join(step)}:\n{done.stdout[-4000:]}"
        assert "# fail 0" in done.stdout


@pytest.mark.slow
def test_the_javascript_flavour_runs_its_tests_with_node_alone(tmp_path: Path) -> None:
    """``language: javascript`` from the same spec, with no JavaScript of its own: the
    TypeScript implementations with their types erased; plain ESM that Node runs as it is."""
    npm_path = npm()
    project = tmp_path / "examples"
    shutil.copytree(REPO / "specs", project / "specs")
    done = run_apipack(
        project,
        *("generate", "specs/document_tools.yml", "--offline", "-l", "javascript"),
        *("-o", "generated"),
        env={"APIPACK_LLM_BASE_URL": "http://127.0.0.1:9"},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    package = tmp_path / "clean"
    shutil.copytree(project / "generated/javascript/document-tools", package)
    files = sorted(p.relative_to(package).as_posix() for p in package.rglob("*") if p.is_file())
    assert not [f for f in files if f.endswith(".ts") or f == "tsconfig.json"]
    assert "src/functions/word_count.js" in files and "test/rest_service.test.js" in files
    assert "typescript" not in (package / "package-lock.json").read_text(encoding="utf-8")
    for step in (["ci", "--prefer-offline"], ["run", "lint"], ["test"]):
        done = run([npm_path, *step], package, env=npm_env())
        assert done.returncode == 0, f"npm {' '.join(step)}:\n{done.stdout[-4000:]}"
    assert "# fail 0" in done.stdout and "# pass 119" in done.stdout
