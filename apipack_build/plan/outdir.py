"""Where a build may write: an output folder that cannot take the project, its specs or more.

Every command that plans a build resolves its output folder here. A folder is refused if it is a
file, the file-system root or the home folder, if it holds the project (or is it), if it lies in
the project's state folder, or if a spec glob can match files inside it: the build would read its
own output as specs on the next run, or ``check`` would call a whole disk "extra".
"""

from __future__ import annotations

import fnmatch
import os
from pathlib import Path, PurePosixPath

from ..base.lookup import STATE_DIR
from ..errors import ConfigError
from ..settings import Effective


def output_folder(effective: Effective) -> Path:
    """The resolved output folder of *effective*; ConfigError if a build must not write there."""
    root = effective.root
    given = effective.settings.output
    output = (root / given).resolve()
    origin = effective.origins.get("output", "default")
    problem = _problem(output, root, effective.settings.specs)
    if problem:
        raise ConfigError(f"output folder '{given}' ({origin}): {problem}; choose another")
    return output


def _problem(output: Path, root: Path, specs: list[str]) -> str | None:
    if output.exists() and not output.is_dir():
        return "it is a file"
    if output == Path(output.anchor):
        return "it is the root of the file system"
    home = os.environ.get("HOME")
    if home and output == Path(home).resolve():
        return "it is the home folder"
    if root.is_relative_to(output):
        return (
            "it holds the project folder itself" if output != root else "it is the project folder"
        )
    if output.is_relative_to(root / STATE_DIR):
        return f"it is inside the build state folder {STATE_DIR}"
    if output.is_relative_to(root):
        relative = PurePosixPath(output.relative_to(root).as_posix())
        for pattern in specs:
            if _may_match_inside(pattern, relative):
                return f"the spec glob '{pattern}' matches files inside it"
    return None


def _may_match_inside(pattern: str, folder: PurePosixPath) -> bool:
    """Whether the glob *pattern* (relative to the project) can match a file below *folder*."""
    parts = [p for p in PurePosixPath(pattern).parts if p != "."]
    for depth, name in enumerate(folder.parts):
        if depth >= len(parts) - 1:  # the pattern's last part names files: none so deep
            return False
        if parts[depth] == "**":
            return True
        if not fnmatch.fnmatchcase(name, parts[depth]):
            return False
    return True  # every part of the folder matched, and the pattern goes deeper
