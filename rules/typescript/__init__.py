"""TypeScript: an npm package (ESM, strict TypeScript compiled by tsc) with the functions, a
Fastify REST service and a commander CLI."""

from apipack_build.rules import Language, Rule

from . import _filters, _implementation, _verify, cli, core, rest

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
    filters={**_filters.FILTERS, **_implementation.FILTERS},
    ignore=("node_modules/**", "dist/**"),
    fences=("typescript", "ts"),
    check_code=_implementation.check_code,
    example_run=_verify.example_run,
)

RULES: list[Rule] = [core.RULE, rest.RULE, cli.RULE]
