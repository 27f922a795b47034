"""What a TypeScript (or JavaScript) implementation of a spec function must be, for
hand-written code and LLM replies alike, checked in process with the tree-sitter grammar.

* It parses, and uses only erasable TypeScript (no enum, namespace or decorator), so stripping
  its types gives the JavaScript flavour; JavaScript has no type syntax at all.
* It exports ``function <name>`` with the spec's parameter names in order, each annotated with
  its spec type as ``signature()`` writes it, and that return type (whitespace aside): a plain
  function, not async, generic, optional or variadic. Defaults are the function's own business:
  every interface passes each argument.
* It uses no name that it neither defines nor imports, nor a global (``_globals``). Scopes are
  not followed: a name defined anywhere in the file counts as defined, which is enough to catch
  a call to a helper the model never wrote.
* At module level only imports, declarations and constants whose values call nothing but the
  pure constructors of ``_globals``: importing the package must run nothing.

Problems are ``line:col: message`` (1-based), so the engine can put a file's path in front.
"""

from __future__ import annotations

import re
from typing import Any

from apipack_build.rules import Function, parse_type

from . import _globals
from ._filters import ts_doc
from ._syntax import (
    NOT_ERASABLE,
    PARAMETER_PROPERTY_MARKS,
    TYPE_ONLY,
    Node,
    parse,
    syntax_error,
    text,
    walk,
    where,
)
from ._types import annotation, literal

_DECLARATIONS = {
    "function_declaration",
    "generator_function_declaration",
    "class_declaration",
    "abstract_class_declaration",
    "type_alias_declaration",
    "interface_declaration",
}
_FUNCTIONS = ("arrow_function", "function_expression", "function", "generator_function", "class")
#: (parent type, field) whose identifiers are bindings; a pattern binds every name inside it
_BINDING_FIELDS = {
    ("variable_declarator", "name"),
    ("function_declaration", "name"),
    ("generator_function_declaration", "name"),
    ("function_expression", "name"),
    ("generator_function", "name"),
    ("class_declaration", "name"),
    ("abstract_class_declaration", "name"),
    ("class", "name"),
    ("required_parameter", "pattern"),
    ("optional_parameter", "pattern"),
    ("arrow_function", "parameter"),
    ("catch_clause", "parameter"),
    ("for_in_statement", "left"),
    ("type_alias_declaration", "name"),
    ("interface_declaration", "name"),
    ("type_parameter", "name"),
}
_IMPORT_BINDINGS = ("import_clause", "namespace_import", "import_specifier")


def signature(function: Function | dict[str, Any], typed: bool = True) -> str:
    """``export function name(a: string, b: bigint = 3n): T`` (untyped for JavaScript), for a
    function or its JSON form (the prompt's)."""
    data = function.model_dump() if isinstance(function, Function) else function
    params = []
    for p in data["parameters"]:
        ref = parse_type(p["type"])
        part = f"{p['name']}: {annotation(ref)}" if typed else p["name"]
        params.append(part + (f" = {literal(ref, p['default'])}" if p["has_default"] else ""))
    returns = f": {annotation(parse_type(data['output_type']))}" if typed else ""
    return f"export function {data['name']}({', '.join(params)}){returns}"


def check_code(source: str, function: Function) -> str | None:
    """Why *source* is not a TypeScript implementation of *function*, or None."""
    return _check(source, function, typed=True)


def check_javascript(source: str, function: Function) -> str | None:
    """Why *source* is not a JavaScript (ESM) implementation of *function*, or None."""
    return _check(source, function, typed=False)


def _check(source: str, function: Function, typed: bool) -> str | None:
    root = parse(source)
    language = "TypeScript" if typed else "JavaScript"
    problem = syntax_error(root)
    if problem:
        return problem.replace("syntax error", f"not valid {language}", 1)
    for node in walk(root):
        what = NOT_ERASABLE.get(node.type) or (
            "a parameter property"
            if node.type in ("required_parameter", "optional_parameter")
            and any(c.type in PARAMETER_PROPERTY_MARKS for c in node.children)
            else ""
        )
        if what:
            return (
                f"{where(node)}: {what} is not erasable TypeScript; use a union of literals, "
                f"a const object, a plain function or a field assigned in the constructor"
            )
        if not typed and (
            node.type in TYPE_ONLY
            or node.type in ("as_expression", "satisfies_expression", "non_null_expression")
        ):
            return f"{where(node)}: `{text(node)[:40]}` is TypeScript, not JavaScript"
    for statement in root.named_children:
        problem = _module_level_problem(statement)
        if problem:
            return (
                f"{where(statement)}: {problem}; at module level only imports, declarations and "
                f"constants are allowed (importing must run nothing)"
            )
    return _signature_problem(root, function, typed) or _undefined_name(root)


def _module_level_problem(statement: Node) -> str | None:
    kind = statement.type
    if kind in ("comment", "hash_bang_line", "empty_statement", "import_statement"):
        return None
    if kind == "export_statement":
        inner = statement.child_by_field_name("declaration")
        if inner is not None:
            return _module_level_problem(inner)
        if statement.child_by_field_name("value") is not None or any(
            c.type == "default" for c in statement.children
        ):
            return "a default export (export the function by its name)"
        return None  # export { a, b } / export * from "x"
    if kind in _DECLARATIONS:
        return None
    if kind in ("lexical_declaration", "variable_declaration"):
        return _impure(statement)
    if kind == "expression_statement" and [c.type for c in statement.named_children] == ["string"]:
        return None  # a directive such as "use strict"
    return f"`{text(statement).splitlines()[0][:60]}` runs code at import"


def _impure(declaration: Node) -> str | None:
    """What in a module-level constant's value runs code (functions it defines may)."""
    pending = [declaration]
    while pending:
        node = pending.pop()
        if node.type in _FUNCTIONS:
            continue
        if node.type == "call_expression":
            callee = text(node.child_by_field_name("function"))
            if callee not in _globals.PURE_CALLS:
                return f"`{text(node)[:60]}` calls `{callee[:40]}` at import"
        if node.type == "new_expression":
            made = text(node.child_by_field_name("constructor"))
            if made not in _globals.PURE_CLASSES:
                return f"`{text(node)[:60]}` constructs `{made[:40]}` at import"
        if node.type in (
            "await_expression",
            "assignment_expression",
            "update_expression",
            "augmented_assignment_expression",
            "yield_expression",
        ):
            return f"`{text(node)[:60]}` runs code at import"
        pending.extend(node.children)
    return None


def _signature_problem(root: Node, function: Function, typed: bool) -> str | None:
    name, wanted = function.name, signature(function, typed)
    exported, found = [], []
    for statement in root.named_children:
        inner = (
            statement.child_by_field_name("declaration")
            if statement.type == "export_statement"
            else statement
        )
        if inner is None:
            continue
        if inner.type in ("function_declaration", "generator_function_declaration"):
            if text(inner.child_by_field_name("name")) == name:
                (exported if inner is not statement else found).append(inner)
        elif inner.type in ("lexical_declaration", "variable_declaration"):
            for declarator in inner.named_children:
                if text(declarator.child_by_field_name("name")) == name:
                    return (
                        f"{where(declarator)}: '{name}' must be a function declaration: "
                        f"`{wanted} {{ ... }}`"
                    )
    if not exported:
        if found:
            return f"{where(found[0])}: '{name}' is not exported; write `{wanted} {{ ... }}`"
        return f"1:1: it exports no function '{name}'; write `{wanted} {{ ... }}`"
    node = exported[-1]
    problem = _shape_problem(node, function, typed)
    if problem:
        return f"{where(node)}: {problem}; the signature must be exactly `{wanted}`"
    body = node.child_by_field_name("body")
    if body is not None and not [c for c in body.named_children if c.type != "comment"]:
        return f"{where(body)}: the body of '{name}' does nothing"
    return None


def _shape_problem(node: Node, function: Function, typed: bool) -> str | None:
    if node.type == "generator_function_declaration":
        return f"'{function.name}' must be a plain function, not a generator"
    if any(c.type == "async" for c in node.children):
        return f"'{function.name}' must be a plain function, not async"
    if node.child_by_field_name("type_parameters") is not None:
        return f"'{function.name}' must not be generic"
    parameters = node.child_by_field_name("parameters")
    given = [] if parameters is None else parameters.named_children
    given = [p for p in given if p.type != "comment"]
    names = []
    for parameter in given:
        pattern = parameter.child_by_field_name("pattern")
        if (
            parameter.type != "required_parameter"
            or pattern is None
            or pattern.type != "identifier"
        ):
            return f"parameter `{text(parameter)[:40]}` is optional, variadic or destructured"
        names.append(text(pattern))
    expected = [p.name for p in function.parameters]
    if names != expected:
        return f"its parameters are ({', '.join(names)}), not ({', '.join(expected)})"
    if not typed:
        return None
    for parameter, spec in zip(given, function.parameters, strict=True):
        got = _type_text(parameter.child_by_field_name("type"))
        want = annotation(spec.type_ref)
        if _squeezed(got) != _squeezed(want):
            return f"parameter '{spec.name}' is typed `{got or 'nothing'}`, not `{want}`"
    got = _type_text(node.child_by_field_name("return_type"))
    want = annotation(function.output_ref)
    if _squeezed(got) != _squeezed(want):
        return f"it returns `{got or 'nothing'}`, not `{want}`"
    return None


def _type_text(annotation_node: Node | None) -> str:
    return text(annotation_node).removeprefix(":").strip()


def _squeezed(type_text: str) -> str:
    return re.sub(r"\s+", "", type_text)


def _undefined_name(root: Node) -> str | None:
    values, types = _defined(root)
    for node in walk(root):
        parent = node.parent
        if node.type in ("identifier", "shorthand_property_identifier"):
            if (
                parent is not None
                and parent.type in ("nested_type_identifier", "export_specifier")
                and node != parent.child_by_field_name("name")
            ):
                continue
            name = text(node)
            if name not in values and name not in _globals.VALUES:
                return f"{where(node)}: `{name}` is neither defined nor imported"
        elif node.type == "type_identifier":
            if parent is not None and parent.type == "nested_type_identifier":
                continue
            name = text(node)
            if name not in types and name not in _globals.TYPES:
                return f"{where(node)}: type `{name}` is neither defined nor imported"
    return None


def _defined(root: Node) -> tuple[set[str], set[str]]:
    """Every name the file binds anywhere: (values, types); a class is both."""
    values: set[str] = set()
    types: set[str] = set()
    for node in walk(root):
        kind = node.type
        if kind in _IMPORT_BINDINGS:
            for child in node.named_children:
                if child.type == "identifier":
                    values.add(text(child))
                    types.add(text(child))
        if kind == "shorthand_property_identifier_pattern":
            values.add(text(node))
        for field in ("name", "pattern", "parameter", "left"):
            if (kind, field) not in _BINDING_FIELDS:
                continue
            bound = node.child_by_field_name(field)
            if bound is None:
                continue
            for inner in walk(bound):
                if inner.type == "identifier":
                    values.add(text(inner))
                elif inner.type == "type_identifier":
                    types.add(text(inner))
                if kind in ("class_declaration", "abstract_class_declaration", "class"):
                    values.add(text(inner))  # a class is a value and a type
                    types.add(text(inner))
    return values, types


def prompt_doc(function: dict[str, Any], typed: bool = True) -> str:
    """A JSDoc block for the LLM prompt: the description, each parameter, the return type and
    the spec's examples as calls with their results."""
    lines = [function["description"] or function["name"].replace("_", " ").capitalize(), ""]
    for p in function["parameters"]:
        about = f" {p['description']}" if p["description"] else ""
        lines.append(f"@param {p['name']} ({p['type']}){about}")
    lines.append(f"@returns ({function['output_type']})")
    examples = [e for e in function["examples"] if e["has_output"]]
    if examples:
        lines += ["", "@example"]
        types = {p["name"]: parse_type(p["type"]) for p in function["parameters"]}
        output = parse_type(function["output_type"])
        for example in examples:
            args = ", ".join(
                literal(types[p["name"]], example["input"][p["name"]])
                if p["name"] in example["input"]
                else literal(types[p["name"]], p["default"])
                for p in function["parameters"]
            )
            lines.append(f"{function['name']}({args}) // => {literal(output, example['output'])}")
    return ts_doc("\n".join(lines))


def js_signature(function: dict[str, Any]) -> str:
    return signature(function, typed=False)


FILTERS = {"ts_signature": signature, "js_signature": js_signature, "ts_prompt_doc": prompt_doc}
