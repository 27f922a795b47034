"""Plugins in the APIpack README's form, adapted onto apipack's rules (one mechanism: each
plugin becomes a :class:`apipack_build.rules.Rule` in the same registry the ``apipack.rules``
entry points fill, keyed, cached and written by the engine like every other rule)::

    from apipack.plugins import BasePlugin, register_plugin

    class MyInterfacePlugin(BasePlugin):
        name = "my-interface"

        def generate(self, function_specs, language, output_dir):
            return {"my-interface/functions.txt": "\\n".join(f["name"] for f in function_specs)}

    register_plugin(MyInterfacePlugin())

A plugin's ``generate`` returns the package's files as ``{relative path: text}``; the engine
writes them (atomically, only when changed, recorded in the manifest). ``validate`` gets that
mapping back and returns a list of problems (empty: fine). Registration lasts for this process
(``APIPackEngine``); for the ``apipack`` command, register the same rules through the
``apipack.rules`` entry point (:func:`rules_of`), as docs/plugins.md shows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import PurePosixPath
from typing import Any, TypeVar

from apipack_build.errors import ConfigError
from apipack_build.load.registry import register_rules
from apipack_build.rules import FunctionRequest, Output, PackageRequest, Rule

__all__ = ["BaseGenerator", "BasePlugin", "register_generator", "register_plugin", "rules_of"]

#: the built-in template that writes a plugin's text as it is
TEXT_TEMPLATE = "plugin/text.j2"

Files = Mapping[str, str]


class BasePlugin:
    """An interface made by Python: ``generate`` gets every function of a package (as spec
    mappings), the language and the package folder (relative, ``PurePosixPath(".")``)."""

    name: str = ""
    language: str = "python"
    #: bump when ``generate`` changes what it returns for the same specs
    version: str = "1"

    def generate(
        self, function_specs: list[dict[str, Any]], language: str, output_dir: PurePosixPath
    ) -> Files:
        raise NotImplementedError

    def validate(self, generated_files: Files) -> Sequence[str]:
        return []


class BaseGenerator:
    """An interface made per function: ``generate(spec)`` returns that function's files."""

    language: str = "python"
    version: str = "1"

    def generate(self, spec: dict[str, Any]) -> Files:
        raise NotImplementedError


def _outputs(owner: str, files: Files, problems: Sequence[str]) -> list[Output]:
    if problems:
        raise ConfigError(f"plugin '{owner}': " + "; ".join(problems))
    if not isinstance(files, Mapping):
        raise ConfigError(f"plugin '{owner}': generate must return {{relative path: text}}")
    return [
        Output(str(PurePosixPath(path)), TEXT_TEMPLATE, {"text": text})
        for path, text in sorted(files.items())
    ]


def _spec(function: Any) -> dict[str, Any]:
    spec: dict[str, Any] = function.model_dump(mode="json", exclude={"code", "implementation"})
    return spec


def rules_of(plugin: BasePlugin) -> list[Rule]:
    """The rule a plugin is, for ``register_plugin`` or an ``apipack.rules`` entry point."""
    if not plugin.name:
        raise ConfigError(f"{type(plugin).__name__}: a plugin needs a name (its interface)")

    def package_outputs(request: PackageRequest) -> list[Output]:
        specs = [_spec(f) for f in request.package.functions]
        files = plugin.generate(specs, request.language, PurePosixPath("."))
        return _outputs(plugin.name, files, plugin.validate(files))

    return [
        Rule(
            name=f"plugin.{plugin.name}.{plugin.language}",
            language=plugin.language,
            interface=plugin.name,
            version=plugin.version,
            package_outputs=package_outputs,
        )
    ]


def register_plugin(plugin: BasePlugin) -> BasePlugin:
    """Make *plugin*'s interface available to builds in this process."""
    register_rules(f"register_plugin({type(plugin).__name__})", rules_of(plugin))
    return plugin


G = TypeVar("G", bound=type[BaseGenerator])


def register_generator(name: str) -> Callable[[G], G]:
    """Class decorator: ``@register_generator("custom-api")`` makes interface *name*, one
    ``generate(spec)`` call per function."""

    def register(cls: G) -> G:
        generator = cls()

        def function_outputs(request: FunctionRequest) -> list[Output]:
            return _outputs(name, generator.generate(_spec(request.function)), ())

        rule = Rule(
            name=f"generator.{name}.{generator.language}",
            language=generator.language,
            interface=name,
            version=generator.version,
            function_outputs=function_outputs,
        )
        register_rules(f"register_generator({name!r})", [rule])
        return cls

    return register
