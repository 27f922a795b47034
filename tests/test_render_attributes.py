"""``a.b`` in a template finds what Jinja finds: the renderer looks a plain dict's items up
directly (``base/render.py``), and must keep Jinja's order — an attribute of the dict first, then
its item, else undefined (strict: an error naming the template)."""

from __future__ import annotations

from pathlib import Path

import pytest

from apipack_build.base.render import Renderer
from apipack_build.errors import TemplateError


class Attrs:
    option = "from an attribute"


def render(tmp_path: Path, text: str, **context: object) -> str:
    (tmp_path / "t.j2").write_text(text, encoding="utf-8")
    return Renderer([("project", tmp_path)], {}).render("t.j2", context)


def test_a_dict_item_an_attribute_and_what_a_dict_has_itself(tmp_path: Path) -> None:
    context = {"d": {"option": "item", "items": "shadowed", "get": 1}, "o": Attrs()}
    text = "{{ d.option }} {{ d['items'] }} {{ d.items()|list|length }} {{ d.get('option') }}"
    assert render(tmp_path, text + " {{ o.option }}", **context) == (
        "item shadowed 3 item from an attribute\n"
    )
    assert render(tmp_path, "{{ d.missing is defined }} {{ o.missing is defined }}", **context) == (
        "False False\n"
    )

    # a subclass of dict is left to Jinja: its own attributes come first
    class Named(dict[str, str]):
        option = "class attribute"

    assert render(tmp_path, "{{ n.option }}", n=Named(option="item")) == "class attribute\n"


def test_a_missing_item_is_an_error_naming_the_template(tmp_path: Path) -> None:
    with pytest.raises(TemplateError, match=r"t\.j2.*'dict object' has no attribute 'missing'"):
        render(tmp_path, "{{ d.missing }}", d={})
