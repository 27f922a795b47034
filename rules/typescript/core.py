"""typescript.core: the npm package itself — functions, runtime types, package.json with its
lockfile, tsconfig, README and the functions' direct tests."""

from __future__ import annotations

from typing import Any

from apipack_build.rules import Function, FunctionRequest, Output, Package, PackageRequest, Rule

from . import _npm, deploy, readme, service
from ._checks import check_expr
from ._filters import ts_string
from ._layout import Doc, Fluid, array, arrow, call, expr_doc, obj, prop, render
from ._names import built, local_name, scripts
from ._types import annotation, descriptor_doc, literal_doc

#: names a generated test module imports itself
_TEST_MODULE_NAMES = (
    "test",
    "FUNCTIONS",
    "FunctionInfo",
    "encode",
    "assertCheck",
    "assertClose",
    "info",
    "result",
)


def function_outputs(request: FunctionRequest) -> list[Output]:
    package, function = request.package, request.function
    source = request.implementation.source
    local = local_name(function.name, _TEST_MODULE_NAMES)
    return [
        Output(
            f"src/functions/{function.name}.ts",
            "typescript/core/function.ts.j2",
            {"implementation": source if source.endswith("\n") else source + "\n"},
        ),
        Output(
            f"test/{function.name}.test.ts",
            "typescript/core/test_function.ts.j2",
            {
                "source": package.source,
                "function": function.name,
                "local": local,
                "examples": [
                    _direct_test(function, local, index) for index in range(len(function.examples))
                ],
            },
        ),
    ]


def _direct_test(function: Function, local: str, index: int) -> dict[str, Any]:
    """The statements of the direct test of example *index*, laid out as prettier lays them
    out in a test's body."""
    example = function.examples[index]
    given = arguments(function, example.input)
    ref = function.output_ref
    expected = literal_doc(ref, example.output)
    check = check_expr(ref, example)
    return {
        "title": example.name or f"example {index + 1}",
        "call": _statement(("const result: unknown =", Fluid(call(f"await {local}", given)))),
        "close": _statement(call("assertClose", ["result", expected])),
        "has_output": example.has_output,
        "check": bool(check),
        "assert_check": check and _statement(call("assertCheck", ["result", expr_doc(check)])),
    }


def _statement(doc: Doc) -> str:
    return render((doc, ";"), 2)


def arguments(function: Function, values: dict[str, Any]) -> list[Doc]:
    """Positional arguments as TypeScript: the given values, else the default, else null."""
    result: list[Doc] = []
    for p in function.parameters:
        if p.name in values:
            result.append(literal_doc(p.type_ref, values[p.name]))
        elif p.has_default:
            result.append(literal_doc(p.type_ref, p.default))
        else:
            result.append("null")
    return result


def functions_table(functions: list[Function]) -> str:
    """``calls.ts``'s ``FUNCTIONS``: every function's parameters, types and call, in prettier's
    layout (each function and parameter on lines of its own, as prettier keeps them)."""
    entries = [
        prop(
            f.name,
            obj(
                [
                    prop("name", ts_string(f.name)),
                    prop("description", ts_string(f.description)),
                    prop("parameters", array(_parameters(f))),
                    prop("output", descriptor_doc(f.output_ref)),
                    prop("run", arrow("(args)", call(f"functions.{f.name}", _casts(f)))),
                ],
                broken=True,
            ),
        )
        for f in functions
    ]
    table = obj(entries, broken=True)
    return render(("export const FUNCTIONS: Readonly<Record<string, FunctionInfo>> = ", table, ";"))


def _parameters(function: Function) -> list[Doc]:
    result = []
    for p in function.parameters:
        default = prop("default", arrow("()", literal_doc(p.type_ref, p.default)))
        properties = [
            prop("name", ts_string(p.name)),
            prop("type", descriptor_doc(p.type_ref)),
            prop("required", "true" if p.required else "false"),
            *([default] if p.has_default else []),
            prop("description", ts_string(p.description)),
        ]
        result.append(obj(properties, broken=True))
    return result


def _casts(function: Function) -> list[Doc]:
    return [f"args[{i}] as {annotation(p.type_ref)}" for i, p in enumerate(function.parameters)]


def package_json(
    package: Package, interfaces: tuple[str, ...], language: str = "typescript"
) -> dict[str, Any]:
    typed, out = language != "javascript", built(language)
    deps = _npm.direct(interfaces, typed)
    bins = {s["name"]: s["target"] for s in scripts(package, interfaces, language)}
    compile_first = {
        "build": "tsc -p .",
        "typecheck": "tsc --noEmit -p .",
        "test": "tsc -p . && node --test dist/test/",
    }
    checks = {
        "lint": "eslint --max-warnings 0 .",
        "format": "prettier --write .",
        "format:check": "prettier --check .",
    }
    manifest: dict[str, Any] = {
        "name": package.name,
        "version": package.version,
        "description": " ".join(package.description.split()),
        "type": "module",
        "engines": {"node": _npm.NODE_ENGINES},
        "main": f"{out}src/index.js",
        **({"types": "dist/src/index.d.ts"} if typed else {}),
        "exports": {
            ".": {"types": "./dist/src/index.d.ts", "default": "./dist/src/index.js"}
            if typed
            else "./src/index.js"
        },
        "files": [f"{out}src", *_shipped(interfaces)],
        "scripts": {
            **(compile_first if typed else {"test": "node --test test/"}),
            **checks,
            **({"start": f"node {out}{service.SERVER}"} if service.built(interfaces) else {}),
        },
        **{group: pins for group, pins in deps.items() if pins},
    }
    if bins:
        manifest["bin"] = bins
    return manifest


def _shipped(interfaces: tuple[str, ...]) -> list[str]:
    """The documents the package reads at run time, beside dist/."""
    return [path for interface, path in _DOCUMENTS if interface in interfaces]


#: (interface, path): the interface's document, shipped in the npm package
_DOCUMENTS = (("rest", "openapi.json"), ("graphql", "schema.graphql"), ("grpc", "proto"))


def package_outputs(request: PackageRequest) -> list[Output]:
    package, source = request.package, request.package.source
    manifest = package_json(package, request.interfaces, request.language)
    deps = {g: manifest.get(g, {}) for g in ("dependencies", "devDependencies")}
    names = [f.name for f in package.functions]
    return [
        Output("package.json", "typescript/core/json.j2", {"value": manifest}),
        Output(
            "package-lock.json",
            "typescript/core/json.j2",
            {"value": _npm.lockfile(package.name, package.version, deps)},
        ),
        Output("tsconfig.json", "typescript/core/tsconfig.json.j2", {}),
        Output(".gitignore", "typescript/core/gitignore.j2", {}),
        Output(
            "eslint.config.js",
            "typescript/core/eslint.config.js.j2",
            {"source": source, "typed": request.language != "javascript"},
        ),
        # prettier's defaults, written down so that editors find them
        Output(".prettierrc.json", "typescript/core/json.j2", {"value": {}}),
        Output(".prettierignore", "typescript/core/prettierignore.j2", {}),
        Output(
            "src/functions/index.ts",
            "typescript/core/functions_index.ts.j2",
            {"source": source, "functions": names},
        ),
        Output(
            "src/index.ts",
            "typescript/core/index.ts.j2",
            {
                "source": source,
                "name": package.name,
                "version": package.version,
                "description_lines": package.description.strip().splitlines(),
            },
        ),
        Output("src/types.ts", "typescript/core/types.ts.j2", {"source": source}),
        Output(
            "src/calls.ts",
            "typescript/core/calls.ts.j2",
            {"source": source, "functions": functions_table(list(package.functions))},
        ),
        Output("test/assert.ts", "typescript/core/assert.ts.j2", {"source": source}),
        Output("README.md", "typescript/core/README.md.j2", readme.context(request)),
        *service.outputs(request),
        *deploy.outputs(request),
    ]


RULE = Rule(
    name="typescript.core",
    language="typescript",
    interface=None,
    version="1",
    function_outputs=function_outputs,
    package_outputs=package_outputs,
)
