"""The gRPC interface of the kitchen-sink package, driven by a real grpc client: a script run by
the package's own virtual environment builds requests from the generated message classes and
calls the generated stub, as any client of the ``.proto`` would. Also: protoc's output is the
same from build to build, and a description edit changes only the files that show it."""

from __future__ import annotations

import ast
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from apipack_rules.python._proto import field_names, json_name, rpc_names
from apipack_rules.python._protoc import proto_comment
from kitchen import SPEC, Built, free_port, generate, run, running, serving

STUBS = "src/kitchen_sink/v1"
SERVICE = "kitchen_sink.v1.KitchenSinkService"

#: run by the venv's python with the server's address; prints {case: outcome} as a repr
CLIENT = r"""
import sys

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from kitchen_sink.v1 import kitchen_sink_pb2 as pb, kitchen_sink_pb2_grpc as pb_grpc


def outcome(method, request, read):
    try:
        return read(getattr(stub, method)(request, timeout=30))
    except grpc.RpcError as exc:
        return (exc.code().name, exc.details())


def optional(response):
    return response.result if response.HasField("result") else None


with grpc.insecure_channel(sys.argv[1]) as channel:
    grpc.channel_ready_future(channel).result(timeout=30)
    stub = pb_grpc.KitchenSinkServiceStub(channel)
    health = health_pb2_grpc.HealthStub(channel)
    raw = channel.unary_unary("/kitchen_sink.v1.KitchenSinkService/Scale")
    as_list = lambda r: list(r.result)
    as_dict = lambda r: dict(r.result)
    as_bytes = lambda r: r.result
    cases = {
        "scale_default_factor": ("Scale", pb.ScaleRequest(values=[1, 2.5]), as_list),
        "scale_rounds": (
            "Scale", pb.ScaleRequest(values=[0.1234], factor=3, round_to=2), as_list
        ),
        "scale_zero_factor": ("Scale", pb.ScaleRequest(values=[1, 2.5], factor=0), as_list),
        "scale_nothing": ("Scale", pb.ScaleRequest(), as_list),
        "checksum_tags": (
            "Checksum",
            pb.ChecksumRequest(
                data="héllo".encode(), tags=pb.Int64Map(items={"a": 2}), upper=True
            ),
            as_dict,
        ),
        "checksum_empty_label": (
            "Checksum", pb.ChecksumRequest(data=b"\x00\xff", label=""), as_dict
        ),
        "checksum_no_data": ("Checksum", pb.ChecksumRequest(label="x"), as_dict),
        "reverse_twice": ("ReverseBytes", pb.ReverseBytesRequest(data=b"abc", repeat=2), as_bytes),
        "reverse_sep": (
            "ReverseBytes",
            pb.ReverseBytesRequest(data=b"a\x00c", repeat=2, sep=b"--"),
            as_bytes,
        ),
        "reverse_too_often": (
            "ReverseBytes", pb.ReverseBytesRequest(data=b"abc", repeat=2**62), as_bytes
        ),
        "describe_null_bonus": (
            "Describe",
            pb.DescribeRequest(
                words=["a", 'b"c'],
                loud=True,
                nested=pb.BytesListMap(items={"k": pb.BytesList(items=[b"xy", b"z"])}),
                bonus=pb.Int64Value(),
            ),
            optional,
        ),
        "describe_default_bonus": (
            "Describe",
            pb.DescribeRequest(words=["x"], loud=False, json=pb.Int64List(items=[2, 3])),
            optional,
        ),
        "describe_zero_bonus": (
            "Describe",
            pb.DescribeRequest(
                words=["x"], loud=False, sep="-", json=pb.Int64List(), bonus=pb.Int64Value(value=0)
            ),
            optional,
        ),
        "describe_null_result": ("Describe", pb.DescribeRequest(words=[], loud=False), optional),
        "describe_no_loud": ("Describe", pb.DescribeRequest(words=["x"]), optional),
    }
    results = {name: outcome(*case) for name, case in cases.items()}
    try:
        raw(b"\xff", timeout=30)
    except grpc.RpcError as exc:
        results["malformed"] = exc.code().name
    for service in ("", "kitchen_sink.v1.KitchenSinkService"):
        check = health.Check(health_pb2.HealthCheckRequest(service=service), timeout=30)
        results[f"health:{service}"] = health_pb2.HealthCheckResponse.ServingStatus.Name(
            check.status
        )
print(repr(results))
"""


def _client(kitchen: Built, port: int, folder: Path) -> dict[str, Any]:
    script = folder / "client.py"
    script.write_text(CLIENT, encoding="utf-8")
    done = run([kitchen.bin("python"), str(script), f"127.0.0.1:{port}"], folder)
    assert done.returncode == 0, done.stdout + done.stderr
    results: dict[str, Any] = ast.literal_eval(done.stdout)
    return results


@pytest.fixture(scope="module")
def grpc_alone(kitchen: Built, tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """``kitchen-sink-grpc``: the gRPC server without HTTP."""
    port = free_port()
    log = tmp_path_factory.mktemp("grpc") / "server.log"
    env = {"HOST": "127.0.0.1", "GRPC_PORT": str(port)}

    def serving_grpc() -> bool:
        return '"grpc serving"' in log.read_text("utf-8")

    with running([kitchen.bin("kitchen-sink-grpc")], kitchen.project, env, serving_grpc, log):
        yield port


@pytest.fixture(scope="module")
def results(kitchen: Built, grpc_alone: int, tmp_path_factory: pytest.TempPathFactory) -> Any:
    return _client(kitchen, grpc_alone, tmp_path_factory.mktemp("client"))


@pytest.mark.slow
def test_every_type_round_trips(results: dict[str, Any]) -> None:
    assert results["scale_default_factor"] == [2.0, 5.0]  # factor unset: its default, 2.0
    assert results["scale_rounds"] == [0.37]
    assert results["scale_zero_factor"] == [0.0, 0.0]  # factor set to 0 is not "unset"
    assert results["scale_nothing"] == []  # a required list may be empty
    assert results["checksum_tags"] == {"length": 6, "sum": 27, "A": 12}
    assert results["checksum_empty_label"] == {"length": 2, "sum": 255, "": 0}
    assert results["reverse_twice"] == b"cbacba"
    assert results["reverse_sep"] == b"c\x00a--c\x00a"
    assert results["describe_null_bonus"] == 'A B"C 0 3 NONE'  # an empty wrapper is null
    assert results["describe_default_bonus"] == "x 5 0 5"
    assert results["describe_zero_bonus"] == "x 0 0 0"
    assert results["describe_null_result"] is None  # optional result left unset


@pytest.mark.slow
def test_bad_input_is_invalid_argument(results: dict[str, Any]) -> None:
    assert results["checksum_no_data"] == ("INVALID_ARGUMENT", "missing required field 'data'")
    assert results["describe_no_loud"] == ("INVALID_ARGUMENT", "missing required field 'loud'")
    assert results["malformed"] == "INVALID_ARGUMENT"
    # the function's own ValueError: a VALIDATION_ERROR of the service, with its message
    assert results["reverse_too_often"] == (
        "INVALID_ARGUMENT",
        f"repeat must be 0 to 100, not {2**62}",
    )


@pytest.mark.slow
def test_health_is_serving(results: dict[str, Any]) -> None:
    assert results["health:"] == "SERVING"
    assert results[f"health:{SERVICE}"] == "SERVING"


@pytest.mark.slow
def test_grpc_beside_http_is_counted_in_metrics(kitchen: Built, tmp_path: Path) -> None:
    """``kitchen-sink-server`` starts gRPC too when GRPC_PORT is set; calls count in /metrics."""
    port = free_port()
    with serving(kitchen, {"GRPC_PORT": str(port)}, tmp_path / "server.log") as url:
        results = _client(kitchen, port, tmp_path)
        assert results["scale_rounds"] == [0.37]
        metrics = httpx.get(f"{url}/metrics", timeout=10).text
    wanted = ('interface="grpc"', 'function="scale"', 'status="ok"')
    counts = [
        float(line.rpartition(" ")[2])
        for line in metrics.splitlines()
        if line.startswith("api_requests_total{") and all(label in line for label in wanted)
    ]
    assert counts and counts[0] >= 4, metrics  # the four Scale calls of the client


# ---- protoc at build time ----


def _grpc_files(project: Path) -> dict[str, bytes]:
    folder = project / "generated/python/kitchen-sink"
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _generated(project: Path, spec: str = SPEC) -> dict[str, bytes]:
    (project / "specs").mkdir(parents=True, exist_ok=True)
    (project / "specs/kitchen.yml").write_text(spec, encoding="utf-8")
    done = generate(project, interfaces=("grpc",))
    assert done.returncode == 0, done.stdout + done.stderr
    return _grpc_files(project)


@pytest.mark.slow
def test_protoc_output_is_the_same_from_build_to_build(tmp_path: Path) -> None:
    first = _generated(tmp_path / "one")
    second = _generated(tmp_path / "elsewhere" / "two")
    compiled = [
        f"{STUBS}/kitchen_sink{suffix}" for suffix in ("_pb2.py", "_pb2.pyi", "_pb2_grpc.py")
    ]
    for name in [f"{STUBS}/kitchen_sink.proto", *compiled]:
        assert name in first
        assert first[name] == second[name], name
    assert first == second
    for name in compiled:
        text = first[name].decode("utf-8")
        assert text.startswith("# Generated by apipack from specs/kitchen.yml. Do not edit.\n")
        # protoc ran in a temporary folder: neither it nor the project's path may show
        assert str(tmp_path) not in text and "apipack-protoc" not in text, name
    # protoc saw the proto at its package path, so the stubs import it as kitchen_sink.v1
    assert b"# source: kitchen_sink/v1/kitchen_sink.proto\n" in first[compiled[0]]
    assert b"from kitchen_sink.v1 import kitchen_sink_pb2 as" in first[compiled[2]]


@pytest.mark.slow
def test_a_description_edit_changes_only_what_shows_it(tmp_path: Path) -> None:
    before = _generated(tmp_path)
    nasty = 'Join words.\n Tricky: """ \\N{x} \\u12 back\\ and a quote"'
    spec = SPEC.replace(
        "description: Join words; report numbers and sizes.", f"description: {json.dumps(nasty)}"
    )
    assert spec != SPEC
    after = _generated(tmp_path, spec)
    changed = {name for name in before if before[name] != after.get(name)}
    showing = {f"{STUBS}/kitchen_sink.proto", f"{STUBS}/kitchen_sink_pb2_grpc.py"}
    # the messages (_pb2.py, .pyi), the server and the tests do not carry descriptions
    assert showing <= changed <= {*showing, "README.md"}
    # the grpc plugin copies rpc comments into docstrings: they must still be Python
    ast.parse(after[f"{STUBS}/kitchen_sink_pb2_grpc.py"].decode("utf-8"))
    assert "Tricky" in after[f"{STUBS}/kitchen_sink_pb2_grpc.py"].decode("utf-8")


# ---- names and comments ----


def test_field_names_keep_protoc_json_names_apart() -> None:
    names = field_names(["a_1", "a1", "a__b", "a_b", "x"])
    assert names == ["a_1", "a1_2", "a__b", "a_b_2", "x"]
    assert len({json_name(name) for name in names}) == len(names)
    assert rpc_names(["a_b", "a__b", "ab"]) == ["AB", "AB_2", "Ab"]


@pytest.mark.parametrize(
    "text",
    ['a """ b', "ends with a backslash \\", '"', '""""""', "\\N{x} \\u12", "cr\r\nnul\x00 \u202e"],
)
def test_proto_comments_are_safe_docstrings(text: str) -> None:
    comment = proto_comment(text, 2)
    lines = comment.split("\n  ")
    assert all(line.startswith("//") and "\n" not in line for line in lines)
    # what the grpc plugin makes of it: the comment text inside triple quotes
    body = "\n".join(line[3:] for line in lines)
    shown = ast.literal_eval(f'"""{body}\n"""')
    if text.isprintable():  # the docstring reads exactly as the spec wrote it
        assert shown == text.strip() + "\n"
    else:  # invisible characters show as escapes, the words around them stay
        assert all(c.isprintable() for c in shown.replace("\n", ""))
        assert shown.startswith("cr\nnul") and shown.endswith("\n")
