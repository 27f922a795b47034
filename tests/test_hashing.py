"""The hashing contract (canonical JSON, tagged xxh3 hashes) and the file primitives under it:
the stat-cached ``FileHasher``, ``confined`` output paths and ``write_atomic``."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
import xxhash

from apipack_build.base.fsio import (
    STAT_SHARDS,
    Confined,
    FileHasher,
    ParsedFiles,
    WritePool,
    confined,
    resolved,
    stat_signature,
    write_atomic,
)
from apipack_build.base.hashing import bytes_hash, canonical_json, content_hash
from apipack_build.errors import ConfigError

# -- canonical_json --


def test_canonical_json_sorts_keys_and_drops_whitespace() -> None:
    assert (
        canonical_json({"b": [1, 2], "a": {"d": None, "c": True}})
        == b'{"a":{"c":true,"d":null},"b":[1,2]}'
    )


def test_canonical_json_is_utf8_not_ascii_escapes() -> None:
    assert canonical_json({"name": "café ✓"}) == '{"name":"café ✓"}'.encode()


def test_canonical_json_writes_bytes_tuples_and_sets_in_fixed_forms() -> None:
    assert canonical_json({"raw": b"\x00\xff"}) == b'{"raw":{"$bytes":"AP8="}}'
    assert canonical_json((1, (2, 3))) == canonical_json([1, [2, 3]]) == b"[1,[2,3]]"
    assert canonical_json({"s": {"b", "a", "c"}}) == b'{"s":["a","b","c"]}'


def test_canonical_json_refuses_what_it_cannot_write_stably() -> None:
    with pytest.raises(TypeError, match="cannot hash a value of type object"):
        canonical_json({"x": object()})


# -- content_hash, bytes_hash --


def test_content_hash_is_tagged_xxh3_128_of_canonical_json() -> None:
    value = {"z": 1, "a": ["é", 2.5]}

    digest = content_hash(value)

    assert digest == "xxh3:" + xxhash.xxh3_128_hexdigest(canonical_json(value))
    assert len(digest) == len("xxh3:") + 32


def test_content_hash_ignores_key_order_but_not_values() -> None:
    assert content_hash({"a": 1, "b": 2}) == content_hash({"b": 2, "a": 1})
    assert content_hash({"a": 1}) != content_hash({"a": 2})
    assert content_hash({"a": 1}) != content_hash({"a": "1"})
    assert content_hash([1, 2]) != content_hash([2, 1])


def test_bytes_hash_matches_known_digest() -> None:
    assert bytes_hash(b"") == "xxh3:99aa06d3014798d86001c324468d497f"
    assert bytes_hash(b"{}") == content_hash({})


# -- FileHasher --


def test_hasher_hashes_contents_and_reports_missing_files(tmp_path: Path) -> None:
    path = tmp_path / "f.txt"
    hasher = FileHasher()

    assert hasher.hash(path) is None
    assert hasher.hash(tmp_path / "f.txt" / "below-a-file") is None
    path.write_bytes(b"hello\n")
    assert hasher.hash(path) == bytes_hash(b"hello\n")


def test_hasher_sees_a_touch_as_no_change(tmp_path: Path) -> None:
    path = tmp_path / "f.txt"
    path.write_bytes(b"hello\n")
    hasher = FileHasher()
    before = hasher.hash(path)

    os.utime(path, ns=(5 * 10**18, 5 * 10**18))

    assert hasher.hash(path) == before


def test_hasher_sees_new_contents_with_the_same_size_and_mtime(tmp_path: Path) -> None:
    path = tmp_path / "f.txt"
    path.write_bytes(b"hello\n")
    hasher = FileHasher()
    hasher.hash(path)
    mtime = path.stat().st_mtime_ns

    path.write_bytes(b"jello\n")
    os.utime(path, ns=(mtime, mtime))

    assert hasher.hash(path) == bytes_hash(b"jello\n")


def test_hasher_trusts_its_cache_only_while_the_stat_signature_holds(tmp_path: Path) -> None:
    """A saved digest is reused for an unchanged file (no re-read), and dropped once the file's
    signature moves. A deliberately wrong digest makes the reuse visible."""
    cache, path = tmp_path / "filestat.json", tmp_path / "f.txt"
    path.write_bytes(b"hello\n")
    first = FileHasher(cache)
    first.remember(path, "xxh3:remembered")
    first.save()

    assert FileHasher(cache).hash(path) == "xxh3:remembered"
    os.utime(path, ns=(5 * 10**18, 5 * 10**18))
    assert FileHasher(cache).hash(path) == bytes_hash(b"hello\n")


def _fields(path: Path) -> tuple[int, int, int, int]:
    """A file's stat signature as the tree state takes it (``treestate._stat_fields``)."""
    found = path.stat()
    return found.st_mtime_ns, found.st_ctime_ns, found.st_size, found.st_ino


def test_hasher_holds_vouches_by_the_stat_given_else_hashes(tmp_path: Path) -> None:
    """``holds`` trusts what the cache knows of the signature it is given (no look at the
    file), and hashes the file when it knows nothing of that signature. A deliberately wrong
    remembered digest makes the trust visible."""
    path = tmp_path / "f.txt"
    path.write_bytes(b"hello\n")
    hasher = FileHasher()
    hasher.remember(path, "xxh3:remembered")
    taken = _fields(path)

    assert hasher.holds(str(path), taken, "xxh3:remembered")
    assert not hasher.holds(str(path), taken, bytes_hash(b"hello\n"))

    path.write_bytes(b"jello\n")  # a write after the stat was taken: the stat still vouches
    assert hasher.holds(str(path), taken, "xxh3:remembered")
    # a signature it does not know (or none): the file is hashed
    assert hasher.holds(str(path), (1, 2, 3, 4), bytes_hash(b"jello\n"))
    assert hasher.holds(str(path), None, bytes_hash(b"jello\n"))
    assert not hasher.holds(str(tmp_path / "gone.txt"), None, bytes_hash(b"jello\n"))


def test_hasher_survives_a_damaged_or_foreign_cache(tmp_path: Path) -> None:
    path = tmp_path / "f.txt"
    path.write_bytes(b"hello\n")
    cache = tmp_path / "filestat.json"
    for damaged in (
        "{not json",
        '{"version": 99, "files": {}}',
        '{"version": 1, "files": 3}',
        '{"version": 1, "files": {"x": []}}',
        "[]",
    ):
        cache.write_text(damaged)
        assert FileHasher(cache).hash(path) == bytes_hash(b"hello\n"), damaged


def test_hasher_saves_only_files_that_still_exist(tmp_path: Path) -> None:
    cache, kept, gone = tmp_path / "filestat.json", tmp_path / "kept", tmp_path / "gone"
    kept.write_bytes(b"k")
    gone.write_bytes(b"g")
    first = FileHasher(cache)
    first.hash(kept)
    first.hash(gone)
    first.save()
    gone.unlink()

    # the next build does not see it: what a build hashed itself is trusted to exist (the
    # check would cost a stat per file), anything else must still be there
    later = FileHasher(cache)
    later.hash(kept)
    (tmp_path / "new").write_bytes(b"n")
    later.hash(tmp_path / "new")
    later.save()

    text = "".join(shard.read_text() for shard in (tmp_path / STAT_SHARDS).glob("*.json"))
    assert str(kept) in text and str(tmp_path / "new") in text
    assert str(gone) not in text


def test_hasher_keeps_unseen_files_that_are_still_there(tmp_path: Path) -> None:
    """Files a build did not look at are kept while their folder lists them (each folder is
    listed once), and dropped with their folder, or when a file stands where it was."""
    cache, top = tmp_path / "filestat.json", tmp_path / "a" / "b"  # top/c: in top's shard
    (top / "c").mkdir(parents=True)
    x, y, z = top / "x", top / "y", top / "c" / "z"
    for path in (x, y, z):
        path.write_bytes(path.name.encode())
    first = FileHasher(cache)
    for path in (x, y, z):
        first.hash(path)
    first.save()
    y.unlink()
    z.unlink()
    (top / "c").rmdir()
    (top / "c").write_bytes(b"now a file")

    later = FileHasher(cache)
    (top / "new").write_bytes(b"n")
    later.hash(top / "new")  # its shard changes: saved, each entry checked
    later.save()

    text = "".join(shard.read_text() for shard in (tmp_path / STAT_SHARDS).glob("*.json"))
    assert str(x) in text and str(top / "new") in text
    assert str(y) not in text and str(z) not in text


def test_hasher_without_a_cache_file_writes_nothing(tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"x")
    hasher = FileHasher()
    hasher.hash(tmp_path / "f")

    hasher.save()

    assert sorted(p.name for p in tmp_path.iterdir()) == ["f"]


# -- confined --


def test_confined_joins_relative_posix_paths(tmp_path: Path) -> None:
    assert confined(tmp_path, "a/b/c.txt") == tmp_path / "a" / "b" / "c.txt"
    assert confined(tmp_path, "./a//b.txt") == tmp_path / "a" / "b.txt"


@pytest.mark.parametrize(
    "relative", ["", ".", "/etc/passwd", "../x", "a/../../x", "a/../b", "a\\b.txt", "..\\x"]
)
def test_confined_refuses_paths_that_could_leave_the_folder(tmp_path: Path, relative: str) -> None:
    with pytest.raises(ConfigError, match="refusing to write"):
        confined(tmp_path, relative)


def test_confined_refuses_a_link_that_leads_outside(tmp_path: Path) -> None:
    root, outside = tmp_path / "out", tmp_path / "elsewhere"
    root.mkdir()
    outside.mkdir()
    (root / "link").symlink_to(outside, target_is_directory=True)

    with pytest.raises(ConfigError, match="a link leads outside"):
        confined(root, "link/x.txt")


def test_confined_of_many_paths_checks_a_folder_once_and_each_file_that_is_a_link(
    tmp_path: Path,
) -> None:
    root, outside = tmp_path / "out", tmp_path / "elsewhere"
    (root / "pkg").mkdir(parents=True)
    outside.mkdir()
    (root / "link").symlink_to(outside, target_is_directory=True)
    writable = Confined(root)

    assert writable("pkg/a.txt") == root / "pkg" / "a.txt"
    (root / "pkg" / "b.txt").symlink_to(outside / "b.txt")  # after its folder was checked
    with pytest.raises(ConfigError, match="a link leads outside"):
        writable("pkg/b.txt")
    with pytest.raises(ConfigError, match="a link leads outside"):
        writable("link/x.txt")
    with pytest.raises(ConfigError, match="refusing to write"):
        writable("pkg/../../x.txt")


# -- write_atomic --


def test_write_atomic_creates_folders_and_replaces_whole_files(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "f.txt"

    write_atomic(path, b"first\n")
    old_inode = path.stat().st_ino
    write_atomic(path, b"second\n")

    assert path.read_bytes() == b"second\n"
    assert path.stat().st_ino != old_inode  # renamed into place, never written in place
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert sorted(p.name for p in path.parent.iterdir()) == ["f.txt"]


def test_write_atomic_leaves_the_old_file_and_no_temporary_on_failure(tmp_path: Path) -> None:
    path = tmp_path / "f.txt"
    path.write_bytes(b"intact\n")

    with pytest.raises(TypeError):
        write_atomic(path, "not bytes")  # type: ignore[arg-type]

    assert path.read_bytes() == b"intact\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.txt"]


def test_a_write_pool_writes_every_file_whole_and_raises_the_first_failure(
    tmp_path: Path,
) -> None:
    paths = [tmp_path / "pkg" / f"f{index}.txt" for index in range(20)]
    paths[3].parent.mkdir()
    paths[3].write_bytes(b"old\n")
    blocked = tmp_path / "file"
    blocked.write_bytes(b"not a folder\n")

    with pytest.raises(NotADirectoryError), WritePool() as pool:
        for index, path in enumerate(paths):
            pool.write(str(path), f"{index}\n".encode())
        pool.write(str(blocked / "a.txt"), b"a\n")  # its folder is a file: it fails
        pool.write(str(blocked / "b.txt"), b"b\n")

    assert [path.read_bytes() for path in paths] == [f"{i}\n".encode() for i in range(20)]
    assert sorted(p.name for p in (tmp_path / "pkg").iterdir()) == sorted(p.name for p in paths)
    assert blocked.read_bytes() == b"not a folder\n"
    assert pool.failed == {str(blocked / "a.txt"), str(blocked / "b.txt")}


def test_hasher_reads_and_writes_only_the_shards_of_the_folders_it_touches(tmp_path: Path) -> None:
    """The stat cache is kept per folder: a build that hashes files of one folder rewrites that
    folder's shard only, and a damaged shard costs its files a re-hash, nothing more."""
    project = tmp_path / "project"
    cache = project / ".apipack" / "filestat.json"
    files = {name: project / "out" / name / "f.txt" for name in ("a", "b")}
    for name, path in files.items():
        path.parent.mkdir(parents=True)
        path.write_bytes(name.encode())
    first = FileHasher(cache)
    for path in files.values():
        first.remember(path, f"xxh3:{path.parent.name}")
    first.save()
    shards = sorted((project / ".apipack" / STAT_SHARDS).glob("*.json"))
    assert len(shards) == 2
    before = {shard: shard.stat().st_ino for shard in shards}  # rewritten: a new file

    later = FileHasher(cache)
    assert later.hash(files["a"]) == "xxh3:a"  # from its shard: not read again
    files["a"].write_bytes(b"changed")
    assert later.hash(files["a"]) == bytes_hash(b"changed")
    later.save()
    moved = [shard for shard in shards if shard.stat().st_ino != before[shard]]
    assert len(moved) == 1

    for shard in shards:
        shard.write_text("{not json")
    assert FileHasher(cache).hash(files["b"]) == bytes_hash(b"b")


def test_hasher_keeps_of_the_files_outside_the_project_only_those_it_hashed(
    tmp_path: Path,
) -> None:
    """A moved or copied project's stat cache names the files of its old place: they are
    outside the project now, and dropped by the first build that saves, though it learnt
    nothing new (else every build reads them again)."""
    project = tmp_path / "project"
    cache = project / ".apipack" / "filestat.json"
    old, template = tmp_path / "old" / "out.py", tmp_path / "templates" / "t.j2"
    for path in (old, template):
        path.parent.mkdir(parents=True)
        path.write_bytes(path.name.encode())
    first = FileHasher(cache)
    first.hash(old)
    first.hash(template)
    first.save()

    later = FileHasher(cache)
    assert later.hash(template) == bytes_hash(b"t.j2")
    later.save()
    text = "".join(shard.read_text() for shard in (cache.parent / STAT_SHARDS).glob("*.json"))
    assert str(template) in text
    assert str(old) not in text
    shards = {shard: shard.stat().st_ino for shard in (cache.parent / STAT_SHARDS).glob("*")}

    again = FileHasher(cache)  # the same files: nothing to drop, nothing written
    again.hash(template)
    again.save()
    assert {shard: shard.stat().st_ino for shard in shards} == shards


def test_parsed_files_are_kept_while_their_signature_holds_and_only_the_last_ones(
    tmp_path: Path,
) -> None:
    """What a module made of a state file is used again only for the same version of the file,
    and only for the files read last (one project per process, as a rule)."""
    paths = [tmp_path / name for name in ("a", "b", "c")]
    for path in paths:
        path.write_text(path.name)
    parsed: ParsedFiles[str] = ParsedFiles(size=2)
    for path in paths:
        parsed.keep(str(path), stat_signature(path), path.read_text())

    assert parsed.get(str(paths[0]), stat_signature(paths[0])) is None  # the oldest: dropped
    assert parsed.get(str(paths[1]), stat_signature(paths[1])) == "b"
    write_atomic(paths[2], b"changed")
    assert parsed.get(str(paths[2]), stat_signature(paths[2])) is None
    assert parsed.get(str(paths[1]), None) is None  # no such file any more
    parsed.keep(str(paths[0]), None, "gone")  # a file that is not there is not kept
    assert parsed.get(str(paths[1]), stat_signature(paths[1])) == "b"


def test_resolved_paths_are_what_path_resolve_gives(tmp_path: Path) -> None:
    """Spec paths are resolved a folder at a time: through a linked folder, a linked file, a
    ``..`` and a link that leads out of the project, each as ``Path.resolve`` resolves it."""
    project, elsewhere = tmp_path / "project", tmp_path / "elsewhere"
    (project / "specs").mkdir(parents=True)
    elsewhere.mkdir()
    for path in (project / "specs" / "a.yml", project / "specs" / "b.yml", elsewhere / "c.yml"):
        path.write_text("x")
    (project / "linked").symlink_to(project / "specs")
    (project / "specs" / "out.yml").symlink_to(elsewhere / "c.yml")
    paths = [
        project / "specs" / "a.yml",
        project / "linked" / "b.yml",
        project / "specs" / "out.yml",
        project / "linked" / ".." / "specs" / "a.yml",
        Path("/"),
    ]

    assert resolved(paths) == [path.resolve() for path in paths]
    assert resolved(paths)[2] == (elsewhere / "c.yml").resolve()
