"""A rule's output path is refused as ``PurePosixPath`` reads it: absolute, climbing, naming
nothing, or with a backslash (``plan.unsafe_output_path`` reads it off the string)."""

from __future__ import annotations

from pathlib import PurePosixPath

import pytest

from apipack_build.plan.plan import unsafe_output_path

PATHS = [
    "src/pkg/module.py",
    "README.md",
    "./src/a.py",
    "src//a.py",
    "src/./a.py",
    "src/a.py/",
    ".hidden/..dots/a..b",
    "...",
    "../escape.txt",
    "src/../../escape.txt",
    "src/..",
    "..",
    "/etc/passwd",
    "//server/share",
    "",
    ".",
    "./",
    "././/.",
    "src\\a.py",
    "\\",
]


def by_path_object(path: str) -> bool:
    pure = PurePosixPath(path)
    return pure.is_absolute() or ".." in pure.parts or not pure.parts or "\\" in path


@pytest.mark.parametrize("path", PATHS)
def test_an_output_path_is_refused_as_a_path_object_reads_it(path: str) -> None:
    assert unsafe_output_path(path) == by_path_object(path)
