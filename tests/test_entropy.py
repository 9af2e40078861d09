"""Shannon entropy (bits per character) and character-class counting."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keyguard.entropy import char_classes, shannon


@pytest.mark.parametrize(
    ("text", "bits"),
    [
        ("", 0.0),
        ("a", 0.0),
        ("aaaaaaaa", 0.0),
        ("ab", 1.0),
        ("abab", 1.0),
        ("abcd", 2.0),
        ("aabb", 1.0),
        ("abcdefgh", 3.0),
        ("aaab", -(0.75 * math.log2(0.75) + 0.25 * math.log2(0.25))),
        ("".join(chr(c) for c in range(256)), 8.0),
    ],
)
def test_known_values(text: str, bits: float) -> None:
    assert shannon(text) == pytest.approx(bits)


@pytest.mark.parametrize("char", ["a", "é", "€", "😀", "\0", " "])
def test_repeated_character_is_zero_and_not_negative_zero(char: str) -> None:
    value = shannon(char * 17)
    assert value == 0.0
    assert math.copysign(1.0, value) == 1.0


def test_counts_characters_not_bytes() -> None:
    # "é€" is 5 UTF-8 bytes with 5 distinct byte values, but only 2 characters.
    assert shannon("é€") == pytest.approx(1.0)
    assert shannon("é€é€") == pytest.approx(1.0)
    assert shannon("😀😀😀") == 0.0


def test_tokens_are_above_typical_thresholds() -> None:
    assert shannon("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") > 5.9
    assert shannon("password") < 3.0


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=60))
def test_bounded_by_log_of_distinct_characters(text: str) -> None:
    value = shannon(text)
    distinct = len(set(text))
    assert 0.0 <= value <= (math.log2(distinct) if distinct else 0.0) + 1e-9


@settings(max_examples=100, deadline=None)
@given(st.text(min_size=1, max_size=40), st.integers(2, 4))
def test_repetition_does_not_change_entropy(text: str, times: int) -> None:
    assert shannon(text * times) == pytest.approx(shannon(text))


@pytest.mark.parametrize(
    ("text", "classes"),
    [("", 0), ("abc", 1), ("ABC", 1), ("123", 1), ("aB", 2), ("aB1", 3), ("aB1!", 4), ("é_", 2)],
)
def test_char_classes(text: str, classes: int) -> None:
    assert char_classes(text) == classes
