"""Interfaces are independent: adding one to a spec renders that interface's files, and the
files the others own stay exactly as they were (same bytes, same mtime)."""

from __future__ import annotations

from pathlib import Path

import pytest
from kitchen import ALL_INTERFACES, SPEC, generate

OTHERS = ("cli", "rest")
#: files of the package itself that do depend on the set of interfaces
SHARED = {
    "README.md",
    "pyproject.toml",
    "Dockerfile",
    "docker-compose.yml",
    "kubernetes/deployment.yaml",
    "kubernetes/service.yaml",
    "src/kitchen_sink/service/app.py",
}


def _snapshot(package: Path) -> dict[str, tuple[bytes, int]]:
    return {
        p.relative_to(package).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in package.rglob("*")
        if p.is_file()
    }


def _owner(path: str) -> str:
    """The interface a generated file belongs to, by the layout's naming."""
    parts = path.split("/")
    if parts[0] == "src" and len(parts) > 3 and parts[2] in ALL_INTERFACES:
        return parts[2]
    if parts[0] == "tests":
        name = parts[-1].removeprefix("test_")
        return next((i for i in ALL_INTERFACES if name.startswith(i + "_")), "core")
    return "core"


@pytest.mark.parametrize("added", ["graphql", "grpc", "websocket"])
def test_adding_an_interface_touches_only_its_files(tmp_path: Path, added: str) -> None:
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs/kitchen.yml").write_text(SPEC, encoding="utf-8")
    package = tmp_path / "generated/python/kitchen-sink"

    def built_with(*interfaces: str) -> dict[str, tuple[bytes, int]]:
        done = generate(tmp_path, interfaces=interfaces)
        assert done.returncode == 0, done.stdout + done.stderr
        return _snapshot(package)

    before = built_with(*OTHERS)
    after = built_with(*OTHERS, added)

    new = sorted(set(after) - set(before))
    assert new and all(_owner(p) in (added, "core") for p in new), new
    assert set(before) <= set(after)
    changed = sorted(p for p in before if after[p] != before[p])
    assert set(changed) <= SHARED, changed
    untouched = [
        p for p in before if _owner(p) in OTHERS or p.startswith("src/kitchen_sink/functions/")
    ]
    assert untouched and all(after[p] == before[p] for p in untouched)
