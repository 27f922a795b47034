"""A monorepo's dodo.py: two apipack projects, each under its own namespace, and a hand-written
task that uses what they generate.

    doit list               billing, inventory, catalog
    doit                    builds both projects, then build/catalog.md
    doit billing            one project (and nothing that depends on it)
    doit -f services/billing/dodo.py    the project's own two-line dodo.py, from here
"""

from pathlib import Path

from apipack_build.doit import apipack_tasks, doit_config, generated_files

SERVICES = ["services/billing", "services/inventory"]

# apipack's reporter and checker; naming the default tasks also makes plain `doit forget` work
DOIT_CONFIG = doit_config(default_tasks=["billing", "inventory", "catalog"])


def task_billing():
    """The billing service's API package."""
    yield from apipack_tasks("services/billing")


def task_inventory():
    """The inventory service's API package."""
    yield from apipack_tasks("services/inventory")


def _write_catalog(dependencies, targets):
    """One page with every generated README, in a stable order."""
    pages = [Path(path).read_text(encoding="utf-8") for path in sorted(dependencies)]
    target = Path(targets[0])
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("# API catalog\n\n" + "\n---\n\n".join(pages), encoding="utf-8")


def task_catalog():
    """build/catalog.md: every generated package's README in one page.

    It reruns only when one of them changes: doit compares them by content, through apipack's
    checker."""
    readmes = [path for service in SERVICES for path in generated_files(service, "*/README.md")]
    return {
        "file_dep": readmes,
        "targets": ["build/catalog.md"],
        "actions": [_write_catalog],
        "clean": True,
    }
