import html as html_lib
import re
from datetime import datetime, timezone

from fpdf import FPDF

# The PDF core fonts cover Latin-1 only: typographic punctuation becomes its ASCII twin and any
# other character outside Latin-1 becomes '?', rather than failing the whole document.
_PUNCTUATION = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2013": "-",
        "\u2014": "-",
        "\u2026": "...",
        "\u2022": "*",
    }
)
_ENTITY = re.compile(r"&(?:#[0-9]+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);")
_MARKUP = set("<>&\"'")


def _expand_entity(match: re.Match[str]) -> str:
    char = html_lib.unescape(match.group())
    return match.group() if char in _MARKUP else char


def _latin1(text: str) -> str:
    text = _ENTITY.sub(_expand_entity, text).translate(_PUNCTUATION)
    return text.encode("latin-1", "replace").decode("latin-1")


def html_to_pdf(html: str, landscape: bool = False) -> bytes:
    """Render simple HTML (headings, paragraphs, lists, tables, bold/italic) to an A4 PDF."""
    pdf = FPDF(orientation="L" if landscape else "P", format="A4")
    # a fixed date instead of now: the same HTML gives the same bytes on every call
    pdf.set_creation_date(datetime(2000, 1, 1, tzinfo=timezone.utc))
    pdf.add_page()
    pdf.write_html(_latin1(html))
    return bytes(pdf.output())
