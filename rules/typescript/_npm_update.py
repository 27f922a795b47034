"""Maintainer command: resolve every pinned npm package (``_npm.PINS``) from the registry and
write their lockfile entries to ``npm-packages.json``. Run it after changing a pin, and commit
the result; builds read that file and never the network. npm starts from the entries already
there, so a new pin adds its packages without moving the others::

    python -m apipack_rules.typescript._npm_update
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path

from . import _npm


def main() -> None:
    npm = shutil.which("npm")
    if npm is None:
        raise SystemExit("npm is not on PATH: install Node.js 20 or later")
    everything = _npm.direct(key for key in _npm.PINS if key is not None)
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp)
        manifest = {"name": "pins", "version": "0.0.0", "private": True, **everything}
        (project / "package.json").write_text(json.dumps(manifest), encoding="utf-8")
        (project / "package-lock.json").write_text(json.dumps(_seed(manifest)), encoding="utf-8")
        subprocess.run(
            [npm, "install", "--package-lock-only", "--ignore-scripts", "--no-audit", "--no-fund"],
            cwd=project,
            check=True,
        )
        lock = json.loads((project / "package-lock.json").read_text(encoding="utf-8"))
    entries = {path: entry for path, entry in lock["packages"].items() if path}
    target = Path(__file__).with_name("npm-packages.json")
    text = json.dumps(entries, indent=1, sort_keys=True, ensure_ascii=True) + "\n"
    target.write_text(text, encoding="utf-8")
    print(f"{target}: {len(entries)} packages")


def _seed(manifest: dict[str, object]) -> dict[str, object]:
    """A lockfile of the entries resolved before, for npm to keep where the pins allow."""
    root = {key: manifest[key] for key in ("name", "version", "dependencies", "devDependencies")}
    packages = {"": root, **_npm.entries()}
    return {**root, "lockfileVersion": 3, "requires": True, "packages": packages}


if __name__ == "__main__":
    main()
