"""pydantic's plugins when apipack validates: pydantic is told it has none when the engine's
own scan of the installed distributions finds none (``load/validation.py``), and an installed
pydantic plugin is still loaded and used, as pydantic would on its own."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

PROGRAM = (
    "from pydantic import BaseModel\n"
    "import apipack_build.spec\n"
    "from pydantic.plugin import _loader\n"
    "class Probe(BaseModel):\n"
    "    x: int\n"
    "print('validated', Probe(x=1).x)\n"
    "print('plugins', sorted(_loader._plugins or {}))\n"
)


def _run(path: str) -> str:
    env = {**os.environ, "PYTHONPATH": path}
    env.pop("PYDANTIC_DISABLE_PLUGINS", None)
    done = subprocess.run(
        [sys.executable, "-c", PROGRAM], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _plugin_distribution(folder: Path) -> None:
    """A distribution holding a pydantic plugin that says so when it sees a new validator."""
    info = folder / "probeplugin-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: probeplugin\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[pydantic]\nprobe = probeplugin:plugin\n")
    (folder / "probeplugin.py").write_text(
        "class _Plugin:\n"
        "    def new_schema_validator(self, schema, schema_type, *args, **kwargs):\n"
        "        print('plugin saw', getattr(schema_type, '__name__', schema_type), flush=True)\n"
        "        return None, None, None\n"
        "plugin = _Plugin()\n"
    )


def test_with_no_plugin_installed_pydantic_is_told_it_has_none(tmp_path: Path) -> None:
    out = _run(str(tmp_path))
    assert "validated 1" in out
    assert "plugins []" in out


def test_an_installed_pydantic_plugin_is_still_used(tmp_path: Path) -> None:
    _plugin_distribution(tmp_path)
    out = _run(str(tmp_path))
    assert "plugin saw Probe" in out
    assert "plugins ['probeplugin:plugin']" in out
    assert "validated 1" in out
