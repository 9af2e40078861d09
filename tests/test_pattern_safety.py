"""Built-in patterns run without the regex timeout (it costs more than most searches), so each
is vetted here as strictly as a user's rule is at load (keyguard.safety: long runs of the
characters patterns repeat, after a keyword, as large as a window; 50 ms a probe, where the
slowest built-in needs under 10), and after every one of its keywords, not the first four."""

from __future__ import annotations

import pytest

from keyguard.safety import rule_problem
from keyguard.signatures import Rule, load_builtin

RULES = load_builtin()


@pytest.mark.parametrize("rule", RULES, ids=[r.id for r in RULES])
def test_builtin_pattern_is_not_catastrophic(rule: Rule) -> None:
    assert rule.builtin
    assert rule_problem(rule, every_keyword=True) is None


def test_the_probe_refuses_a_catastrophic_pattern() -> None:
    from keyguard.signatures import parse_rules

    (slow,) = parse_rules(
        [
            {
                "id": "t.slow",
                "title": "t",
                "provider": "p",
                "category": "secret",
                "severity": "low",
                "keywords": ["okay", "acme_"],
                "pattern": r"acme_(a+)+$",
                "examples": ["acme_aaaa"],
            }
        ],
        "t.toml",
    )
    assert rule_problem(slow, every_keyword=True) is not None
