"""What a generated Python package depends on, by the interfaces it is built with."""

from __future__ import annotations

#: interfaces served over the network; any of them brings the shared ``service`` package
SERVER_INTERFACES = frozenset({"graphql", "grpc", "rest", "websocket"})

#: the shared service: the ASGI app with health, metrics, errors and logs, served by uvicorn
SERVICE_DEPENDENCIES = (
    "fastapi>=0.110",
    "prometheus-client>=0.20",
    "pydantic>=2.6",
    "uvicorn>=0.29",
)

INTERFACE_DEPENDENCIES: dict[str, tuple[str, ...]] = {
    "cli": (),
    "graphql": ("strawberry-graphql>=0.341",),
    # what the code of the pinned grpcio-tools (see pyproject.toml) checks for at import time
    "grpc": (
        "grpcio>=1.85.1",
        "grpcio-health-checking>=1.85.1",
        "grpcio-reflection>=1.85.1",
        "protobuf>=7.35.1,<8",
    ),
    "rest": ("python-multipart>=0.0.9",),
    "websocket": ("websockets>=12",),
}

#: hypothesis: the property tests of functions whose spec gives no examples
TEST_DEPENDENCIES = ("httpx>=0.27", "hypothesis>=6", "pytest>=8", "pytest-cov>=5")
#: the load test's runner (``tests/load/locustfile.py``), an extra of its own: it is large
LOAD_DEPENDENCIES = ("locust>=2.30",)

#: the modules those distributions (and what they pull in) install: a generated package named
#: like one of them would replace it on ``pip install``
DEPENDENCY_MODULES = frozenset(
    {
        "anyio",
        "fastapi",
        "google",
        "graphql",
        "grpc",
        "grpc_health",
        "h11",
        "httpcore",
        "httpx",
        "multipart",
        "mypy",
        "pkg_resources",
        "pluggy",
        "prometheus_client",
        "pydantic",
        "pydantic_core",
        "pytest",
        "python_multipart",
        "ruff",
        "setuptools",
        "starlette",
        "strawberry",
        "typing_extensions",
        "uvicorn",
        "websockets",
    }
)

#: checkers the generated CI runs, with the stubs they need per interface
LINT_DEPENDENCIES = ("mypy>=1.10", "ruff>=0.6")
INTERFACE_LINT_DEPENDENCIES: dict[str, tuple[str, ...]] = {
    "grpc": ("types-grpcio>=1.0", "types-protobuf>=5"),
}


def runtime(interfaces: tuple[str, ...] | frozenset[str]) -> list[str]:
    """Requirements the built interfaces need at run time (sorted, without duplicates)."""
    needed: set[str] = set()
    if SERVER_INTERFACES.intersection(interfaces):
        needed.update(SERVICE_DEPENDENCIES)
    for interface in interfaces:
        needed.update(INTERFACE_DEPENDENCIES.get(interface, ()))
    return sorted(needed)


def lint(interfaces: tuple[str, ...] | frozenset[str]) -> list[str]:
    needed = set(LINT_DEPENDENCIES)
    for interface in interfaces:
        needed.update(INTERFACE_LINT_DEPENDENCIES.get(interface, ()))
    return sorted(needed)
