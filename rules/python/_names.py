"""Names in generated Python: the import name, and local names that cannot clash."""

from __future__ import annotations

from collections.abc import Iterable

from apipack_build.rules import Package


def module_name(package: Package) -> str:
    return package.name.replace("-", "_")


def local_name(name: str, taken: Iterable[str]) -> str:
    """*name*, or ``_name`` when the module already uses *name* (or pytest would collect it).

    Spec names never start with ``_``, so the alias cannot clash with another spec name.
    """
    return f"_{name}" if name in set(taken) or name.startswith("test") else name


def unique_names(names: Iterable[str], taken: Iterable[str] = ()) -> list[str]:
    """*names* in order, with ``_2``, ``_3``… appended to repeats and to names in *taken*."""
    seen = set(taken)
    result = []
    for name in names:
        candidate, counter = name, 2
        while candidate in seen:
            candidate, counter = f"{name}_{counter}", counter + 1
        seen.add(candidate)
        result.append(candidate)
    return result


def camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_") if part)


def command_name(function: str) -> str:
    return function.replace("_", "-")
