"""``apipack build --type wheel|sdist``: the standard build frontend (PyPA ``build``), run in
the package folder by the Python running apipack; artifacts go to the package's ``dist/``."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence


def _build(kind: str) -> Callable[[], Sequence[str]]:
    def command() -> Sequence[str]:
        return (sys.executable, "-m", "build", f"--{kind}", "--outdir", "dist", ".")

    return command


ARTIFACTS = {"wheel": _build("wheel"), "sdist": _build("sdist")}
