"""TypeScript: an npm package (ESM, strict TypeScript compiled by tsc) with the functions, a
Fastify service (REST, WebSocket, GraphQL) with gRPC in the same process and a commander CLI."""

from apipack_build.rules import Language, Rule

from . import _filters, cli, core, graphql, grpc, rest, websocket

LANGUAGE = Language(
    name="typescript",
    reserved_words=frozenset(
        # ECMAScript reserved words, strict-mode reserved words and TypeScript's own
        "break case catch class const continue debugger default delete do else enum export "
        "extends false finally for function if import in instanceof new null return super switch "
        "this throw true try typeof var void while with implements interface let package private "
        "protected public static yield await arguments eval any boolean number string symbol "
        "never unknown undefined".split()
    ),
    filters=_filters.FILTERS,
    ignore=("node_modules/**", "dist/**"),
    fences=("typescript", "ts"),
)

RULES: list[Rule] = [core.RULE, rest.RULE, cli.RULE, websocket.RULE, graphql.RULE, grpc.RULE]
