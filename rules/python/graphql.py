"""python.graphql: a strawberry schema with one query field per function, and its SDL.

Functions are pure, so every one is a query (no mutations). Names stay as the spec writes them
(no camelCase), so a client uses the same names over every interface. Spec ``int`` is the
``Int64`` scalar (GraphQL's ``Int`` is 32-bit), ``bytes`` the ``Base64`` scalar, and a ``dict``
(with everything inside it) one ``JSON`` value, validated by pydantic in the resolver.
"""

from __future__ import annotations

from typing import Any

from apipack_build.rules import (
    Function,
    FunctionRequest,
    Output,
    Package,
    PackageRequest,
    Parameter,
    Rule,
    TypeRef,
)

from . import (
    _examples,
    core,  # as a module: core imports the README rule, which imports this one
)
from . import _graphql_sdl as sdl
from ._names import camel, local_name, module_name, unique_names
from ._types import annotation, contains
from ._values import json_value, python_value

#: lowercase names a field module defines or imports itself; parameters are renamed around them
_FIELD_MODULE_NAMES = (
    "annotations",
    "from_json",
    "given",
    "resolve",
    "result",
    "run",
    "strawberry",
    "to_json",
)
#: parameter names strawberry reserves for itself (the parent value, the request info)
_STRAWBERRY_RESERVED = ("cls", "info", "parent", "root", "self")
#: argument names GraphQL cannot carry to a strawberry resolver: graphql-core passes the request
#: info positionally as ``info``, so such an argument is ``info_`` in the schema too
_GRAPHQL_RENAMED = ("info",)


def argument_name(name: str) -> str:
    """The GraphQL name of a parameter."""
    return f"{name}_" if name in _GRAPHQL_RENAMED else name


_TEST_MODULE_NAMES = (
    "NAMES",
    "client",
    "query",
    "pytest",
    "test_answers_valid_input",
    "test_rejects_invalid_input",
)
#: GraphQL type names a result type must not take
_TYPE_NAMES = ("Base64", "Boolean", "Float", "ID", "Int", "Int64", "JSON", "Query", "String")


def result_types(package: Package) -> dict[str, str]:
    """The GraphQL type of each function's result: ``ScaleResult`` for ``scale``."""
    names = unique_names((f"{camel(f.name)}Result" for f in package.functions), _TYPE_NAMES)
    return {f.name: name for f, name in zip(package.functions, names, strict=True)}


def function_outputs(request: FunctionRequest) -> list[Output]:
    package, function = request.package, request.function
    module = module_name(package)
    return [
        Output(
            f"src/{module}/graphql/fields/{function.name}.py",
            "python/graphql/field.py.j2",
            _field_context(package, function),
        ),
        Output(
            f"tests/test_graphql_{function.name}.py",
            "python/graphql/test_field.py.j2",
            _test_context(package, function),
        ),
    ]


def _field_context(package: Package, function: Function) -> dict[str, Any]:
    arguments = [_argument(p) for p in function.parameters]
    output = function.output_ref
    taken = {*_FIELD_MODULE_NAMES, *(a["python"] for a in arguments)}
    json_arguments = [a for a in arguments if a["json"]]
    result_json = annotation(output, "Base64Bytes") if contains(output, "dict") else ""
    json_types = [a["json"] for a in json_arguments] + ([result_json] if result_json else [])
    uses_json_scalar = bool(json_types)
    scalars = ["JSON"] if uses_json_scalar else []
    if any("Base64Bytes" in text for text in json_types):
        scalars.append("Base64Bytes")  # after JSON: isort puts constants first
    return {
        "source": package.source,
        "module": module_name(package),
        "function": function.name,
        "local": local_name(function.name, taken),
        "description": function.description,
        "result_type": result_types(package)[function.name],
        "result_description": result_description(function.name),
        "result_annotation": graphql_annotation(output),
        "result_json": result_json,
        "arguments": arguments,
        "json_arguments": json_arguments,
        "json_types": json_types,
        "scalars": scalars,
        "uses_unset": any(a["unset"] for a in arguments),
        "uses_annotated": any(a["description"] or a["python"] != a["name"] for a in arguments),
    }


def _argument(param: Parameter) -> dict[str, Any]:
    ref = param.type_ref
    reserved = param.name in _STRAWBERRY_RESERVED or param.name in _FIELD_MODULE_NAMES
    has_json = contains(ref, "dict")
    default = python_value(ref, param.default) if param.has_default else None
    # a list or JSON default cannot be written safely into the resolver's signature (a shared
    # mutable default) nor always into the SDL: such an argument is left out to get it
    unset = default is not None and (has_json or isinstance(default, list))
    if has_json and not unset:
        default = json_value(ref, default)
    return {
        "name": argument_name(param.name),  # in GraphQL
        "parameter": param.name,  # of the function
        "python": f"{param.name}_" if reserved else param.name,
        "constant": f"{param.name.upper()}_JSON",
        "annotation": graphql_annotation(ref)
        + (" | None" if unset and ref.kind != "optional" else ""),
        # for such a non-optional argument, null too means its default
        "null_is_default": unset and ref.kind != "optional",
        "json": annotation(ref, "Base64Bytes") if has_json else "",
        "has_default": param.has_default,
        "default": default,
        "unset": unset,
        "description": param.description,
    }


def graphql_annotation(ref: TypeRef) -> str:
    """The resolver's annotation: Python types (``int`` and ``bytes`` map to the Int64 and
    Base64 scalars through the schema's scalar map), with ``JSON`` for a dict."""
    if ref.kind == "dict":
        return "JSON"
    if ref.kind == "list":
        return f"list[{graphql_annotation(ref.item)}]"
    if ref.kind == "optional":
        return f"{graphql_annotation(ref.item)} | None"
    return annotation(ref)


# ---- the SDL ----


def sdl_context(package: Package) -> dict[str, Any]:
    """The types in the order the printer writes them (by name), and the query's fields."""
    names = result_types(package)
    refs = [p.type_ref for f in package.functions for p in f.parameters]
    refs += [f.output_ref for f in package.functions]
    types = [
        {"kind": "scalar", "name": name, "description": sdl.description(SCALAR_DESCRIPTIONS[name])}
        for name in sdl.scalars_used(refs)
    ]
    types.append({"kind": "query", "name": "Query"})
    types += [
        {
            "kind": "result",
            "name": names[f.name],
            "description": sdl.description(result_description(f.name)),
            "result": sdl.sdl_type(f.output_ref),
        }
        for f in package.functions
    ]
    return {
        "source": package.source,
        "types": sorted(types, key=lambda t: t["name"]),
        "query_fields": [
            _sdl_field(f, i == 0, names[f.name]) for i, f in enumerate(package.functions)
        ],
    }


def _sdl_field(function: Function, first: bool, result_type: str) -> str:
    """One field of ``type Query`` as the printer writes it, description included."""
    args = [_sdl_argument(p) for p in function.parameters]
    described = any(p.description for p in function.parameters)
    if not args:
        signature = ""
    elif not described:
        signature = "(" + ", ".join(args) + ")"
    else:
        lines = [
            sdl.description(p.description, "    ", i == 0) + "    " + text
            for i, (p, text) in enumerate(zip(function.parameters, args, strict=True))
        ]
        signature = "(\n" + "\n".join(lines) + "\n  )"
    return (
        sdl.description(function.description, "  ", first)
        + f"  {function.name}{signature}: {result_type}!"
    )


def _sdl_argument(param: Parameter) -> str:
    """``name: Type = default`` as the printer writes an argument."""
    name, type_text = _typed_name(param)
    info = _argument(param)
    if info["has_default"] and not info["unset"]:
        ref = param.type_ref
        value = sdl.default_value(ref, python_value(ref, param.default))
        if value is not None:
            return f"{name}: {type_text} = {value}"
    return f"{name}: {type_text}"


def _typed_name(param: Parameter) -> tuple[str, str]:
    """The GraphQL name and type of an argument: nullable when optional or left out for its
    (JSON) default."""
    ref = param.type_ref
    nullable = ref.kind == "optional" or bool(_argument(param)["unset"])
    return argument_name(param.name), sdl.sdl_type(ref, nullable)


# ---- tests ----


def _test_context(package: Package, function: Function) -> dict[str, Any]:
    return {
        "source": package.source,
        "module": module_name(package),
        "function": function.name,
        "examples": [
            {
                "test": test,
                **operation(function, example.input),
                **core.compared(function, example, as_json=True),
            }
            for test, example in _examples.named(function, _TEST_MODULE_NAMES)
        ],
        "invalid": invalid_operation(function),
        # the property test passes every argument
        "every": {
            "query": _query(function, list(function.parameters)),
            "names": {p.name: argument_name(p.name) for p in function.parameters},
        },
        **core.reference_context(function, "graphql", _TEST_MODULE_NAMES, as_json=True),
    }


def operation(function: Function, values: dict[str, Any]) -> dict[str, Any]:
    """A GraphQL query calling *function* with *values* as variables: ``query``, ``variables``."""
    params = [p for p in function.parameters if p.name in values]
    return {
        "query": _query(function, params),
        "variables": {
            argument_name(p.name): json_value(p.type_ref, values[p.name]) for p in params
        },
    }


def _query(function: Function, params: list[Parameter]) -> str:
    if not params:
        return f"{{ {function.name} {{ result }} }}"
    typed = [_typed_name(p) for p in params]
    declared = ", ".join(f"${name}: {type_text}" for name, type_text in typed)
    passed = ", ".join(f"{name}: ${name}" for name, _ in typed)
    return f"query ({declared}) {{ {function.name}({passed}) {{ result }} }}"


def invalid_operation(function: Function) -> dict[str, Any]:
    """A query that must fail validation: a wrongly typed first argument, or an unknown one."""
    if not function.parameters:
        return {
            "query": f"{{ {function.name}(no_such_argument: 1) {{ result }} }}",
            "variables": {},
        }
    first = function.parameters[0]
    return {
        "query": _query(function, [first]),
        "variables": {argument_name(first.name): _examples.wrong_value(first.type_ref)},
    }


def package_outputs(request: PackageRequest) -> list[Output]:
    package = request.package
    module = module_name(package)
    source = package.source
    names = [f.name for f in package.functions]
    types = result_types(package)
    return [
        Output(
            f"src/{module}/graphql/__init__.py",
            "python/graphql/init.py.j2",
            {"source": source, "module": module, "name": package.name},
        ),
        Output(
            f"src/{module}/graphql/fields/__init__.py",
            "python/graphql/fields_init.py.j2",
            {"source": source},
        ),
        Output(
            f"src/{module}/graphql/scalars.py",
            "python/graphql/scalars.py.j2",
            {"source": source, "descriptions": SCALAR_DESCRIPTIONS},
        ),
        Output(
            f"src/{module}/graphql/errors.py",
            "python/graphql/errors.py.j2",
            {"source": source, "module": module},
        ),
        Output(
            f"src/{module}/graphql/resolving.py",
            "python/graphql/resolving.py.j2",
            {"source": source, "module": module},
        ),
        Output(
            f"src/{module}/graphql/schema.py",
            "python/graphql/schema.py.j2",
            {
                "source": source,
                "module": module,
                "fields": [
                    {
                        "name": name,
                        "module": f"_{name}",
                        "type": types[name],
                        "import": {"name": name, "local": f"_{name}"},
                    }
                    for name in names
                ],
            },
        ),
        Output(
            f"src/{module}/graphql/schema.graphql",
            "python/graphql/schema.graphql.j2",
            sdl_context(package),
        ),
        Output(
            "tests/test_graphql_schema.py",
            "python/graphql/test_schema.py.j2",
            {"source": source, "module": module, "functions": names},
        ),
    ]


def result_description(function: str) -> str:
    return f"What {function} returns."


#: the descriptions of the custom scalars, in the module and in the SDL
SCALAR_DESCRIPTIONS = {
    "Base64": "Bytes as standard base64 text (RFC 4648, padded).",
    "Int64": "A signed 64-bit integer, written as a JSON number.",
    "JSON": "A JSON value: a spec dict, with any bytes inside as base64 text.",
}


RULE = Rule(
    name="python.graphql",
    language="python",
    interface="graphql",
    version="1",
    function_outputs=function_outputs,
    package_outputs=package_outputs,
)
