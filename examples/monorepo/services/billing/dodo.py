"""This service alone: `doit` here, or `doit -f services/<name>/dodo.py` from the monorepo root."""

from apipack_build.doit import DOIT_CONFIG, task_apipack  # noqa: F401
