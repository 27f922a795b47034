"""The apipack error tree. Every failure a user can cause is one of these::

    ApipackError                  exit 2 unless a subclass says otherwise
    ├── SpecError                 a spec or project file is invalid (all problems at once)
    ├── ConfigError               settings, flags or rules that cannot work together
    ├── TemplateError             a template is missing or fails to render (names template and line)
    ├── BuildError                exit 1: a task failed, or generated output is stale
    ├── BusyError                 exit 1: another build holds this project's lock
    ├── LLMError                  exit 3: a model is unavailable or a response is missing offline
    └── ToolMissing               exit 3: a tool `build`/`deploy` needs (docker daemon, a cloud
                                  CLI) is absent; the message names it and the command to run

Third-party exceptions are mapped into this tree at the module that talks to them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/?#@\s]*@")


def redact(text: str) -> str:
    """*text* with the userinfo (``user:pass@``) of every URL in it replaced by ``***@``: what
    apipack shows or stores never carries the credentials a URL was given with."""
    return _USERINFO.sub(r"\1***@", text)


class ApipackError(Exception):
    exit_code = 2


@dataclass(frozen=True, order=True)
class Problem:
    """One finding in an input file, printed as ``path:line:col: field: message``."""

    path: str
    line: int
    column: int
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}:{self.column}"
        return (
            f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"
        )


class SpecError(ApipackError):
    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class ConfigError(ApipackError):
    pass


class TemplateError(ApipackError):
    pass


class BuildError(ApipackError):
    exit_code = 1


class BusyError(ApipackError):
    exit_code = 1


class LLMError(ApipackError):
    exit_code = 3


class ToolMissing(ApipackError):
    exit_code = 3


def shown(exc: ApipackError) -> str:
    """How the command line shows *exc*: as it is when it names its file (``path:line:col: …``)
    or spans lines, else after ``apipack:``; URL credentials redacted."""
    text = redact(str(exc))
    return text if "\n" in text or ":" in text.split(" ")[0] else f"apipack: {text}"
