"""Pure scoring helpers for candidate secrets."""

from __future__ import annotations

import math
from collections import Counter


def shannon(text: str) -> float:
    """Shannon entropy in bits per *character* (not per byte, so non-ASCII is not inflated)."""
    if not text:
        return 0.0
    total = len(text)
    return -sum(n / total * math.log2(n / total) for n in Counter(text).values()) + 0.0


def char_classes(text: str) -> int:
    """How many of lower, upper, digit, other a string uses."""
    return sum(
        (
            any(c.islower() for c in text),
            any(c.isupper() for c in text),
            any(c.isdigit() for c in text),
            any(not c.isalnum() for c in text),
        )
    )
