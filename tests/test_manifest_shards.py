"""The manifest kept per package folder: what a build writes is byte for byte one JSON dump of
the whole, and the kept shards are trusted only for the manifest bytes they were written with."""

from __future__ import annotations

import json
from pathlib import Path

from helpers import Project

from apipack_build.base import manifest
from apipack_build.base.hashing import bytes_hash
from apipack_build.base.manifest import SHARDS_FILE, Entry, Shard


def _files(*names: str) -> dict[str, Entry]:
    return {name: Entry(f"xxh3:{len(name)}", f"task/{name}", "key") for name in names}


def _whole(outputs: dict[str, dict[str, Entry]]) -> bytes:
    data = {
        "version": manifest.MANIFEST_VERSION,
        "outputs": {
            out: {name: vars(files[name]) for name in files} for out, files in outputs.items()
        },
    }
    return (json.dumps(data, sort_keys=True, separators=(",", ":")) + "\n").encode()


def test_a_manifest_written_by_shards_is_one_json_dump_of_the_whole(tmp_path: Path) -> None:
    path = tmp_path / "manifest.json"
    # folders whose names sort differently with and without the "/" that follows them
    ours = _files("py/a-b/x.py", "py/a/z.py", "py/a/sub/y.py", "py/ab/w.py", "top.txt")
    others = {"a-first": _files("ts/p/i.ts"), "z-last": _files("go/q/m.go")}
    manifest.write(path, "a-first", others["a-first"])
    manifest.write(path, "z-last", others["z-last"])
    manifest.write(path, "generated", ours)
    assert path.read_bytes() == _whole({**others, "generated": ours})
    assert manifest.read(path, "generated") == ours

    kept = manifest.read_shards(path, "generated")
    assert kept is not None and set(kept.folders) == {"py/a-b", "py/a", "py/ab", "top.txt"}
    changed = {**kept.folders, "py/a": Shard("-", manifest.fragment(_files("py/a/new.py")))}
    manifest.write_shards(path, "generated", changed, kept)
    expected = {**_files("py/a-b/x.py", "py/ab/w.py", "top.txt"), **_files("py/a/new.py")}
    assert path.read_bytes() == _whole({**others, "generated": expected})


def test_shards_of_other_manifest_bytes_are_not_trusted(tmp_path: Path) -> None:
    path = tmp_path / "manifest.json"
    manifest.write(path, "out", _files("py/a/x.py"))
    data = json.loads(path.read_text())
    data["outputs"]["out"]["py/a/y.py"] = vars(Entry("xxh3:1", "t", "k"))
    path.write_text(json.dumps(data))  # edited by hand: the shards describe other bytes
    kept = manifest.read_shards(path, "out")
    assert kept is not None and set(kept.folders["py/a"].entries()) == {"py/a/x.py", "py/a/y.py"}

    (tmp_path / SHARDS_FILE).write_text("damaged\n")
    assert set(manifest.read(path, "out")) == {"py/a/x.py", "py/a/y.py"}
    assert manifest.read_shards(path, "out") is not None  # from the manifest itself


def test_a_full_build_names_the_memo_line_each_package_folder_was_made_from(
    project: Project,
) -> None:
    """Every package folder's text in the kept manifest names the plan memo line of its spec
    file, those planned afresh too: the next edit copies their text instead of serializing
    the whole manifest again (at 10,000 functions, seconds and 50 MB more)."""
    project.write_spec({"gamma": "Third"}, "specs/more.yml", name="more")
    project.generate()

    memo_lines = (project.state / "plan.json").read_bytes().split(b"\n")[1:-1]
    shards = (project.state / SHARDS_FILE).read_text(encoding="utf-8").split("\n")[1:-1]
    sources = [line.split("\t")[1] for line in shards]
    assert len(sources) == 2
    assert set(sources) == {bytes_hash(line) for line in memo_lines}
