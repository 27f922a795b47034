"""What the no-op fast path trusts instead of reading: the generated tree's stat signature
(``run/treestate.py``) and the installed environment kept under a signature of the
distributions' metadata (``load/inputs.py``). Each must move when what it stands for moves."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path

from apipack_build.base import manifest
from apipack_build.base.fsio import FileHasher
from apipack_build.base.hashing import bytes_hash
from apipack_build.load import inputs
from apipack_build.run import treestate

IGNORE = {"python/pkg": ["**/__pycache__/**", ".venv/**"]}


def generated(output: Path, files: dict[str, str], *, written: set[str] | None = None) -> Path:
    """Write *files* (or those of them named *written*) into *output* and their manifest beside
    it; the manifest's path."""
    entries = {}
    for name, text in files.items():
        path = output / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if written is None or name in written:
            path.write_text(text, encoding="utf-8")
        entries[name] = manifest.Entry(bytes_hash(text.encode()), "task", "key")
    record = output.parent / ".apipack" / "manifest.json"
    manifest.write(record, "generated", entries)
    return record


def test_the_tree_signature_moves_with_any_file_or_folder(tmp_path: Path) -> None:
    output = tmp_path / "generated"
    files = {"python/pkg/a.py": "a\n", "python/pkg/src/b.py": "b\n"}
    record = generated(output, files)

    def take() -> treestate.TreeState | None:
        return treestate.take(record, output, "generated", IGNORE, FileHasher())

    def holds(state: treestate.TreeState) -> bool:
        return treestate.holds(record, output, state)

    (output / "python/pkg/src/__pycache__").mkdir()
    state = take()
    assert state is not None and state.clean and state.count == 2
    assert state.names() == set(files)
    assert holds(state)

    (output / "python/pkg/src/__pycache__/b.pyc").write_bytes(b"x")  # ignored, not walked
    (output / "python/pkg/.venv").mkdir()
    state = take()
    assert state is not None and holds(state)
    (output / "python/pkg/.venv/anything").write_text("x")
    assert holds(state)

    (output / "python/pkg/src/notes.txt").write_text("x")  # beside the generated files
    assert not holds(state)
    beside = take()
    assert beside is not None and not beside.clean

    os.utime(output / "python/pkg/a.py", ns=(1, 1))  # a touch: by content, it still holds
    assert not holds(beside)
    touched = take()
    assert touched is not None and holds(touched)
    os.utime(record)  # the manifest is part of it: a manifest edited since is read again
    assert not holds(touched)

    (output / "python/pkg/a.py").write_text("edited\n")
    assert take() is None
    record.write_text("{damaged")
    assert take() is None
    assert treestate.TreeState.from_json(beside.to_json()) == beside
    assert treestate.TreeState.from_json({"signature": 1}) is None


def test_a_build_takes_again_only_the_package_folders_it_wrote(tmp_path: Path) -> None:
    output = tmp_path / "generated"
    ignores = {"python/one": [], "python/two": []}
    files = {"python/one/a.py": "a\n", "python/two/b.py": "b\n"}
    record = generated(output, files)
    first = treestate.take(record, output, "generated", ignores, FileHasher())
    assert first is not None and set(first.shards) == {"", "python/one", "python/two"}

    edited = {**files, "python/one/a.py": "A\n"}  # this build writes into python/one only
    record = generated(output, edited, written={"python/one/a.py"})
    kept = {"python/two": first.shards["python/two"]}
    second = treestate.take(record, output, "generated", ignores, FileHasher(), keep=kept)
    assert second is not None and treestate.holds(record, output, second)
    assert second.shards["python/two"] is kept["python/two"]
    assert second.shards["python/one"] != first.shards["python/one"]
    assert second == treestate.take(record, output, "generated", ignores, FileHasher())

    # a kept shard that no longer names the manifest's files there is taken again
    record = generated(output, {**edited, "python/two/c.py": "c\n"}, written={"python/two/c.py"})
    third = treestate.take(record, output, "generated", ignores, FileHasher(), keep=kept)
    assert third is not None and third.count == 3 and treestate.holds(record, output, third)

    # a kept shard that no longer holds (a file touched meanwhile) fails the next look
    (output / "python/two/c.py").unlink()
    record = generated(output, edited, written=set())
    kept = {"python/two": first.shards["python/two"]}
    assert treestate.take(record, output, "generated", ignores, FileHasher(), keep=kept)
    os.utime(output / "python/two/b.py", ns=(1, 1))
    stale = treestate.take(record, output, "generated", ignores, FileHasher(), keep=kept)
    assert stale is not None and not treestate.holds(record, output, stale)


def test_a_vouch_answers_for_the_shards_it_knows_and_checks_the_others(tmp_path: Path) -> None:
    """``holds`` with a long-lived process's *vouch* (``_treewatch``): a shard it knows is taken
    as it says, unstatted; for another, it runs the stat check it is given."""
    output = tmp_path / "generated"
    ignores = {"python/one": [], "python/two": []}
    record = generated(output, {"python/one/a.py": "a\n", "python/two/b.py": "b\n"})
    state = treestate.take(record, output, "generated", ignores, FileHasher())
    assert state is not None
    (output / "python/two/b.py").write_text("edited\n")
    asked: list[str] = []

    def vouch(at: Path, shard: str, signature: str, check: Callable[[], bool]) -> bool:
        assert at == output and signature == state.shards[shard].signature
        asked.append(shard)
        return True if shard == "python/two" else check()

    assert treestate.holds(record, output, state, vouch)  # vouched for: not looked at
    assert sorted(asked) == ["", "python/one", "python/two"]
    assert not treestate.holds(record, output, state, lambda at, shard, sig, check: check())
    assert not treestate.holds(record, output, state)
    os.utime(record)  # the manifest's own signature is checked whatever the vouch says
    assert not treestate.holds(record, output, state, vouch)


def test_template_files_are_listed_as_rglob_lists_them(tmp_path: Path) -> None:
    """``inputs._files_below`` walks the folders' entries itself: the same files as
    ``rglob("*")`` and ``is_file()``, outside ``__pycache__``, links to folders not followed."""
    folder = tmp_path / "templates"
    for name in ("a/b/y.j2", "a/b/__pycache__/z.pyc", ".hidden/q", ".dot", "c/w", "x.j2"):
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text("t", encoding="utf-8")
    (folder / "c/to_folder").symlink_to(folder / "a")
    (folder / "c/to_file").symlink_to(folder / "x.j2")
    (folder / "c/broken").symlink_to(folder / "nowhere")
    os.mkfifo(folder / "c/fifo")
    (folder / "__pycache__").mkdir()
    (folder / "__pycache__/stale.j2").write_text("t", encoding="utf-8")

    def listed(below: Path) -> list[Path]:
        return sorted(p for p in below.rglob("*") if p.is_file() and "__pycache__" not in p.parts)

    found = inputs._files_below(folder)
    assert found == listed(folder)
    assert [p.relative_to(folder).as_posix() for p in found] == [
        ".dot",
        ".hidden/q",
        "a/b/y.j2",
        "c/to_file",
        "c/w",
        "x.j2",
    ]
    assert inputs._files_below(folder / "__pycache__") == listed(folder / "__pycache__") == []
    assert inputs._files_below(tmp_path / "missing") == []


def distribution(folder: Path, name: str, entry_points: str = "") -> Path:
    meta = folder / f"{name}-1.0.dist-info"
    meta.mkdir(parents=True)
    (meta / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    (meta / "entry_points.txt").write_text(entry_points)
    return meta


def test_the_site_signature_moves_with_the_distributions(tmp_path: Path) -> None:
    empty, site = tmp_path / "scripts", tmp_path / "site"
    empty.mkdir()
    meta = distribution(site, "one")
    before = inputs.site_signature([str(site)])
    # a folder without distributions (the script's, first on sys.path) does not count
    assert inputs.site_signature([str(empty), str(site), str(tmp_path / "absent")]) == before

    (meta / "entry_points.txt").write_text("[apipack.rules]\nmore = more:RULES\n")
    edited = inputs.site_signature([str(site)])
    assert edited != before
    distribution(empty, "two")
    assert inputs.site_signature([str(empty), str(site)]) != edited


def test_the_environment_is_recalled_only_while_its_signature_holds() -> None:
    scanned = inputs.Environment.scan(tuple(sys.path))
    recorded = scanned.to_json()
    assert inputs.Environment.from_json(recorded) == scanned
    assert json.loads(json.dumps(recorded)) == recorded  # the fingerprint keeps it as written
    assert "apipack.providers:ollama=apipack_build.llm:OllamaProvider" in scanned.entry_points
    assert inputs.recall_environment({**recorded, "signature": "xxh3:moved"}) is False
    assert inputs.recall_environment({"signature": "damaged"}) is False


class _WritesMeanwhile(FileHasher):
    """A stat cache that, as the tree state checks the first file's content, has a file appear
    beside the generated ones: something writing into the output while a build takes its state."""

    def __init__(self, stray: Path) -> None:
        super().__init__()
        self.stray = stray

    def holds(self, path: str, signature: object, digest: str) -> bool:
        if not self.stray.exists():
            self.stray.write_text("written meanwhile\n")
        return super().holds(path, signature, digest)  # type: ignore[arg-type]


def test_a_file_written_while_the_state_is_taken_is_not_vouched_for(tmp_path: Path) -> None:
    """The folders' stats in the signature are those taken before each was listed: a file that
    appears after the listing leaves a state that does not hold (the caller then looks by
    content), never a clean state that hides it."""
    output = tmp_path / "generated"
    record = generated(output, {"python/pkg/a.py": "a\n", "python/pkg/src/b.py": "b\n"})
    stray = output / "python/pkg/src/stray.py"
    # the folder last changed long ago: a file added now moves its stat however coarse the
    # clock of the file system (one that just changed may keep its time through another change)
    os.utime(stray.parent, ns=(1, 1))
    state = treestate.take(record, output, "generated", IGNORE, _WritesMeanwhile(stray))
    assert stray.exists()
    assert state is None or not treestate.holds(record, output, state)
    again = treestate.take(record, output, "generated", IGNORE, FileHasher())
    assert again is not None and not again.clean and treestate.holds(record, output, again)
