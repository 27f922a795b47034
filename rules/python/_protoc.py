"""Jinja filters for gRPC: proto comments, and protoc run at build time.

``protoc`` compiles a rendered ``.proto`` in this process with grpcio-tools, in a temporary
folder, and returns one generated file. The file is placed at its package path inside that folder
(``pkg/grpc/pkg.proto``), so the generated imports are absolute (``from pkg.grpc import
pkg_pb2``) and the files name no temporary path. The output depends only on the proto text and
on the grpcio-tools version, which the rule puts into the context so that a new version
re-renders.
"""

from __future__ import annotations

import functools
import tempfile
import threading
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

import jinja2

from ._filters import _escape_unsafe

#: what protoc writes for one ``.proto``: the messages, their stubs, the service classes
OUTPUTS = ("_pb2.py", "_pb2.pyi", "_pb2_grpc.py")
TOOL = "grpcio-tools"
#: protoc keeps global state: one compilation at a time
_LOCK = threading.Lock()


def tool_version() -> str:
    """The grpcio-tools version that compiles, or ``"missing"``."""
    try:
        return metadata.version(TOOL)
    except metadata.PackageNotFoundError:
        return "missing"


def protoc(proto: str, path: str, output: str) -> str:
    """The *output* (one of :data:`OUTPUTS`) protoc generates for *proto*, a ``.proto`` at
    *path* (relative, POSIX) in the package tree."""
    if output not in OUTPUTS:
        raise jinja2.TemplateRuntimeError(
            f"protoc: unknown output {output!r}; use one of {OUTPUTS}"
        )
    return _compile(proto, path)[output]


@functools.lru_cache(maxsize=16)  # the three outputs of one proto come from one run
def _compile(proto: str, path: str) -> dict[str, str]:
    try:
        from grpc_tools import protoc as grpc_protoc  # type: ignore[import-untyped]
    except ImportError:
        raise jinja2.TemplateRuntimeError(
            f"protoc: {TOOL} is not installed; reinstall apipack (pip install apipack)"
        ) from None
    with tempfile.TemporaryDirectory(prefix="apipack-protoc-") as folder:
        source, target = Path(folder, "proto"), Path(folder, "out")
        (source / path).parent.mkdir(parents=True)
        (source / path).write_text(proto, encoding="utf-8", newline="\n")
        target.mkdir()
        arguments = [
            "grpc_tools.protoc",
            f"--proto_path={source}",
            f"--python_out={target}",
            f"--pyi_out={target}",
            f"--grpc_python_out={target}",
            str(source / path),
        ]
        with _LOCK:
            code = grpc_protoc.main(arguments)
        if code != 0:
            # protoc wrote why to stderr; our proto is generated, so this is a bug of the rule
            raise jinja2.TemplateRuntimeError(
                f"protoc ({TOOL} {tool_version()}) rejected {path} (exit {code}); "
                f"please report this as an apipack bug with the spec that caused it"
            )
        stem = path.removesuffix(".proto")
        return {
            output: (target / f"{stem}{output}").read_text(encoding="utf-8") for output in OUTPUTS
        }


def proto_comment(value: str, indent: int = 0) -> str:
    """*value* as ``//`` comment lines; the first line's indentation is the template's.

    The gRPC plugin copies service and rpc comments into Python docstrings unescaped, so the
    text is made safe there too: backslashes are doubled, every third quote of a run of quotes
    is escaped, and invisible characters are written as escapes.
    """
    lines = value.strip().replace("\r\n", "\n").replace("\r", "\n").split("\n")
    safe = [_docstring_safe(line.rstrip()) for line in lines]
    return f"\n{' ' * indent}".join(f"// {line}".rstrip() for line in safe)


def _docstring_safe(line: str) -> str:
    text = _escape_unsafe(line.replace("\t", " ")).replace("\\", "\\\\")
    out, run = [], 0
    for char in text:
        run = run + 1 if char == '"' else 0
        out.append('\\"' if run % 3 == 0 and run else char)
    return "".join(out)


FILTERS: dict[str, Callable[..., str]] = {"protoc": protoc, "proto_comment": proto_comment}
