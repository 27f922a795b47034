"""Where LLM replies are kept: the response cache and the lock file.

The cache is a diskcache holding JSON text (never pickles), safe across processes, keyed by cache
key, with a request-key index for builds that cannot learn the model digest. The lock,
``apipack.lock``, is committed YAML: sorted, stable, fields in reading order, code as block text.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import diskcache
import yaml

from ._fsio import write_atomic
from .errors import ApipackError

CACHE_ARCHIVE_VERSION = 1
LOCK_VERSION = 1
#: the order of fields in a lock entry: what a reviewer reads first comes first
LOCK_FIELDS = (
    "package",
    "function",
    "language",
    "provider",
    "model",
    "digest",
    "request",
    "key",
    "code",
)


class ResponseCache:
    """Validated replies in diskcache, as JSON text (never pickles); safe across processes."""

    def __init__(self, folder: Path):
        self.folder = folder
        self._cache: diskcache.Cache | None = None

    @property
    def cache(self) -> diskcache.Cache:
        if self._cache is None:
            self.folder.mkdir(parents=True, exist_ok=True)
            self._cache = diskcache.Cache(str(self.folder))
        return self._cache

    def get(self, key: str) -> dict[str, Any] | None:
        raw = self.cache.get(key)
        return json.loads(raw) if isinstance(raw, str) else None

    def put(self, key: str, request: str, value: dict[str, Any]) -> None:
        self.cache.set(key, json.dumps({**value, "request": request}, sort_keys=True))
        if request:
            self.cache.set(f"request:{request}", key)

    def by_request(self, request: str) -> tuple[str, dict[str, Any]] | None:
        key = self.cache.get(f"request:{request}")
        value = self.get(key) if isinstance(key, str) else None
        return (key, value) if isinstance(key, str) and value is not None else None

    def items(self) -> list[tuple[str, dict[str, Any]]]:
        """Every stored reply, sorted by key (request-key index entries left out)."""
        found = []
        for key in sorted(k for k in self.cache.iterkeys() if not k.startswith("request:")):
            value = self.get(key)
            if value is not None:
                found.append((key, value))
        return found

    def volume(self) -> int:
        return int(self.cache.volume())

    def export(self, path: Path) -> int:
        items = self.items()
        text = json.dumps(
            {"version": CACHE_ARCHIVE_VERSION, "entries": dict(items)}, sort_keys=True, indent=1
        )
        write_atomic(path, (text + "\n").encode("utf-8"))
        return len(items)

    def import_(self, path: Path) -> int:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("version") != CACHE_ARCHIVE_VERSION:
                raise ValueError(
                    f"archive version {data.get('version')!r} is not {CACHE_ARCHIVE_VERSION}"
                )
            entries = data["entries"]
            valid = {
                k: v
                for k, v in entries.items()
                if isinstance(v, dict) and isinstance(v.get("code"), str) and k.startswith("xxh3:")
            }
        except (OSError, ValueError, KeyError, AttributeError) as exc:
            raise ApipackError(f"{path}: not an apipack cache archive ({exc})") from None
        for key, value in sorted(valid.items()):
            self.put(key, str(value.get("request", "")), value)
        return len(valid)

    def prune(self, keep_requests: set[str]) -> int:
        """Drop replies to requests no spec makes any more (and their index entries)."""
        dropped = 0
        for key, value in self.items():
            if value.get("request") not in keep_requests:
                self.cache.delete(key)
                dropped += 1
        for key in list(self.cache.iterkeys()):
            if key.startswith("request:") and key[len("request:") :] not in keep_requests:
                self.cache.delete(key)
        return dropped

    def close(self) -> None:
        if self._cache is not None:
            self._cache.close()
            self._cache = None


def read_lock(path: Path) -> dict[tuple[str, str, str], dict[str, Any]]:
    if not path.is_file():
        return {}
    try:
        # libyaml when present: a lock of a thousand functions loads ten times faster
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=loader) or {}
        entries = data.get("entries") or []
        return {(e["package"], e["function"], e["language"]): e for e in entries}
    except (yaml.YAMLError, AttributeError, KeyError, TypeError) as exc:
        raise ApipackError(
            f"{path.name}: cannot read the lock ({exc}); restore it from version "
            f"control or delete it to ask the model again"
        ) from None


class _LockDumper(yaml.SafeDumper):
    pass


def _str_presenter(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_LockDumper.add_representer(str, _str_presenter)


def write_lock(path: Path, entries: dict[tuple[str, str, str], dict[str, Any]]) -> bool:
    """Write the lock if its bytes change; sorted and stable so it reviews well in a PR."""
    body = {
        "version": LOCK_VERSION,
        "entries": [
            {name: entries[k].get(name, "") for name in LOCK_FIELDS} for k in sorted(entries)
        ],
    }
    text = (
        "# apipack.lock: the LLM responses this project's build uses. Written by apipack "
        "from real\n# responses; commit it so clean machines and CI rebuild with no LLM "
        "calls.\n"
        + yaml.dump(body, Dumper=_LockDumper, sort_keys=False, allow_unicode=True, width=100)
    )
    data = text.encode("utf-8")
    if path.is_file() and path.read_bytes() == data:
        return False
    write_atomic(path, data)
    return True
