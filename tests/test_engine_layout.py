"""The engine's folders are the stages of its pipeline, and its imports flow one way.

The graph is read from the modules' own ``import`` statements (every one: at module level, in a
function, under ``TYPE_CHECKING``), so a cycle hidden behind a lazy import counts too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import apipack_build

ENGINE = Path(apipack_build.__file__).resolve().parent

#: the stage folders, earliest first: a stage imports only itself and earlier ones
STAGES = ("base", "load", "ask", "plan", "run", "daemon")
#: top-level modules every stage may use: the spec language, settings, rules API, LLM client
SHARED = ("errors", "spec", "settings", "rules", "llm")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ENGINE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path: Path, modules: set[str]) -> set[str]:
    """The engine modules *path* imports (``from . import x`` names module ``x``)."""
    name = module_name(path)
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            target = ".".join([*base, *([node.module] if node.module else [])])
            for alias in node.names:
                submodule = f"{target}.{alias.name}"
                found.add(submodule if submodule in modules else target)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {m for m in found if m in modules and m != name}


def import_graph() -> dict[str, set[str]]:
    paths = sorted(ENGINE.rglob("*.py"))
    modules = {module_name(p) for p in paths}
    return {module_name(p): imported(p, modules) for p in paths}


def cycle(graph: dict[str, set[str]]) -> list[str]:
    """One import cycle of *graph* as a path that returns to its start, or [] when none."""
    done: set[str] = set()
    path: list[str] = []

    def visit(node: str) -> list[str]:
        if node in path:
            return [*path[path.index(node) :], node]
        if node in done:
            return []
        path.append(node)
        for target in sorted(graph[node]):
            found = visit(target)
            if found:
                return found
        path.pop()
        done.add(node)
        return []

    for node in sorted(graph):
        found = visit(node)
        if found:
            return found
    return []


def stage(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 2 else None


def test_the_cycle_finder_finds_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycle(graph) == ["a", "b", "c", "a"]
    assert cycle({"a": {"b"}, "b": set()}) == []


def test_the_graph_sees_lazy_and_relative_imports() -> None:
    graph = import_graph()
    assert "apipack_build.run.build" in graph["apipack_build.engine"]  # inside prepare()
    assert "apipack_build.base.manifest" in graph["apipack_build.run.diff"]  # from ..base import


def test_the_engine_has_no_import_cycle() -> None:
    assert cycle(import_graph()) == []


def test_stages_import_only_earlier_stages_and_the_shared_modules() -> None:
    assert sorted(p.name for p in ENGINE.iterdir() if (p / "__init__.py").is_file()) == sorted(
        STAGES
    )
    shared = {f"apipack_build.{name}" for name in SHARED}
    wrong = []
    for module, targets in sorted(import_graph().items()):
        own = stage(module)
        if own is None:
            continue
        for target in sorted(targets):
            other = stage(target)
            allowed = (
                target in shared if other is None else STAGES.index(other) <= STAGES.index(own)
            )
            if not allowed:
                wrong.append(f"{module} imports {target}")
    assert wrong == []
