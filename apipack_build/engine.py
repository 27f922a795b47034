"""Preparing a command's build: its project, settings and specs, then its plan."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .base.fsio import FileHasher
from .base.lookup import FINGERPRINT_FILE, STATE_DIR
from .load.project import resolve_targets

if TYPE_CHECKING:
    from .base.render import Renderer
    from .llm import Provider
    from .plan.memo import KnownTree
    from .run.build import Build
    from .run.treestate import Shard, Vouch
    from .settings import Effective


def prepare(
    targets: Sequence[str | Path] = (),
    *,
    cwd: Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    summary_json: Path | None = None,
    quiet: bool = False,
    offline: bool | None = None,
    refresh: Sequence[str] = (),
    provider_factory: Callable[[], Provider] | None = None,
    incremental: bool = True,
    resolved: tuple[Effective, Sequence[Path]] | None = None,
    hasher: FileHasher | None = None,
    renderers: dict[str, Renderer] | None = None,
    tree: KnownTree | None = None,
) -> Build:
    """Everything up to running: settings, specs, plan. Raises ApipackError on bad input.

    ``incremental=False`` plans every task (plain doit must see the whole graph: ``doit list``,
    ``doit clean``); otherwise the tasks of unchanged spec files are taken from the last build.

    ``offline=None`` follows the settings (``offline:``, ``APIPACK_OFFLINE``).

    A process that builds again and again (``apipack watch``) passes what it keeps: the
    settings *resolved* for these targets, the project's *hasher*, and its *renderers*
    (``plan.plan.make_plan``), and may pass the generated *tree* the plan takes as the last
    build's (``last_tree``, its default)."""
    from .plan.plan import make_plan
    from .run.build import Build  # the heavy part of the engine, loaded when a build is planned

    effective, specs = resolved or resolve_targets(targets, cwd or Path.cwd(), overrides)
    hasher = hasher or FileHasher(effective.root / STATE_DIR / "filestat.json")
    plan = make_plan(
        effective,
        specs,
        offline=offline,
        refresh=frozenset(refresh),
        provider_factory=provider_factory,
        hasher=hasher,
        incremental=incremental,
        renderers=renderers,
        tree=(tree if tree is not None else last_tree(effective)) if incremental else None,
    )
    return Build(plan, hasher=hasher, summary_json=summary_json, quiet=quiet)


def last_tree(effective: Effective, vouch: Vouch | None = None) -> KnownTree | None:
    """The generated tree as the last build's fingerprint recorded it, each package folder's
    shard checked (by stat signatures) when the plan asks, unless *vouch* knows."""
    recorded = _recorded_tree(effective)
    return None if recorded is None else _known_tree(*recorded, vouch)


def check_last_tree(effective: Effective, vouch: Vouch) -> None:
    """Ask *vouch* about every package folder of the last build's tree (between builds, so that
    the next one finds them known)."""
    recorded = _recorded_tree(effective)
    if recorded is not None:
        known = _known_tree(*recorded, vouch)
        for folder in sorted(recorded[1]):
            known.holds(folder)


def _known_tree(
    memo: str, shards: dict[str, Shard], output: Path, vouch: Vouch | None
) -> KnownTree:
    from .plan.memo import KnownTree
    from .run import treestate

    def holds(folder: str) -> bool:
        shard = shards.get(folder)
        if shard is None:
            return False
        if vouch is None:
            return treestate.shard_holds(output, shard)
        return vouch(output, folder, shard.signature, lambda: treestate.shard_holds(output, shard))

    return KnownTree(memo, holds)


def _recorded_tree(effective: Effective) -> tuple[str, dict[str, Shard], Path] | None:
    """The memo digest, the tree's shards and the output folder the last build's fingerprint
    recorded, or None."""
    from .plan.outdir import output_folder
    from .run import fastpath

    recorded = fastpath.read(effective.root / STATE_DIR / FINGERPRINT_FILE) or {}
    shards = _shards_of(recorded)
    if shards is None:
        return None
    return str(recorded.get("memo", "-")), shards, output_folder(effective)


def _shards_of(recorded: dict[str, Any]) -> dict[str, Shard] | None:
    from .run import treestate

    # ``fastpath.read`` gives the same dict while the file is unchanged, and ``from_json`` the
    # same tree for it: a long-lived process asks after a build and again in the next one
    tree = treestate.TreeState.from_json(recorded.get("tree"))
    return tree.shards if tree is not None else None
