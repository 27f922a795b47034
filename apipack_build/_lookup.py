"""Where things live in a project: its state folder and its template folders, in lookup order.

Kept apart from rendering so that code which only needs to find files loads no Jinja.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

STATE_DIR = ".apipack"


def builtin_template_dir() -> Path:
    return Path(str(files("apipack_templates")))


def template_dirs(project_root: Path, home: Path | None = None) -> list[tuple[str, Path]]:
    """(origin, folder) pairs, highest priority first: the project's ``templates/``, then
    ``~/.apipack/templates``, then the built-in ones; folders that do not exist are skipped."""
    home = home if home is not None else Path.home()
    candidates = [
        ("project", project_root / "templates"),
        ("user", home / ".apipack" / "templates"),
        ("builtin", builtin_template_dir()),
    ]
    return [(origin, path) for origin, path in candidates if path.is_dir()]
