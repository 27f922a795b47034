"""typescript.graphql: graphql-yoga at ``/graphql`` in the Fastify service, serving the SDL the
Python rules write (``python.graphql``, byte for byte: one contract) with one query field per
function, the custom scalars ``Int64``, ``Base64`` and ``JSON`` as Python's."""

from __future__ import annotations

from apipack_build.rules import FunctionRequest, Output, PackageRequest, Rule

from ..python import graphql as _py_graphql
from ._examples import example_tests
from ._names import package_root

#: the SDL's path in the package; src/graphql/schema.ts reads it at run time
SDL_PATH = "schema.graphql"


def function_outputs(request: FunctionRequest) -> list[Output]:
    function = request.function
    return [
        example_tests(
            request,
            "graphql",
            "test_field.ts.j2",
            lambda _, given: _py_graphql.operation(function, given),
            _py_graphql.invalid_operation(function),
        )
    ]


def package_outputs(request: PackageRequest) -> list[Output]:
    package, source = request.package, request.package.source
    types = _py_graphql.result_types(package)
    fields = [
        {
            "name": f.name,
            "type": types[f.name],
            "arguments": [(_py_graphql.argument_name(p.name), p.name) for p in f.parameters],
        }
        for f in package.functions
    ]
    return [
        Output(SDL_PATH, "python/graphql/schema.graphql.j2", _py_graphql.sdl_context(package)),
        Output(
            "src/graphql/schema.ts",
            "typescript/graphql/schema.ts.j2",
            {
                "source": source,
                "fields": fields,
                "descriptions": _py_graphql.SCALAR_DESCRIPTIONS,
                "package_root": package_root(request.language, 2),
            },
        ),
        Output("src/graphql/route.ts", "typescript/graphql/route.ts.j2", {"source": source}),
        Output(
            "test/graphql.test.ts",
            "typescript/graphql/test_schema.ts.j2",
            {"source": source, "functions": [f.name for f in package.functions]},
        ),
    ]


RULE = Rule(
    name="typescript.graphql",
    language="typescript",
    interface="graphql",
    version="1",
    function_outputs=function_outputs,
    package_outputs=package_outputs,
)
