"""``apipack.lock`` read and written through ``.apipack/lock.json``: the same lock bytes as one
YAML dump of the whole lock, the same entries as parsing it, and the lock itself (not the index)
whenever its bytes are not the ones the index was made for."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from apipack_build.ask.store import (
    LOCK_FIELDS,
    LOCK_HEADER,
    LOCK_INDEX,
    LockIndex,
    _LockDumper,
    read_lock,
    write_lock,
)
from apipack_build.base.lookup import STATE_DIR

Entries = dict[tuple[str, str, str], dict[str, Any]]


def _entries(count: int) -> Entries:
    found: Entries = {}
    for k in range(count):
        entry = {
            "package": "tools",
            "function": f"fn_{k}",
            "language": "python",
            "provider": "ollama",
            "model": "mistral:7b",
            "digest": "sha256:" + "a" * 64,
            "request": f"xxh3:{k:032x}",
            "key": f"xxh3:{k + 1:032x}",
            # block text, a long line, a non-ASCII letter, a line that looks like YAML
            "code": f"def fn_{k}() -> str:\n    return 'é{' long' * 30}'\n# key: value\n",
        }
        found[("tools", f"fn_{k}", "python")] = entry
    return found


def _one_dump(entries: Entries) -> bytes:
    """The lock as apipack wrote it before the index: one YAML document."""
    body = {
        "version": 1,
        "entries": [{n: entries[k][n] for n in LOCK_FIELDS} for k in sorted(entries)],
    }
    text = yaml.dump(body, Dumper=_LockDumper, sort_keys=False, allow_unicode=True, width=100)
    return (LOCK_HEADER + text).encode("utf-8")


def test_the_lock_has_the_bytes_of_one_dump_and_reads_back_through_its_index(
    tmp_path: Path,
) -> None:
    lock = tmp_path / "apipack.lock"
    entries = _entries(5)
    assert write_lock(lock, entries)
    assert lock.read_bytes() == _one_dump(entries)
    assert (tmp_path / STATE_DIR / LOCK_INDEX).is_file()
    assert read_lock(lock) == entries

    changed = {**entries, ("tools", "fn_2", "python"): {**entries[("tools", "fn_2", "python")]}}
    changed[("tools", "fn_2", "python")]["code"] = "def fn_2() -> str:\n    return 'new'\n"
    del changed[("tools", "fn_4", "python")]
    assert write_lock(lock, changed)  # two entries from their kept text, one dumped anew
    assert lock.read_bytes() == _one_dump(changed)
    assert read_lock(lock) == changed
    assert not write_lock(lock, changed)

    assert write_lock(lock, {})
    assert lock.read_bytes() == _one_dump({})
    assert read_lock(lock) == {}


def test_a_lock_edited_by_hand_is_read_from_its_own_text(tmp_path: Path) -> None:
    lock = tmp_path / "apipack.lock"
    entries = _entries(3)
    write_lock(lock, entries)
    edited = lock.read_text(encoding="utf-8").replace("return 'é", "return 'E", 1)
    lock.write_text(edited, encoding="utf-8")
    found = read_lock(lock)
    assert found[("tools", "fn_0", "python")]["code"].startswith(
        "def fn_0() -> str:\n    return 'E"
    )
    assert found[("tools", "fn_1", "python")] == entries[("tools", "fn_1", "python")]
    # the next write starts from the lock as it is, not from the stale index
    write_lock(lock, found)
    assert lock.read_text(encoding="utf-8") == edited


def test_a_damaged_index_is_ignored(tmp_path: Path) -> None:
    lock = tmp_path / "apipack.lock"
    entries = _entries(2)
    write_lock(lock, entries)
    (tmp_path / STATE_DIR / LOCK_INDEX).write_text("{not json", encoding="utf-8")
    assert read_lock(lock) == entries
    assert not write_lock(lock, entries)
    assert read_lock(lock) == entries


def _packages(names: list[str], count: int) -> Entries:
    found: Entries = {}
    for name in names:
        for (_, function, language), entry in _entries(count).items():
            found[(name, function, language)] = {**entry, "package": name}
    return found


def test_packages_kept_unparsed_give_the_bytes_of_one_dump(tmp_path: Path) -> None:
    lock = tmp_path / "apipack.lock"
    # "tools" and "tools-x" sort differently as names and as the lock's rows; both are kept
    entries = _packages(["tools-x", "tools", "alpha"], 3)
    write_lock(lock, entries)
    changed = {k: dict(v) for k, v in entries.items()}
    changed[("alpha", "fn_1", "python")]["code"] = "def fn_1() -> str:\n    return 'new'\n"
    changed[("beta", "fn_0", "python")] = {
        **entries[("alpha", "fn_0", "python")],
        "package": "beta",
    }
    assert write_lock(lock, changed, same=frozenset({"tools", "tools-x"}))
    assert lock.read_bytes() == _one_dump(changed)
    found = read_lock(lock)
    assert isinstance(found, LockIndex)
    assert found[("beta", "fn_0", "python")] == changed[("beta", "fn_0", "python")]
    assert set(found.lines) == {"alpha", "beta", "tools", "tools-x"}
    assert set(found._parsed) == {"beta"}  # one package looked up: one package parsed
    assert found == changed
    # a package named unchanged whose count differs is dumped anew, not copied
    del changed[("tools", "fn_2", "python")]
    assert write_lock(lock, changed, same=frozenset({"tools", "tools-x"}))
    assert lock.read_bytes() == _one_dump(changed)
    assert read_lock(lock) == changed


def test_an_index_whose_lines_are_damaged_is_ignored(tmp_path: Path) -> None:
    lock = tmp_path / "apipack.lock"
    entries = _packages(["alpha", "beta"], 2)
    write_lock(lock, entries)
    index = tmp_path / STATE_DIR / LOCK_INDEX
    index.write_bytes(index.read_bytes().replace(b"fn_1", b"fn_9", 1))
    assert read_lock(lock) == entries
    assert not isinstance(read_lock(lock), LockIndex)
    assert not write_lock(lock, entries, same=frozenset({"alpha", "beta"}))
    assert isinstance(read_lock(lock), LockIndex)
    assert read_lock(lock) == entries


def test_the_index_a_process_writes_is_kept_as_reading_it_back_gives_it(tmp_path: Path) -> None:
    """A long-lived process reads the index it wrote in its next build: it keeps what it wrote,
    the same lines, for the same lock, as the file gives once parsed again."""
    from apipack_build.ask import store
    from apipack_build.base.fsio import stat_signature
    from apipack_build.base.hashing import bytes_hash

    lock, index = tmp_path / "apipack.lock", tmp_path / STATE_DIR / LOCK_INDEX
    entries = _entries(5)
    changed = {**entries, ("tools", "fn_2", "python"): {**entries[("tools", "fn_2", "python")]}}
    changed[("tools", "fn_2", "python")]["code"] = "def fn_2() -> str:\n    return 'new'\n"
    for version in (entries, changed, {}):
        assert write_lock(lock, version)
        kept = store._INDEX_READ.get(str(index), stat_signature(index))
        store._INDEX_READ.clear()
        digest = bytes_hash(lock.read_bytes())
        parsed = store._read_index(lock, digest)
        assert kept is not None and parsed is not None and kept[0] == digest
        assert kept[1].lines == parsed.lines and dict(kept[1]) == dict(parsed) == version
