"""The cloud platforms ``apipack deploy`` knows: a table the command line reads to list them,
kept apart from ``ship`` (and its subprocess machinery) for a fast start."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Platform:
    cli: str  # the command that must be installed for --apply
    marker: str  # the platform's own file, which a language's rules write beside its others
    commands: tuple[tuple[str, ...], ...]  # run in the package folder; {name} is its name


PLATFORMS = {
    "heroku": Platform(
        "heroku",
        "Procfile",
        (("heroku", "create", "{name}"), ("git", "push", "heroku", "HEAD:main")),
    ),
    "aws-lambda": Platform(
        "sam",
        "template.yaml",
        (("sam", "build"), ("sam", "deploy", "--guided")),
    ),
    "gcp-cloud-run": Platform(
        "gcloud",
        "service.yaml",
        (("gcloud", "run", "services", "replace", "service.yaml"),),
    ),
}
