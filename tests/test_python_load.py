"""The generated package's promises from the APIpack README: integration tests against the
running service, ``pytest --cov`` and a Locust load test with no failures."""

from __future__ import annotations

import json
import os
import subprocess

import pytest
import yaml
from helpers import tool
from kitchen import SPEC, Built, run, serving

pytestmark = pytest.mark.slow


def package_pytest(kitchen: Built, *args: str) -> subprocess.CompletedProcess[str]:
    """The package's own pytest, in its folder and virtual environment."""
    command = [kitchen.bin("python"), "-m", "pytest", "-q", "-p", "no:cacheprovider", *args]
    return run(command, kitchen.package)


def test_integration_tests_start_the_service_and_call_it(kitchen: Built) -> None:
    result = package_pytest(kitchen, "tests/integration/")
    assert result.returncode == 0, result.stdout + result.stderr
    assert " passed" in result.stdout.splitlines()[-1] and "skipped" not in result.stdout


def test_pytest_cov_measures_the_package(kitchen: Built) -> None:
    result = package_pytest(
        kitchen, "tests/", "--cov=src", "--cov-report=html", "--cov-report=term"
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "TOTAL" in result.stdout
    assert (kitchen.package / "htmlcov/index.html").is_file()


def test_locust_load_test_has_no_failures(kitchen: Built) -> None:
    with serving(kitchen) as url:
        port = url.rsplit(":", 1)[1]
        result = run(
            [
                tool("locust"),
                "-f",
                "tests/load/locustfile.py",
                "--headless",
                "-u",
                "10",
                "-r",
                "10",
                "-t",
                "10s",
                "--json",
            ],
            kitchen.package,
            env={**os.environ, "PORT": port},
        )
    assert result.returncode == 0, result.stdout + result.stderr
    stats = json.loads(result.stdout)
    assert {s["name"] for s in stats} == {
        f"/{f['name']}" for f in yaml.safe_load(SPEC)["functions"]
    }
    requests, failures = (sum(s[key] for s in stats) for key in ("num_requests", "num_failures"))
    print(f"locust: {requests} requests to {len(stats)} routes, {failures} failures")
    assert requests > 0
    assert failures == 0, stats
