import re

_SENTENCE_END = re.compile(r"[.!?]+(?=\s|$)")
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")


def text_stats(text: str) -> dict[str, int]:
    """Count characters, words, lines, sentences and paragraphs of a text."""
    stripped = text.strip()
    return {
        "characters": len(text),
        "words": len(text.split()),
        "lines": len(text.splitlines()),
        "sentences": len(_SENTENCE_END.findall(stripped)),
        "paragraphs": len(_PARAGRAPH_BREAK.split(stripped)) if stripped else 0,
    }
