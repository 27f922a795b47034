"""Canonical JSON and content hashes: the one format every apipack key is built from.

Contract (changing it changes every key, so bump ``HASH_FORMAT`` with it):

* ``canonical_json(value)`` is ``json.dumps`` with sorted keys, no whitespace
  (``separators=(",", ":")``), ``ensure_ascii=False``, encoded as UTF-8.
  ``bytes`` are written as ``{"$bytes": "<base64>"}``; tuples as lists.
* ``content_hash(value)`` is ``"xxh3:" + xxh3_128(canonical_json(value)).hexdigest()``;
  ``bytes_hash(data)`` is the same over raw bytes (for files), and ``chunks_hash(chunks)`` that
  of the chunks' concatenation.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import xxhash

HASH_FORMAT = "1"
_PREFIX = "xxh3:"


def _default(value: Any) -> Any:
    if isinstance(value, bytes):
        import base64  # rare (spec examples holding bytes): not loaded on the fast path

        return {"$bytes": base64.b64encode(value).decode("ascii")}
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    raise TypeError(f"cannot hash a value of type {type(value).__name__}")


def canonical_json(value: Any) -> bytes:
    """Serialize *value* to the canonical byte form that all hashes are taken over."""
    text = json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_default
    )
    return text.encode("utf-8")


def bytes_hash(data: bytes) -> str:
    return _PREFIX + xxhash.xxh3_128_hexdigest(data)


def chunks_hash(chunks: Iterable[bytes | memoryview]) -> str:
    """``bytes_hash`` of the chunks joined, without joining them (a state file of many MB)."""
    digest = xxhash.xxh3_128()
    for chunk in chunks:
        digest.update(chunk)
    return _PREFIX + digest.hexdigest()


def content_hash(value: Any) -> str:
    """Hash of *value*'s canonical JSON, tagged with the algorithm."""
    return bytes_hash(canonical_json(value))
