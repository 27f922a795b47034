"""Types erased in process (``_strip``): what the JavaScript flavour and the run of a
TypeScript body under Node 20 rely on. Each case is checked by the erasure's result and by
``check_javascript``, the check of the JavaScript flavour's code."""

from __future__ import annotations

import textwrap

import pytest
from apipack_rules.typescript._strip import StripError, strip_types

TYPESCRIPT = textwrap.dedent("""\
    import type { Config } from "./config.js";
    import { type Json, ValidationError, decode } from "./types.js";

    export interface Shape {
      readonly kind: string;
      size?: number;
    }
    export type Name = string | null;

    /** kept */
    export class Box implements Shape {
      readonly kind: string;
      private size!: number;

      constructor(kind: string) {
        this.kind = kind;
      }
    }

    function first<T>(this: void, items: T[], fallback?: T): T | undefined {
      return (items[0] as T | undefined) ?? fallback;
    }

    export const table = new Map<string, Json>();
    const value = decode(table.get("a")!) satisfies unknown;
    """)
JAVASCRIPT = textwrap.dedent("""\
    import { ValidationError, decode } from "./types.js";

    /** kept */
    export class Box {
      kind;
      size;

      constructor(kind) {
        this.kind = kind;
      }
    }

    function first(items, fallback) {
      return (items[0]) ?? fallback;
    }

    export const table = new Map();
    const value = decode(table.get("a"));
    """)


def test_types_are_erased_and_nothing_else_changes() -> None:
    assert strip_types(TYPESCRIPT) == JAVASCRIPT


def test_code_without_types_is_unchanged() -> None:
    assert strip_types(JAVASCRIPT) == JAVASCRIPT


def test_code_that_does_not_parse_is_refused_with_its_place() -> None:
    with pytest.raises(StripError, match=r"^2:1: syntax error near `function f"):
        strip_types("const a = 1;\nfunction f(x: { return x; }\n")
