"""apipack from Python, in the APIpack README's words::

    from apipack import APIPackEngine

    engine = APIPackEngine()
    package = engine.generate_package(
        function_specs=[{"name": "pdf_to_text", "input_type": "bytes", "output_type": "string"}],
        interfaces=["rest", "grpc"],
        language="python",
    )
    package.files      # every file of the package, relative to package.path
    package.build()    # a wheel in package.path / "dist"

The same engine as ``apipack generate`` (``apipack_build``): same settings, tasks, files,
lock and errors (``ApipackError`` subclasses). Plugins: :mod:`apipack.plugins`.
"""

from __future__ import annotations

from apipack_build.errors import (
    ApipackError,
    BuildError,
    ConfigError,
    LLMError,
    SpecError,
    TemplateError,
    ToolMissing,
)

from ._engine import APIPackEngine, GeneratedPackage

__all__ = [
    "APIPackEngine",
    "ApipackError",
    "BuildError",
    "ConfigError",
    "GeneratedPackage",
    "LLMError",
    "SpecError",
    "TemplateError",
    "ToolMissing",
]
