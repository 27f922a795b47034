"""Rust: its reserved words are checked now; its rules come with the Rust target."""

from apipack_build.rules import Language

LANGUAGE = Language(
    name="rust",
    reserved_words=frozenset(
        # strict and reserved keywords of the 2021 edition, plus `gen` reserved in 2024
        "as async await break const continue crate dyn else enum extern false fn for if impl in "
        "let loop match mod move mut pub ref return self static struct super trait true type "
        "unsafe use where while abstract become box do final macro override priv try typeof "
        "unsized virtual yield gen".split()
    ),
    ignore=("target/**",),
    # the crates every Rust program can name: a crate called so would hide them
    shadowed_names=frozenset({"alloc", "core", "proc_macro", "std", "test"}),
)
