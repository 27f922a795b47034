"""Hypothesis strategies, as Python source, for the values a spec type admits: the property tests
of functions whose spec gives no examples."""

from __future__ import annotations

from apipack_build.rules import TypeRef

#: small values: a property test is a smoke test of many calls, not a load test
_SCALARS = {
    "string": "st.text(max_size=20)",
    "int": "st.integers(min_value=-(2**63), max_value=2**63 - 1)",
    "float": "st.floats(allow_nan=False, allow_infinity=False)",
    "bool": "st.booleans()",
    "bytes": "st.binary(max_size=64)",
}


def strategy(ref: TypeRef) -> str:
    if ref.kind in _SCALARS:
        return _SCALARS[ref.kind]
    if ref.kind == "list":
        return f"st.lists({strategy(ref.item)}, max_size=4)"
    if ref.kind == "dict":
        return f"st.dictionaries(st.text(max_size=8), {strategy(ref.item)}, max_size=4)"
    if ref.kind == "optional":
        return f"st.one_of(st.none(), {strategy(ref.item)})"
    raise ValueError(f"no strategy for {ref}")
