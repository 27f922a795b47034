"""Discovery of languages, rules and LLM providers through entry points (built-ins included)."""

from __future__ import annotations

import functools
import sys
from dataclasses import dataclass
from pathlib import Path

from ..base.hashing import bytes_hash, content_hash
from ..base.lookup import entry_points_of
from ..errors import ConfigError
from ..rules import Language, Rule
from ..spec import Vocabulary

LANGUAGE_GROUP = "apipack.languages"
RULE_GROUP = "apipack.rules"


@dataclass(frozen=True)
class Registry:
    languages: dict[str, Language]
    rules: tuple[Rule, ...]

    def vocabulary(self) -> Vocabulary:
        return Vocabulary(
            languages={name: lang.reserved_words for name, lang in self.languages.items()},
            shadowed={name: lang.shadowed_names for name, lang in self.languages.items()},
            interfaces=frozenset(r.interface for r in self.rules if r.interface),
        )

    def interfaces_of(self, language: str) -> tuple[str, ...]:
        return tuple(
            sorted({r.interface for r in self.rules if r.language == language and r.interface})
        )

    def code_hash(self, rule: Rule) -> str:
        """The source of the rule's code and its language's filters: editing either re-renders
        exactly what they produce, even without a version bump."""
        return _code_hash(rule, self.languages[rule.language])

    def rules_for(self, language: str, interfaces: tuple[str, ...]) -> tuple[Rule, ...]:
        return tuple(
            r
            for r in self.rules
            if r.language == language and (r.interface is None or r.interface in interfaces)
        )


_code_hashes: dict[tuple[str, str], str] = {}


def _code_hash(rule: Rule, language: Language) -> str:
    key = (rule.name, language.name)
    if key not in _code_hashes:
        _code_hashes[key] = _hash_sources(rule, language)
    return _code_hashes[key]


def _hash_sources(rule: Rule, language: Language) -> str:
    parts = [
        rule.function_outputs,
        rule.package_outputs,
        *language.filters.values(),
    ]
    roots = {_source_root(part) for part in parts if part is not None}
    folders = sorted(root for root in roots if root is not None)
    return content_hash([_folder_hash(folder) for folder in folders])


def _source_root(obj: object) -> str | None:
    """The folder of the package that defines *obj* (or its file, for a lone module)."""
    module = sys.modules.get(getattr(obj, "__module__", "") or "")
    file = getattr(module, "__file__", None)
    if module is None or file is None:
        return None
    return str(Path(file).parent) if module.__package__ else file


@functools.cache
def _folder_hash(root: str) -> str:
    path = Path(root)
    files = sorted(path.rglob("*.py")) if path.is_dir() else [path]
    return content_hash(
        [
            [
                f.relative_to(path).as_posix() if path.is_dir() else f.name,
                bytes_hash(f.read_bytes()),
            ]
            for f in files
        ]
    )


def _load(group: str) -> list[tuple[str, object]]:
    loaded = []
    for point in sorted(entry_points_of(group), key=lambda p: (p.name, p.value)):
        try:
            loaded.append((f"{point.name} ({point.value})", point.load()))
        except Exception as exc:  # a broken plugin must name itself, not crash the tool
            raise ConfigError(
                f"cannot load {group} entry point '{point.name}' ({point.value}): {exc}"
            ) from exc
    return loaded


#: rules registered from Python in this process (``apipack.plugins.register_plugin``): they
#: join the entry points' rules in the one registry, checked the same way
_registered: list[tuple[str, Rule]] = []


def register_rules(origin: str, rules: list[Rule]) -> None:
    """Add *rules* to this process's registry, as an ``apipack.rules`` entry point would."""
    _registered.extend((origin, rule) for rule in rules)
    registry.cache_clear()


@functools.lru_cache(maxsize=1)
def registry() -> Registry:
    languages: dict[str, Language] = {}
    for origin, value in _load(LANGUAGE_GROUP):
        if not isinstance(value, Language):
            raise ConfigError(f"entry point {origin} in {LANGUAGE_GROUP} is not a Language")
        if value.name in languages:
            raise ConfigError(f"language '{value.name}' is registered twice ({origin})")
        languages[value.name] = value
    rules: dict[str, Rule] = {}
    loaded = [*_load(RULE_GROUP), *((origin, [rule]) for origin, rule in _registered)]
    for origin, value in loaded:
        items = value if isinstance(value, (list, tuple)) else [value]
        for rule in items:
            if not isinstance(rule, Rule):
                raise ConfigError(f"entry point {origin} in {RULE_GROUP} holds a non-Rule")
            if rule.name in rules:
                raise ConfigError(f"rule '{rule.name}' is registered twice ({origin})")
            if rule.language not in languages:
                raise ConfigError(
                    f"rule '{rule.name}' ({origin}) is for unknown language '{rule.language}'"
                )
            rules[rule.name] = rule
    return Registry(languages, tuple(rules[name] for name in sorted(rules)))
