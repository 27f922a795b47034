"""Runs one function body against its spec's examples: apipack copies this file, as ``run.py``,
into an empty folder beside ``candidate.py`` (the body) and ``cases.py`` (the examples as Python
literals), and runs it there with no environment, a time limit and a memory limit.

It writes ``verdict.json``: ``{"failures": [...]}`` (empty when every example holds), or
``{"unverified": reason}`` when the body needs a library that is not installed here. It imports
nothing of apipack: it must run in any Python that can run the body.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import sys
from typing import Any

LONGEST = 200  # characters of a value shown in a message


def shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= LONGEST else text[: LONGEST - 3] + "..."


def close(result: Any, expected: Any) -> bool:
    """``pytest.approx``'s default tolerance, for a number or a flat list or dict of numbers."""
    if isinstance(expected, dict):
        return (
            isinstance(result, dict)
            and result.keys() == expected.keys()
            and all(close(result[k], v) for k, v in expected.items())
        )
    if isinstance(expected, list):
        return (
            isinstance(result, list)
            and len(result) == len(expected)
            and all(close(r, e) for r, e in zip(result, expected, strict=True))
        )
    if isinstance(result, bool) or not isinstance(result, (int, float)):
        return False
    return math.isclose(result, expected, rel_tol=1e-6, abs_tol=1e-12)


def holds(kind: str, result: Any, expected: Any, check: str) -> bool:
    if kind == "type":
        return bool(eval(check, {"result": result}))  # an expression apipack wrote
    if kind == "is":
        return result is expected
    if kind == "approx":
        return close(result, expected)
    return bool(result == expected)


def failures(function: Any, name: str, cases: list[tuple[Any, ...]]) -> list[str]:
    found = []
    for example, arguments, kind, expected, check, checks in cases:
        call = f"{name}({', '.join(f'{k}={shown(v)}' for k, v in arguments.items())})"
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                result = function(**arguments)
        except Exception as exc:  # the body's own error is the finding
            found.append(f"example '{example}': {call} raised {type(exc).__name__}: {exc}")
            continue
        if not holds(kind, result, expected, check):
            wanted = f"a result for which {check}" if kind == "type" else shown(expected)
            found.append(f"example '{example}': {call} returned {shown(result)}, not {wanted}")
            continue
        for expression in checks:  # expressions apipack wrote from the example's check:
            if not eval(expression, {"result": result}):
                found.append(
                    f"example '{example}': {call} returned {shown(result)}, "
                    f"for which `{expression}` does not hold"
                )
    return found


def main() -> dict[str, Any]:
    from cases import CASES, NAME  # type: ignore[import-not-found]

    with open("candidate.py", encoding="utf-8") as file:
        source = file.read()
    namespace: dict[str, Any] = {"__name__": "candidate"}
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            exec(compile(source, "candidate.py", "exec"), namespace)
    except ModuleNotFoundError as exc:
        top = (exc.name or "").partition(".")[0]
        if top and top not in sys.stdlib_module_names:
            return {"unverified": f"it needs {top}, which is not installed where apipack runs"}
        return {"failures": [f"importing it failed: {exc}"]}
    except Exception as exc:
        return {"failures": [f"importing it raised {type(exc).__name__}: {exc}"]}
    return {"failures": failures(namespace[NAME], NAME, CASES)}


if __name__ == "__main__":
    sys.path.insert(0, "")  # cases.py, here; run with -I, which leaves the folder off the path
    verdict = main()
    with open("verdict.json", "w", encoding="utf-8") as out:
        json.dump(verdict, out)
