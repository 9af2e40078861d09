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


_HEX = frozenset("0123456789abcdef")
_HEX_UPPER = frozenset("0123456789ABCDEF")
# Wilson-Hilferty's normal approximation of a chi-square quantile; z = 4.75 is about one in a
# million draws.
_Z = 4.75


def random_floor(text: str, threshold: float) -> float:
    """`threshold`, or lower: the entropy below which a truly random value of this length and
    alphabet falls only about once in a million draws.

    A fixed threshold misses real keys by chance: a random 32-character hex key has less than
    3.0 bits a character about once in 10,000 draws. For a uniform source the entropy deficit
    log2(k) - H, times 2 n ln 2, is close to chi-square with k - 1 degrees of freedom (k symbols,
    n characters), so its upper quantile bounds how low chance alone goes.
    """
    n = len(text)
    if n < 8:
        return threshold
    chars = set(text)
    if chars <= _HEX or chars <= _HEX_UPPER:
        k = 16
    elif all(c.isdigit() for c in chars):
        k = 10
    elif all(c.isalnum() and c.isascii() for c in chars):
        k = 36 if (text.islower() or text.isupper()) else 62
    else:
        k = 64 if all(c.isalnum() or c in "+/=_-" for c in chars) else 94
    if math.log2(k) < threshold + 0.5:
        # The rule expects a richer alphabet than the value's (40 hex digits for a base64 AWS
        # secret: a SHA-1, not a key): its own threshold decides.
        return threshold
    k = min(k, n)  # no more distinct symbols than characters
    dof = k - 1
    quantile = dof * (1 - 2 / (9 * dof) + _Z * math.sqrt(2 / (9 * dof))) ** 3
    return min(threshold, max(0.0, math.log2(k) - quantile / (2 * n * math.log(2))))
