import io

from pypdf import PdfReader
from pypdf.errors import PdfReadError


def pdf_to_text(data: bytes) -> str:
    """Extract the text of every page, pages separated by a blank line."""
    try:
        reader = PdfReader(io.BytesIO(data))
        pages = [page.extract_text().strip() for page in reader.pages]
    except PdfReadError as exc:
        raise ValueError(f"not a readable PDF: {exc}") from exc
    return "\n\n".join(pages)
