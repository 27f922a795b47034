"""The bundled specs' hand-written logic, run against their own examples.

This runs the implementations directly (no build), so a wrong example or a broken implementation
shows up here before a generated test suite trips over it. Their libraries are in the test extras:
one that does not import fails the test, never skips it.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import PIL.Image
import pypdf
import pytest

from apipack_build.load.registry import registry
from apipack_build.load.types import value_problem
from apipack_build.spec import Example, Function, load_spec

ROOT = Path(__file__).resolve().parent.parent
SPECS = sorted((ROOT / "specs").glob("*.yml"))


def _cases() -> list[Any]:
    cases = []
    for spec in SPECS:
        package = load_spec(spec, ROOT, registry().vocabulary())
        for function in package.functions:
            for example in function.examples:
                cases.append(
                    pytest.param(
                        function, example, id=f"{spec.stem}.{function.name}.{example.name}"
                    )
                )
    return cases


def _load(function: Function) -> Any:
    """Import the function from its inline code or implementation file, as a module would."""
    if "*" in function.code or "python" in function.code:
        source = function.code.get("python", function.code.get("*", ""))
    else:
        rel = function.implementation.get("python", function.implementation.get("*", ""))
        source = (ROOT / rel).read_text(encoding="utf-8")
    namespace: dict[str, Any] = {"__name__": f"bundled_{function.name}"}
    # an import that fails is a failure: the test extras install every bundled dependency
    exec(compile(source, function.name, "exec"), namespace)
    return namespace[function.name]


@pytest.mark.parametrize(("function", "example"), _cases())
def test_example(function: Function, example: Example) -> None:
    result = _load(function)(**example.input)
    assert value_problem(function.output_ref, result) is None
    if example.has_output:
        assert result == example.output


def test_image_resize_gives_png_of_the_requested_size() -> None:
    package = load_spec(ROOT / "specs/image_resize.yml", ROOT, registry().vocabulary())
    (function,) = package.functions
    resize = _load(function)
    for example in function.examples:
        data = resize(**example.input)
        with PIL.Image.open(io.BytesIO(data)) as image:
            expected = (example.input.get("width", 800), example.input.get("height", 600))
            assert (image.format, image.size) == ("PNG", expected)


def test_html_to_pdf_gives_a_pdf_with_the_text() -> None:
    package = load_spec(ROOT / "specs/html_to_pdf.yml", ROOT, registry().vocabulary())
    (function,) = package.functions
    data = _load(function)("<h1>Invoice</h1><p>“Tea” for two — café</p>")
    text = pypdf.PdfReader(io.BytesIO(data)).pages[0].extract_text()
    assert "Invoice" in text
    assert '"Tea" for two - café' in text


@pytest.mark.parametrize(("function", "example"), _cases())
def test_example_gives_the_same_result_every_call(function: Function, example: Example) -> None:
    # the generated tests of every interface compare its answer with a direct call's
    call = _load(function)
    assert call(**example.input) == call(**example.input)


def test_html_to_pdf_does_not_stamp_the_time_of_the_call() -> None:
    package = load_spec(ROOT / "specs/html_to_pdf.yml", ROOT, registry().vocabulary())
    (function,) = package.functions
    data = _load(function)("<p>x</p>")
    metadata = pypdf.PdfReader(io.BytesIO(data)).metadata
    assert metadata is not None and metadata.creation_date is not None
    assert metadata.creation_date.year == 2000
