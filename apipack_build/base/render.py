"""Jinja2 rendering: strict, deterministic, with each language's escaping filters.

Templates are looked up in the folders ``_lookup.template_dirs`` gives, in order. A template's
identity for hashing is its text plus the texts of every template it includes, imports or
extends, followed recursively.

Given a *cache* folder (the project's ``.apipack/compiled/``), what parsing a template's text
yields is kept there by the hash of that text: the names it pulls in, and Jinja's compiled code
(its bytecode cache, which Jinja itself checks against the text and the Python version), written
at the end of a build. A build that renders a few files then does not parse and compile every
template it reads.
"""

from __future__ import annotations

import contextlib
import functools
import io
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jinja2
import jinja2.meta

from ..errors import TemplateError
from .fsio import write_atomic
from .hashing import bytes_hash


def _tojson(value: Any, indent: int | None = None) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, indent=indent)


class _CompiledTemplates(jinja2.BytecodeCache):
    """Jinja's bytecode cache in a folder; what it learns is written by ``Renderer.save``."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.pending: dict[Path, bytes] = {}

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            with open(self.folder / f"{bucket.key}.code", "rb") as handle:
                bucket.load_bytecode(handle)
        except (OSError, ValueError, EOFError):
            bucket.reset()  # missing or damaged: compiled again

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        data = io.BytesIO()
        bucket.write_bytecode(data)
        self.pending[self.folder / f"{bucket.key}.code"] = data.getvalue()


#: what ``getattr`` finds on any dict: Jinja's ``a.b`` gives these before the dict's items
_DICT_ATTRIBUTES = frozenset(dir(dict))


class _Environment(jinja2.Environment):
    """Jinja's environment with ``a.b`` on a plain dict (the contexts rules give are dicts, so
    nearly every ``a.b`` of a template is one) found as Jinja finds it, without the
    ``AttributeError`` that ``getattr`` raises first: 42,500 of them in a template edit at
    N = 1000, a tenth of its rendering."""

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict and attribute not in _DICT_ATTRIBUTES:
            try:
                return obj[attribute]
            except LookupError:
                return self.undefined(obj=obj, name=attribute)
        return super().getattr(obj, attribute)


class Renderer:
    def __init__(
        self,
        dirs: list[tuple[str, Path]],
        filters: Mapping[str, Any],
        cache: Path | None = None,
    ):
        self.dirs = dirs
        self.cache = cache
        self.compiled = _CompiledTemplates(cache) if cache is not None else None
        self.env = _Environment(
            loader=jinja2.FileSystemLoader([str(path) for _, path in dirs]),
            undefined=jinja2.StrictUndefined,
            keep_trailing_newline=True,
            trim_blocks=True,
            lstrip_blocks=True,
            autoescape=False,
            bytecode_cache=self.compiled,
            # a template is read once per renderer, as ``source`` reads it (a process keeps a
            # renderer only while no template's text changed): no stat per file rendered
            auto_reload=False,
        )
        self.env.filters["tojson"] = _tojson
        self.env.filters.update(filters)

    def origin(self, name: str) -> tuple[str, Path]:
        for origin, folder in self.dirs:
            if (folder / name).is_file():
                return origin, folder / name
        raise TemplateError(
            f"template '{name}' not found in {', '.join(o for o, _ in self.dirs)} templates"
        )

    @functools.cache  # noqa: B019 - one Renderer per build
    def source(self, name: str) -> str:
        _, path = self.origin(name)
        return path.read_text(encoding="utf-8")

    @functools.cache  # noqa: B019
    def template_hashes(self, name: str) -> tuple[tuple[str, str], ...]:
        """Hashes of *name* and of every template it pulls in, sorted by name."""
        found: dict[str, str] = {}
        pending = [name]
        while pending:
            current = pending.pop()
            if current in found:
                continue
            text = self.source(current)
            found[current] = bytes_hash(text.encode("utf-8"))
            pending.extend(self._references(current, text, found[current]))
        return tuple(sorted(found.items()))

    def _references(self, name: str, text: str, digest: str) -> list[str]:
        """The templates *text* includes, imports or extends (kept in the cache by its hash)."""
        kept = self.cache / f"{digest.split(':', 1)[-1]}.refs.json" if self.cache else None
        if kept is not None:
            try:
                names = json.loads(kept.read_text(encoding="utf-8"))
                if isinstance(names, list) and all(isinstance(n, str) for n in names):
                    return names
            except (OSError, ValueError):
                pass  # not known yet, or damaged: parse
        try:
            parsed = self.env.parse(text, name)
        except jinja2.TemplateSyntaxError as exc:
            raise TemplateError(f"template {name}:{exc.lineno}: {exc.message}") from None
        names = []
        for ref in jinja2.meta.find_referenced_templates(parsed):
            if ref is None:
                raise TemplateError(
                    f"template {name}: includes a template by a computed "
                    f"name; apipack needs literal names to hash its inputs"
                )
            names.append(ref)
        if kept is not None and self.compiled is not None:
            self.compiled.pending[kept] = json.dumps(names).encode("utf-8")
        return names

    def save(self) -> None:
        """Keep what parsing and compiling taught this renderer (a build does; ``check`` and
        ``--dry-run`` write nothing)."""
        pending = self.compiled.pending if self.compiled is not None else {}
        for path, data in sorted(pending.items()):
            with contextlib.suppress(OSError):  # only a cache
                write_atomic(path, data)
        pending.clear()

    def render(self, name: str, context: Mapping[str, Any], finish: str = "") -> str:
        """*name* rendered with *context*, then through the filter *finish* if one is named."""
        try:
            text = self.env.get_template(name).render(context)
            if finish:
                text = self._finish(name, finish, text)
        except jinja2.TemplateSyntaxError as exc:
            raise TemplateError(
                f"template {exc.name or name}:{exc.lineno}: {exc.message}"
            ) from None
        except jinja2.UndefinedError as exc:
            raise TemplateError(f"template {name}:{_line_of(exc)}: {exc.message}") from None
        except jinja2.TemplateError as exc:
            raise TemplateError(f"template {name}: {exc}") from None
        return _normalize(text)

    def _finish(self, name: str, finish: str, text: str) -> str:
        try:
            return str(self.env.filters[finish](text))
        except (KeyError, ValueError) as exc:
            raise TemplateError(f"template {name}: filter '{finish}': {exc}") from None


def _line_of(exc: BaseException) -> str:
    """The template line that raised, read from the traceback Jinja rewrites for us."""
    tb = exc.__traceback__
    line = "?"
    while tb is not None:
        if tb.tb_frame.f_code.co_filename.endswith(".j2"):
            line = str(tb.tb_lineno)
        tb = tb.tb_next
    return line


def _normalize(text: str) -> str:
    """LF newlines and exactly one trailing newline: output must not depend on the template's OS."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text.rstrip("\n") + "\n" if text.strip() else ""
