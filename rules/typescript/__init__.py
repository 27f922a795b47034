"""TypeScript: an npm package (ESM, strict TypeScript compiled by tsc) with the functions, a
Fastify service (REST, WebSocket, GraphQL) with gRPC in the same process and a commander CLI;
and its JavaScript flavour, the same package as plain ESM JavaScript (``javascript``)."""

from apipack_build.rules import Language, Rule

from . import (
    _filters,
    _implementation,
    _layout,
    _strip,
    _verify,
    cli,
    core,
    graphql,
    grpc,
    javascript,
    rest,
    websocket,
)

#: ECMAScript reserved words, strict-mode reserved words and TypeScript's own
_RESERVED = frozenset(
    "break case catch class const continue debugger default delete do else enum export "
    "extends false finally for function if import in instanceof new null return super switch "
    "this throw true try typeof var void while with implements interface let package private "
    "protected public static yield await arguments eval any boolean number string symbol "
    "never unknown undefined".split()
)
_FILTERS = {
    **_filters.FILTERS,
    **_implementation.FILTERS,
    "strip_types": _strip.strip_types,
    "ts_statement": _layout.statement,
}

LANGUAGE = Language(
    name="typescript",
    reserved_words=_RESERVED,
    filters=_FILTERS,
    ignore=("node_modules/**", "dist/**"),
    fences=("typescript", "ts"),
    check_code=_implementation.check_code,
    example_run=_verify.example_run,
)

JAVASCRIPT = Language(
    name="javascript",
    reserved_words=_RESERVED,
    filters=_FILTERS,
    ignore=("node_modules/**",),
    fences=("javascript", "js", "mjs"),
    check_code=_implementation.check_javascript,
    example_run=_verify.example_run,
    # a function written in TypeScript serves the JavaScript flavour with its types erased
    derive={"typescript": _strip.strip_types},
)

RULES: list[Rule] = [core.RULE, rest.RULE, cli.RULE, websocket.RULE, graphql.RULE, grpc.RULE]
JAVASCRIPT_RULES: list[Rule] = [javascript.flavour(rule) for rule in RULES]
