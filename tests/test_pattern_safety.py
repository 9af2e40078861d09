"""Built-in patterns run without the regex timeout (it costs more than most searches), so each
is vetted here against pathological input: long runs of the characters patterns repeat, after
each keyword, in a window as large as the engine ever gives a rule."""

from __future__ import annotations

import pytest

from keyguard.signatures import Rule, load_builtin

RULES = load_builtin()
FILLERS = [
    b"a" * 3000,
    b"A1" * 1500,
    b"0" * 3000,
    b"-" * 3000,
    b"a-" * 1500,
    b"a." * 1500,
    b" " * 3000,
    b"=" * 3000,
    b"\\n" * 1500,
    b"aA0+/" * 600,
    b"ab:" * 1000,
    b"a@" * 1500,
    b"%41" * 1000,
]


@pytest.mark.parametrize("rule", RULES, ids=[r.id for r in RULES])
def test_builtin_pattern_is_not_catastrophic(rule: Rule) -> None:
    assert rule.builtin
    pattern = rule.compiled()
    heads = [k.encode() for k in rule.keywords] or [b""]
    for head in heads[:4]:
        for filler in FILLERS:
            data = head + filler + b"!"
            try:
                for _ in pattern.finditer(data, timeout=1.0):
                    pass
            except TimeoutError:  # pragma: no cover - the failure this test exists for
                pytest.fail(
                    f"{rule.id}: pattern backtracks catastrophically on {head!r}+{filler[:12]!r}..."
                )
