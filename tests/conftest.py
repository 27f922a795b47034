"""Fixtures for the engine's end-to-end tests (helpers live in ``helpers.py``)."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest
from helpers import FUNCTIONS, Project, standard_project, write_plugin


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding the ``txtrules`` plugin; subprocesses get it as PYTHONPATH."""
    return write_plugin(tmp_path_factory.mktemp("site"))


@pytest.fixture
def make_project(tmp_path: Path, site: Path) -> Callable[..., Project]:
    """``make_project("name")``: a standard project in ``tmp_path/name`` (HOME is
    ``tmp_path/home``); ``bare=True`` gives an empty folder."""

    def make(
        name: str = "proj", *, bare: bool = False, functions: Mapping[str, str] = FUNCTIONS
    ) -> Project:
        if bare:
            return Project(tmp_path / name, site, tmp_path / "home")
        return standard_project(tmp_path / name, site, tmp_path / "home", functions)

    return make


@pytest.fixture
def project(make_project: Callable[..., Project]) -> Project:
    """The standard project (three functions, interface ``docs``), not yet built."""
    return make_project()


@pytest.fixture(scope="session")
def built_once(tmp_path_factory: pytest.TempPathFactory, site: Path) -> Path:
    """The standard project, built once per session (per worker under xdist)."""
    folder = tmp_path_factory.mktemp("built")
    project = standard_project(folder / "proj", site, folder / "home")
    project.generate()
    return project.root


@pytest.fixture
def built(built_once: Path, tmp_path: Path, site: Path) -> Project:
    """The standard project after one ``apipack generate``: a copy of ``built_once``, which is
    the same thing because a project's state holds no absolute paths it depends on
    (``test_a_copied_project_is_still_up_to_date`` checks that)."""
    shutil.copytree(built_once, tmp_path / "proj", symlinks=True)
    return Project(tmp_path / "proj", site, tmp_path / "home")
