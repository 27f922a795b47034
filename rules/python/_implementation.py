"""What a Python implementation of a spec function must be, for hand-written code and LLM replies.

The signature is exact: the spec's parameter names in order, their annotations and defaults, and
the return annotation, as ``signature()`` writes them (the same text the LLM prompt shows).

Importing the generated package must do nothing but define things: at module level only imports,
functions, classes and constant assignments (a docstring, ``try``/``if`` blocks of those) are
allowed. A constant's value may call only the pure constructors in ``PURE_CALLS``.
"""

from __future__ import annotations

import ast
from typing import Any

from apipack_build.rules import Function, parse_type

from ._filters import py_docstring, py_literal
from ._types import annotation_of
from ._values import python_value


def signature(function: Function | dict[str, Any]) -> str:
    """``def name(a: str, b: int = 3) -> bytes:`` for a function (model or its JSON form)."""
    data = function.model_dump() if isinstance(function, Function) else function
    params = []
    for p in data["parameters"]:
        text = f"{p['name']}: {annotation_of(p['type'])}"
        if p["has_default"]:
            text += f" = {py_literal(python_value(parse_type(p['type']), p['default']))}"
        params.append(text)
    return f"def {data['name']}({', '.join(params)}) -> {annotation_of(data['output_type'])}:"


#: calls a module-level constant may make: they build values and do nothing else
PURE_CALLS = frozenset(
    {
        "bytes",
        "bytes.maketrans",
        "collections.namedtuple",
        "namedtuple",
        "datetime.timedelta",
        "timedelta",
        "decimal.Decimal",
        "Decimal",
        "dict",
        "float",
        "frozenset",
        "int",
        "list",
        "logging.getLogger",
        "range",
        "re.compile",
        "set",
        "str",
        "str.maketrans",
        "tuple",
        "typing.TypeVar",
        "TypeVar",
    }
)


def check_code(source: str, function: Function) -> str | None:
    """Why *source* is not a Python implementation of *function*, or None."""
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        return f"it is not valid Python: {exc.msg} (line {exc.lineno})"
    except ValueError as exc:  # e.g. a null byte
        return f"it is not valid Python: {exc}"
    for statement in tree.body:
        problem = _module_level_problem(statement)
        if problem:
            return (
                f"line {statement.lineno}: {problem}; at module level only imports, functions, "
                f"classes and constant assignments are allowed (importing must run nothing)"
            )
    found = [
        node
        for node in tree.body
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == function.name
    ]
    if not found:
        return f"it defines no top-level function '{function.name}'"
    node = found[-1]
    if isinstance(node, ast.AsyncFunctionDef):
        return f"'{function.name}' must be a plain function, not async"
    wanted = ast.parse(signature(function) + "\n    pass\n").body[0]
    assert isinstance(wanted, ast.FunctionDef)
    problem = _signature_problem(node, wanted)
    if problem:
        return f"{problem}; the signature must be exactly `{signature(function)}`"
    if _is_trivial(node.body):
        return f"the body of '{function.name}' does nothing (only a docstring, pass or ...)"
    return None


def _module_level_problem(statement: ast.stmt) -> str | None:
    if isinstance(
        statement, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
    ):
        return None
    if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant):
        return None  # a docstring
    if isinstance(statement, (ast.Assign, ast.AnnAssign)):
        targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
        if not all(_is_name_target(t) for t in targets):
            return "an assignment to something other than a name"
        return _impure_call(statement.value) if statement.value is not None else None
    if isinstance(statement, ast.Try):
        blocks = [statement.body, statement.orelse, statement.finalbody]
        blocks += [handler.body for handler in statement.handlers]
        return next((p for block in blocks for s in block if (p := _module_level_problem(s))), None)
    if isinstance(statement, ast.If):
        if _impure_call(statement.test):
            return _impure_call(statement.test)
        blocks = [statement.body, statement.orelse]
        return next((p for block in blocks for s in block if (p := _module_level_problem(s))), None)
    if isinstance(statement, ast.Pass):
        return None
    if isinstance(statement, ast.Expr):
        return f"`{ast.unparse(statement)[:60]}` runs code at import"
    return f"a `{type(statement).__name__.lower()}` statement runs code at import"


def _is_name_target(target: ast.expr) -> bool:
    if isinstance(target, ast.Name):
        return True
    return isinstance(target, (ast.Tuple, ast.List)) and all(
        _is_name_target(t) for t in target.elts
    )


def _impure_call(value: ast.expr) -> str | None:
    for node in ast.walk(value):
        if isinstance(node, (ast.Await, ast.Yield, ast.YieldFrom, ast.NamedExpr)):
            return f"`{ast.unparse(node)}` runs code at import"
        if isinstance(node, ast.Call) and ast.unparse(node.func) not in PURE_CALLS:
            return f"`{ast.unparse(node)[:60]}` calls `{ast.unparse(node.func)[:40]}` at import"
    return None


def _signature_problem(got: ast.FunctionDef, wanted: ast.FunctionDef) -> str | None:
    a, b = got.args, wanted.args
    if a.posonlyargs or a.vararg or a.kwonlyargs or a.kwarg:
        return "it takes positional-only, keyword-only or variadic parameters"
    names = [arg.arg for arg in a.args]
    expected = [arg.arg for arg in b.args]
    if names != expected:
        return f"its parameters are ({', '.join(names)}), not ({', '.join(expected)})"
    for arg, want in zip(a.args, b.args, strict=True):
        if _text(arg.annotation) != _text(want.annotation):
            return (
                f"parameter '{arg.arg}' is annotated `{_text(arg.annotation) or 'nothing'}`, "
                f"not `{_text(want.annotation)}`"
            )
    if [_literal(d) for d in a.defaults] != [_literal(d) for d in b.defaults]:
        return "its default values differ from the spec's"
    if _text(got.returns) != _text(wanted.returns):
        return f"it returns `{_text(got.returns) or 'nothing'}`, not `{_text(wanted.returns)}`"
    return None


def _text(node: ast.expr | None) -> str:
    return ast.unparse(node) if node is not None else ""


def _literal(node: ast.expr) -> Any:
    try:
        return ("value", ast.literal_eval(node))
    except ValueError:
        return ("expr", ast.unparse(node))


def _is_trivial(body: list[ast.stmt]) -> bool:
    for statement in body:
        if isinstance(statement, ast.Pass):
            continue
        if (
            isinstance(statement, ast.Expr)
            and isinstance(statement.value, ast.Constant)
            and (isinstance(statement.value.value, str) or statement.value.value is Ellipsis)
        ):
            continue
        return False
    return True


def prompt_docstring(function: dict[str, Any]) -> str:
    """A complete docstring (quotes included, body indented 4) for the LLM prompt: the
    description, each parameter, the return type and the spec's examples as doctests."""
    lines = [function["description"] or function["name"].replace("_", " ").capitalize(), ""]
    if function["parameters"]:
        lines.append("Args:")
        for p in function["parameters"]:
            about = f": {p['description']}" if p["description"] else ""
            lines.append(f"    {p['name']} ({p['type']}){about}")
        lines.append("")
    lines += ["Returns:", f"    {function['output_type']}"]
    examples = [e for e in function["examples"] if e["has_output"]]
    if examples:
        lines += ["", "Examples:"]
        for example in examples:
            types = {p["name"]: parse_type(p["type"]) for p in function["parameters"]}
            args = ", ".join(
                f"{name}={py_literal(python_value(types[name], value))}"
                for name, value in example["input"].items()
            )
            output = python_value(parse_type(function["output_type"]), example["output"])
            lines += [f"    >>> {function['name']}({args})", f"    {py_literal(output)}"]
    return '"""' + py_docstring("\n".join(lines) + "\n", indent=4) + '    """'


FILTERS = {"py_signature": signature, "py_prompt_docstring": prompt_docstring}
