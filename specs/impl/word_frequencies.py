import re
from collections import Counter

_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)*")


def word_frequencies(text: str, limit: int | None = None) -> dict[str, int]:
    """How often each word occurs (case-insensitive), most frequent first, ties alphabetical."""
    if limit is not None and limit < 0:
        raise ValueError(f"limit must not be negative, got {limit}")
    counts = Counter(word.lower() for word in _WORD.findall(text))
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return dict(ranked if limit is None else ranked[:limit])
