"""The ``apipack`` command line. Exit codes: 0 ok, 1 stale output or failed task,
2 bad input, 3 LLM unavailable or a response missing offline."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

# Only light modules here: a no-op `generate` answers from the fast path before doit, Jinja,
# httpx or diskcache are loaded, and a command served by a daemon loads not even the fast path
# (``daemon.client``); each command imports the parts it uses.
from .base.heap import collector_paused, heap_left_at_exit
from .base.lookup import LAST_BUILD, STATE_DIR, find_project_file, template_dirs
from .engine import prepare
from .errors import ApipackError, BuildError, ConfigError, LLMError, redact, shown
from .load.project import resolve_targets

if TYPE_CHECKING:
    from collections.abc import Callable

    from .run.build import Build
    from .run.treestate import Vouch

    Subcommands = argparse._SubParsersAction[argparse.ArgumentParser]

#: how ``generate`` and ``check`` prepare a build: from disk in a fresh process; a daemon
#: (``_serve``) puts here a session's, which starts from what it kept of the last build
prepare_build: Callable[..., Build] = prepare


def _nothing_known() -> Vouch | None:
    return None


#: what the fast path of ``generate`` and ``check`` may take as known of the generated tree:
#: nothing in a fresh process (it stats every generated file); a daemon puts here its session's
#: record of the package folders unchanged since checked (``_treewatch``)
tree_vouch: Callable[[], Vouch | None] = _nothing_known

DRY_RUN_LINE = "apipack: dry run: {} file(s) would change; nothing written"
CURRENT_LINE = "apipack: {} generated files are current"


def _split(values: list[str] | None) -> list[str] | None:
    """``-i rest -i cli`` and ``-i rest,cli`` mean the same."""
    if not values:
        return None
    return sorted({v.strip() for value in values for v in value.split(",") if v.strip()})


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "languages": _split(getattr(args, "language", None)),
        "interfaces": _split(getattr(args, "interface", None)),
        "output": getattr(args, "output", None),
        "jobs": getattr(args, "jobs", None),
    }


def _targets_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument(
        "targets",
        nargs="*",
        metavar="SPEC|PROJECT",
        help="spec files, a project file, or a project folder (default: .)",
    )
    parser.add_argument(
        "-l",
        "--language",
        action="append",
        metavar="LANG",
        help="build only these languages (repeat or comma-separate)",
    )
    parser.add_argument(
        "-i",
        "--interface",
        "--interfaces",  # the APIpack README's spelling
        action="append",
        metavar="IFACE",
        help="build only these interfaces (repeat or comma-separate)",
    )
    parser.add_argument("-o", "--output", metavar="DIR", help="output folder")
    return parser


def _add_init(sub: Subcommands, targets: argparse.ArgumentParser) -> None:
    init = sub.add_parser("init", help="write a starter spec (and apipack.yml if absent)")
    init.add_argument("--name", required=True)
    init.add_argument("--description", default="")


def _add_validate(sub: Subcommands, targets: argparse.ArgumentParser) -> None:
    validate = sub.add_parser("validate", help="check spec files; exit 2 listing every problem")
    validate.add_argument("files", nargs="*", metavar="FILE")


def _add_generate(sub: Subcommands, targets: argparse.ArgumentParser) -> None:
    gen = sub.add_parser("generate", parents=[targets], help="build the packages")
    gen.add_argument(
        "--spec",
        action="append",
        default=[],
        metavar="SPEC",
        help="a spec file to build (repeatable; the same as naming it as an argument)",
    )
    gen.add_argument("-n", "--jobs", type=int, metavar="JOBS", help="tasks in parallel")
    dry_or_fail = gen.add_mutually_exclusive_group()
    dry_or_fail.add_argument(
        "--dry-run",
        action="store_true",
        help="list what would be written, changed or deleted; write nothing",
    )
    dry_or_fail.add_argument(
        "--fail-on-change",
        action="store_true",
        help="exit 1, naming each file, if the build created, updated or deleted any generated "
        "file or apipack.lock (after writing them), as formatters do in pre-commit hooks",
    )
    gen.add_argument(
        "--summary-json", type=Path, metavar="FILE", help="write the build summary as JSON"
    )
    gen.add_argument(
        "--offline",
        action="store_true",
        default=None,
        help="never call a model; fail before building if a response is missing",
    )
    gen.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="no progress and no summary line (errors are still shown)",
    )
    gen.add_argument(
        "--refresh",
        action="append",
        default=[],
        metavar="FUNCTION",
        help="ask the model again for this function (repeatable)",
    )


def _add_watch(sub: Subcommands, targets: argparse.ArgumentParser) -> None:
    watch = sub.add_parser(
        "watch", parents=[targets], help="build, then rebuild on every change until Ctrl-C"
    )
    watch.add_argument("-n", "--jobs", type=int, metavar="JOBS", help="tasks in parallel")
    watch.add_argument(
        "--offline", action="store_true", default=None, help="never call a model (as generate)"
    )


def _add_build(sub: Subcommands, targets: argparse.ArgumentParser) -> None:
    build = sub.add_parser(
        "build",
        help="generate, then build each package: a wheel, an sdist or a Docker image",
    )
    build.add_argument(
        "package",
        nargs="?",
        metavar="PACKAGE",
        help="a generated package folder, or an output folder holding several "
        "(default: generate the project here, then build its packages)",
    )
    build.add_argument(
        "--config", metavar="FILE", help="generate this project file's packages, then build them"
    )
    build.add_argument(
        "--type",
        default="wheel",
        choices=("wheel", "sdist", "docker"),
        help="what to build (default: wheel)",
    )
    build.add_argument("--tag", metavar="TAG", help="the Docker image's tag (one package only)")
    build.add_argument("--push", action="store_true", help="push the Docker image after building")


def _add_deploy(sub: Subcommands, targets: argparse.ArgumentParser) -> None:
    deploy = sub.add_parser(
        "deploy",
        parents=[targets],
        help="write a cloud platform's files into each server package; show (or --apply) the "
        "platform's commands",
    )
    deploy.add_argument(
        "--platform", required=True, choices=sorted(_ship_platforms()), help="the platform"
    )
    deploy.add_argument(
        "--apply",
        action="store_true",
        help="run the platform's command line (it must be installed) instead of printing it",
    )


def _add_check(sub: Subcommands, targets: argparse.ArgumentParser) -> None:
    sub.add_parser(
        "check",
        parents=[targets],
        help="exit 1 listing stale, missing, hand-edited or extra files; writes nothing",
    )


def _add_clean(sub: Subcommands, targets: argparse.ArgumentParser) -> None:
    sub.add_parser("clean", parents=[targets], help="delete generated files and build state")


def _add_explain(sub: Subcommands, targets: argparse.ArgumentParser) -> None:
    explain = sub.add_parser(
        "explain", help="why each task of the last build ran (which input changed), or not"
    )
    explain.add_argument(
        "target",
        nargs="?",
        metavar="FILE|FUNCTION",
        help="only the tasks of this function, generated file, spec, implementation or template",
    )
    explain.add_argument("--json", action="store_true", help="print the explanation as JSON")


def _add_daemon(sub: Subcommands, targets: argparse.ArgumentParser) -> None:
    daemon = sub.add_parser(
        "daemon", help="a warm process that serves this project's generate and check"
    )
    actions = daemon.add_subparsers(dest="daemon_command", required=True, metavar="ACTION")
    start = actions.add_parser("start", help="start the project's daemon in the background")
    stop = actions.add_parser("stop", help="stop it (it finishes the command it serves)")
    status = actions.add_parser("status", help="is one running, since when, how big; exit 1 if not")
    for action in (start, stop, status):
        action.add_argument("project", nargs="?", default=".", metavar="PROJECT")
    start.add_argument(
        "--idle-timeout",
        type=float,
        default=180,
        metavar="MINUTES",
        help="exit after this long without a command (default: 180)",
    )


def _add_templates(sub: Subcommands, targets: argparse.ArgumentParser) -> None:
    sub.add_parser("templates", help="list templates and where each comes from")


def _add_config(sub: Subcommands, targets: argparse.ArgumentParser) -> None:
    sub.add_parser("config", parents=[targets], help="print effective settings and their origins")


def _add_health(sub: Subcommands, targets: argparse.ArgumentParser) -> None:
    sub.add_parser(
        "health",
        parents=[targets],
        help="is the LLM server reachable, which version, is the model there",
    )


def _add_cache(sub: Subcommands, targets: argparse.ArgumentParser) -> None:
    cache = sub.add_parser("cache", help="the LLM response cache")
    cache_sub = cache.add_subparsers(dest="cache_command", required=True, metavar="ACTION")
    cache_sub.add_parser("stats", help="entries, bytes, and the last build's hits and misses")
    export = cache_sub.add_parser("export", help="write every reply to a portable archive")
    export.add_argument("file", type=Path)
    import_ = cache_sub.add_parser("import", help="add the replies of an archive")
    import_.add_argument("file", type=Path)
    cache_sub.add_parser("prune", help="drop replies that no spec asks for any more")


def _add_schema(sub: Subcommands, targets: argparse.ArgumentParser) -> None:
    schema = sub.add_parser("schema", help="print the JSON Schema of spec files")
    schema.add_argument("--project", action="store_true", help="the schema of apipack.yml instead")


#: each command's parser, in the order ``apipack --help`` lists them
SUBCOMMANDS: dict[str, Callable[[Subcommands, argparse.ArgumentParser], None]] = {
    "init": _add_init,
    "validate": _add_validate,
    "generate": _add_generate,
    "watch": _add_watch,
    "build": _add_build,
    "deploy": _add_deploy,
    "check": _add_check,
    "clean": _add_clean,
    "explain": _add_explain,
    "daemon": _add_daemon,
    "templates": _add_templates,
    "config": _add_config,
    "health": _add_health,
    "cache": _add_cache,
    "schema": _add_schema,
}


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The command line's parser. Given the *command* being run (``main``), it holds that
    command's parser alone: argparse looks up each message of each parser through gettext (a
    few file lookups each), and building them all cost a tenth of a no-op ``generate``."""
    parser = argparse.ArgumentParser(
        prog="apipack", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    targets = _targets_parser()
    for name, add in SUBCOMMANDS.items():
        if command in (None, name):
            add(sub, targets)
    return parser


def _command_named(argv: Sequence[str]) -> str | None:
    """The command ``apipack ARGS`` runs, when the first argument names one."""
    return argv[0] if argv and argv[0] in SUBCOMMANDS else None


def cmd_init(args: argparse.Namespace, cwd: Path) -> int:
    from .spec import IDENTIFIER

    name = args.name
    if not IDENTIFIER.match(name):
        raise ConfigError(
            f"--name '{name}': use lowercase letters, digits and underscores, "
            f"starting with a letter"
        )
    spec = cwd / "specs" / f"{name}.yml"
    if spec.exists():
        raise ConfigError(f"{spec.relative_to(cwd)} already exists; not overwriting it")
    description = args.description or f"{name.replace('_', ' ').capitalize()}"
    text = (
        f"# apipack spec: edit, then run `apipack generate`.\n"
        f"name: {name}\n"
        f"description: {json.dumps(description, ensure_ascii=False)}\n"
        f"parameters:\n"
        f'  - {{name: text, type: string, description: "The input text"}}\n'
        f"output_type: string\n"
        f"interfaces: [rest, cli]\n"
        f"examples:\n"
        f"  - {{input: {{text: hello}}, output: hello}}\n"
        f"# Remove `code` to have the LLM write the body, or point `implementation` at a file.\n"
        f"code:\n"
        f"  python: |\n"
        f"    def {name}(text: str) -> str:\n"
        f"        return text\n"
    )
    spec.parent.mkdir(parents=True, exist_ok=True)
    spec.write_text(text, encoding="utf-8")
    print(f"wrote {spec.relative_to(cwd).as_posix()}")
    if find_project_file(cwd) is None:
        (cwd / "apipack.yml").write_text(
            "# apipack project: see `apipack config` for every setting and its origin.\n"
            'specs: ["specs/**/*.yml"]\nlanguages: [python]\noutput: generated\n',
            encoding="utf-8",
        )
        print("wrote apipack.yml")
    return 0


def cmd_validate(args: argparse.Namespace, cwd: Path) -> int:
    from .load.template_rules import registry_for
    from .plan.plan import load_packages, spec_files

    effective, specs = resolve_targets(args.files, cwd)
    files = spec_files(effective, specs)
    packages = load_packages(files, effective.root, registry_for(effective), effective.settings)
    for package in packages:
        count = len(package.functions)
        print(f"{package.source}: ok ({count} function{'s' if count != 1 else ''})")
        for function in package.functions:
            if not function.examples:
                print(
                    f"apipack: warning: {package.source}: function '{function.name}' has no "
                    "examples: its tests can only check that it answers inputs of the declared "
                    "types; give examples with output: or check:",
                    file=sys.stderr,
                )
    return 0


def _ship_platforms() -> tuple[str, ...]:
    from .run.platforms import PLATFORMS

    return tuple(PLATFORMS)


def cmd_generate(args: argparse.Namespace, cwd: Path) -> int:
    from .run import fastpath

    args.targets = [*args.targets, *args.spec]
    if (
        args.dry_run
        and fastpath.current(args.targets, cwd, _overrides(args), tree_vouch()) is not None
    ):
        print(DRY_RUN_LINE.format(0))
        return 0
    if not args.dry_run and not args.refresh and _nothing_changed(args, cwd):
        return 0
    with collector_paused(last=args.own_process):
        return _generate(args, cwd)


def _generate(args: argparse.Namespace, cwd: Path) -> int:
    from .run import fastpath

    build = prepare_build(
        args.targets,
        cwd=cwd,
        overrides=_overrides(args),
        summary_json=args.summary_json,
        quiet=args.quiet,
        offline=True if args.dry_run else args.offline,
        refresh=args.refresh,
    )
    if not args.quiet:
        from .run.progress import Progress

        build.progress = Progress.for_stderr()
    if args.dry_run:
        from .run import diff

        changes = diff.diff(build)
        verbs = {
            diff.MISSING: "create",
            diff.STALE: "update",
            diff.MODIFIED: "update",
            diff.ORPHANED: "delete",
        }
        shown = [c for c in changes if c.kind in verbs]
        for change in shown:
            print(f"would {verbs[change.kind]} {change.describe(build.output_id).split(':')[0]}")
        print(DRY_RUN_LINE.format(len(shown)))
        return 0
    fingerprint = fastpath.build_fingerprint(build, args.targets, cwd, _overrides(args))
    if not args.fail_on_change:
        build.run(jobs=build.plan.effective.settings.jobs)
        fastpath.record_build(build, fingerprint)
        return 0
    paths = _writable_paths(build)
    before = _hashes(paths)
    build.run(jobs=build.plan.effective.settings.jobs)
    fastpath.record_build(build, fingerprint)
    return _report_changes(before, _hashes(paths))


def _nothing_changed(args: argparse.Namespace, cwd: Path) -> bool:
    """The fast path: nothing the last build depended on has changed (see ``_fastpath``)."""
    from .run import fastpath

    found = fastpath.answer(
        args.targets,
        cwd,
        _overrides(args),
        offline=True if args.offline else None,
        summary_json=args.summary_json,
        echo=not args.quiet,
        vouch=tree_vouch(),
    )
    return found is not None


def _writable_paths(build: Build) -> dict[str, Path]:
    """Every file this build may write or delete — the files it plans, those the last build
    recorded, and the lock — by the name to show (relative to the project when inside it)."""
    from .base import manifest

    recorded = manifest.read(build.manifest_path, build.output_id)
    paths = [build.output / name for name in {*build.plan.files, *recorded}]
    paths.append(build.plan.llm.lock_path)
    return {manifest.output_id(path, build.root): path for path in paths}


def _hashes(paths: dict[str, Path]) -> dict[str, str]:
    from .base.hashing import bytes_hash

    return {name: bytes_hash(path.read_bytes()) for name, path in paths.items() if path.is_file()}


def _report_changes(before: dict[str, str], after: dict[str, str]) -> int:
    """``--fail-on-change``: name each file the build created, updated or deleted."""
    changed = sorted(
        name for name in before.keys() | after.keys() if before.get(name) != after.get(name)
    )
    for name in changed:
        verb = "created" if name not in before else "deleted" if name not in after else "updated"
        print(f"{verb} {name}")
    if not changed:
        return 0
    print(
        f"apipack: generate changed {len(changed)} file(s); review and commit them "
        f"(--fail-on-change)",
        file=sys.stderr,
    )
    return BuildError.exit_code


def cmd_check(args: argparse.Namespace, cwd: Path) -> int:
    from .run import diff, fastpath

    current = fastpath.current(args.targets, cwd, _overrides(args), tree_vouch())
    if current is not None:
        print(CURRENT_LINE.format(current))
        return 0
    with collector_paused(last=args.own_process):
        build = prepare_build(args.targets, cwd=cwd, overrides=_overrides(args), offline=True)
        changes = diff.diff(build)
    for change in changes:
        print(change.describe(build.output_id))
    if changes:
        print(
            f"apipack: {len(changes)} generated file(s) out of date; run `apipack generate`",
            file=sys.stderr,
        )
        return 1
    print(CURRENT_LINE.format(len(build.plan.files)))
    return 0


def cmd_watch(args: argparse.Namespace, cwd: Path) -> int:
    from ._watch import watch

    if len(args.targets) > 1:
        raise ConfigError("watch: give one project (a folder or a project file)")
    return watch(
        Path(args.targets[0] if args.targets else "."), _overrides(args), offline=args.offline
    )


def cmd_clean(args: argparse.Namespace, cwd: Path) -> int:
    from .base import manifest
    from .base.fsio import STAT_SHARDS

    build = prepare(args.targets, cwd=cwd, overrides=_overrides(args), offline=True)
    build.lock()
    try:
        recorded = manifest.read(build.manifest_path, build.output_id)
        deleted, kept = build.delete_stale(recorded, {})
        for path in kept:
            print(f"kept {path}: edited by hand", file=sys.stderr)
        for name in ("manifest.json", manifest.SHARDS_FILE, "doit.sqlite3", "filestat.json"):
            (build.state / name).unlink(missing_ok=True)
        import shutil  # only here: the no-op path does not pay for it

        shutil.rmtree(build.state / STAT_SHARDS, ignore_errors=True)
    finally:
        build.unlock()
    print(f"apipack: deleted {len(deleted)} generated file(s)")
    return 0


def cmd_explain(args: argparse.Namespace, cwd: Path) -> int:
    from . import explain

    effective, _ = resolve_targets([], cwd)
    output = effective.root / effective.settings.output
    found, fast = explain.explain(effective.root, output, args.target, cwd)
    if args.json:
        print(json.dumps(explain.report_json(found, fast), indent=2, sort_keys=True))
    else:
        print("\n".join(explain.report_lines(found, fast, everything=args.target is not None)))
    return 0


def cmd_daemon(args: argparse.Namespace, cwd: Path) -> int:
    from .daemon import control
    from .load.project import locate

    root = locate([args.project], cwd).root.resolve()
    if args.daemon_command == "start":
        return control.start(root, args.idle_timeout)
    if args.daemon_command == "stop":
        return control.stop(root)
    return control.show_status(root)


def cmd_templates(args: argparse.Namespace, cwd: Path) -> int:
    from .load.template_rules import discover

    effective, _ = resolve_targets([], cwd)
    for found in discover(effective):
        spec = found.spec
        about = f": {spec.description}" if spec.description else ""
        print(f"interface {spec.name} ({spec.language}){about}  [{found.origin}: {found.shown}]")
    seen: set[str] = set()
    auto = effective.settings.templates.auto_discover
    for origin, folder in template_dirs(effective.root, auto_discover=auto):
        for path in sorted(folder.rglob("*.j2")):
            name = path.relative_to(folder).as_posix()
            shadowed = " (overridden)" if name in seen else ""
            print(f"{name}  [{origin}]{shadowed}")
            seen.add(name)
    return 0


def cmd_config(args: argparse.Namespace, cwd: Path) -> int:
    from .settings import describe

    effective, _ = resolve_targets(args.targets, cwd, _overrides(args))
    source = effective.project_file.name if effective.project_file else "none"
    print(f"# project folder: {effective.root.name or effective.root}; project file: {source}")
    for line in describe(effective):
        print(line)
    return 0


def cmd_schema(args: argparse.Namespace, cwd: Path) -> int:
    from .settings import Settings
    from .spec import spec_json_schema

    schema = Settings.model_json_schema() if args.project else spec_json_schema()
    print(json.dumps(schema, indent=2, sort_keys=True))
    return 0


def cmd_health(args: argparse.Namespace, cwd: Path) -> int:
    from .llm import make_provider

    effective, _ = resolve_targets(args.targets, cwd, _overrides(args))
    llm = effective.settings.llm
    provider = make_provider(llm.model_copy(update={"retries": 0}))  # a probe, not a build
    try:
        status = provider.status()
    finally:
        provider.close()
    version = f" (version {status.version})" if status.version else ""
    where = f"{llm.provider} at {redact(llm.base_url)}"
    if not status.reachable:
        print(f"server: {where}: unreachable: {redact(status.detail)}")
        return LLMError.exit_code
    print(f"server: {where}: reachable{version}")
    if not status.model_present:
        print(f"model: {llm.model}: missing: {redact(status.detail)}")
        return LLMError.exit_code
    digest = f", digest {status.digest}" if status.digest else ""
    print(f"model: {llm.model}: present{digest}")
    return 0


def cmd_cache(args: argparse.Namespace, cwd: Path) -> int:
    from .ask.store import ResponseCache
    from .plan.plan import llm_needs

    effective, _ = resolve_targets([], cwd)
    cache = ResponseCache(effective.root / effective.settings.cache_dir)
    try:
        if args.cache_command == "stats":
            items = cache.items()
            print(f"entries: {len(items)}")
            print(f"bytes: {cache.volume()}")
            last = _last_build(effective.root / STATE_DIR / LAST_BUILD)
            if last is not None:
                print(
                    f"last build: {last['llm_cache_hits']} cache hits, {last['llm_lock_hits']} "
                    f"lock hits, {last['llm_calls']} LLM calls (misses)"
                )
        elif args.cache_command == "export":
            print(f"exported {cache.export(args.file)} entries to {args.file}")
        elif args.cache_command == "import":
            print(f"imported {cache.import_(args.file)} entries from {args.file}")
        else:
            keep = {need.request_key for need in llm_needs(effective)}
            print(f"pruned {cache.prune(keep)} entries; {len(cache.items())} left")
    finally:
        cache.close()
    return 0


def _generated_folders(targets: Sequence[str], cwd: Path, overrides: dict[str, Any]) -> list[Any]:
    """Generate the project (as ``apipack generate`` does), then its package folders."""
    from .run import fastpath, ship

    build = prepare(targets, cwd=cwd, overrides=overrides)
    fingerprint = fastpath.build_fingerprint(build, targets, cwd, overrides)
    build.run(jobs=build.plan.effective.settings.jobs)
    fastpath.record_build(build, fingerprint)
    return [
        ship.PackageFolder(folder.path.split("/")[0], build.output / folder.path)
        for folder in build.plan.packages
    ]


def cmd_build(args: argparse.Namespace, cwd: Path) -> int:
    from .load.registry import registry
    from .run import ship

    if args.package and args.config:
        raise ConfigError("give a PACKAGE folder or --config FILE, not both")
    languages = registry().languages
    if args.package:
        folders = ship.package_folders(cwd / args.package, sorted(languages))
    else:
        folders = _generated_folders([args.config] if args.config else [], cwd, {})
    if args.tag and len(folders) > 1:
        raise ConfigError(f"--tag names one image, but {len(folders)} packages are built")
    if args.type != "docker" and (args.tag or args.push):
        raise ConfigError("--tag and --push are for --type docker")
    for folder in folders:
        if args.type == "docker":
            tag = args.tag or f"{folder.name.replace('_', '-')}:latest"
            ship.build_image(folder, tag, args.push)
            print(f"built image {tag} from {folder.path}{' and pushed it' if args.push else ''}")
        else:
            made = ship.build_artifact(folder, languages[folder.language], args.type)
            for path in made:
                print(f"built {path}")
    return 0


def cmd_deploy(args: argparse.Namespace, cwd: Path) -> int:
    from .run import ship

    effective, _ = resolve_targets(args.targets, cwd, _overrides(args))
    platforms = sorted({*effective.settings.deployment.platforms, args.platform})
    overrides = {**_overrides(args), "deployment.platforms": platforms}
    folders = _generated_folders(args.targets, cwd, overrides)
    marker = ship.PLATFORMS[args.platform].marker
    served = [f for f in folders if (f.path / marker).is_file()]
    if not served:
        raise ConfigError(
            f"--platform {args.platform}: no package has a server interface to deploy "
            f"(rest, graphql, websocket or grpc)"
        )
    for folder in served:
        print(ship.deploy(folder, args.platform, args.apply))
    if args.platform not in effective.settings.deployment.platforms:
        print(
            f"apipack: to keep these files in later builds, add `deployment: {{platforms: "
            f"[{', '.join(platforms)}]}}` to the project file"
        )
    return 0


def _last_build(path: Path) -> dict[str, int] | None:
    """The LLM counts of the last build's summary; None if there is none or it is damaged
    (it is rewritten by the next build)."""
    names = ("llm_cache_hits", "llm_lock_hits", "llm_calls")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return {name: int(data[name]) for name in names}
    except (OSError, ValueError, KeyError, TypeError):
        return None


COMMANDS = {
    "init": cmd_init,
    "validate": cmd_validate,
    "generate": cmd_generate,
    "build": cmd_build,
    "deploy": cmd_deploy,
    "check": cmd_check,
    "watch": cmd_watch,
    "clean": cmd_clean,
    "explain": cmd_explain,
    "daemon": cmd_daemon,
    "templates": cmd_templates,
    "config": cmd_config,
    "schema": cmd_schema,
    "health": cmd_health,
    "cache": cmd_cache,
}


def main(argv: Sequence[str] | None = None) -> int:
    heap_left_at_exit()  # a command's process ends with it
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser(_command_named(argv)).parse_args(argv)
    return _dispatch(args, argv)


def run_command(argv: Sequence[str]) -> int:
    """``apipack ARGV`` in this process (what a daemon runs for its client)."""
    args = build_parser(_command_named(argv)).parse_args(list(argv))
    return _dispatch(args)


def _dispatch(args: argparse.Namespace, served: Sequence[str] | None = None) -> int:
    """Run the parsed command; given its command line (*served*), ``generate`` and ``check``
    go to the project's daemon first, if one runs, and start one for the next if none served
    them (``daemon.client``)."""
    args.own_process = served is not None  # not a daemon's: the command's build is its last
    try:
        if served is None or args.command not in ("generate", "check"):
            return COMMANDS[args.command](args, Path.cwd())
        from .daemon import client

        root = client.project([*args.targets, *getattr(args, "spec", [])], Path.cwd())
        code = None if root is None else client.served(served, root, Path.cwd())
        if code is None:
            code = COMMANDS[args.command](args, Path.cwd())
            if root is not None:  # after: this command's time is the user's
                client.start_for_next(root)
        return code
    except ApipackError as exc:
        print(shown(exc), file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("apipack: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # the last line of defence: never a traceback for users
        if os.environ.get("APIPACK_DEBUG"):
            raise
        print(
            f"apipack: internal error: {type(exc).__name__}: {redact(str(exc))} "
            f"(set APIPACK_DEBUG=1 for a traceback, and please report it)",
            file=sys.stderr,
        )
        return 70


if __name__ == "__main__":
    sys.exit(main())
