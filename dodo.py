"""Plain `doit` in this folder runs the same task graph as `apipack generate`."""

from apipack_build.doit import DOIT_CONFIG, task_apipack  # noqa: F401
