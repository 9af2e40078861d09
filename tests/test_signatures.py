"""Every rule's examples through the whole engine, on both matcher backends."""

from __future__ import annotations

import os
import random

import pytest

from keyguard.check import check_rule, check_rules
from keyguard.engine import CompiledRuleset
from keyguard.errors import ConfigError
from keyguard.signatures import load_builtin, parse_rules

RULES = load_builtin()


def test_enough_builtin_rules() -> None:
    """The rule set keeps its breadth: ids unique, at least the 343 credential and key rules the
    engine landed with, every category present, and many providers (a lost rule file fails)."""
    assert len({r.id for r in RULES}) == len(RULES)
    credentials = [r for r in RULES if r.category != "hygiene"]
    assert len(credentials) >= 343
    assert {r.category for r in RULES} == {"secret", "private-key", "root-key", "hygiene"}
    assert len({r.provider for r in credentials}) >= 150
    assert len(RULES) - len(credentials) >= 30  # the key-hygiene rules


@pytest.mark.parametrize("rule", RULES, ids=[r.id for r in RULES])
def test_rule_examples(rule: object, compiled_any: CompiledRuleset) -> None:
    by_id = compiled_any.ruleset.by_id()
    problems = check_rule(by_id[rule.id], compiled_any, random.Random(rule.id))  # type: ignore[attr-defined]
    assert not problems, "\n".join(map(str, problems))


def _rule(**overrides: object) -> dict[str, object]:
    base: dict[str, object] = {
        "id": "test.rule",
        "title": "Test",
        "provider": "Test",
        "category": "secret",
        "severity": "high",
        "keywords": ["tok_"],
        "pattern": r"tok_(?P<secret>[a-z]{8})",
        "examples": ["tok_abcdefgh"],
    }
    base.update(overrides)
    return base


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"pattern": "tok_(unclosed"}, "does not compile"),
        ({"category": "nope"}, "`category` must be one of"),
        ({"keywords": ["ab"]}, "at least 3 characters"),
        ({"keywords": []}, "needs `keywords`"),
        ({"validator": "luhn9"}, "unknown validator"),
        ({"filters": ["nonsense"]}, "unknown filter"),
        ({"surprise": 1}, "unknown field"),
        ({"examples": ["{{secret}}"]}, "no `generate`"),
        ({"entropy": 9}, "entropy must be"),
    ],
)
def test_bad_rules_name_file_rule_and_problem(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_rules([_rule(**overrides)], "custom.toml")
    text = str(caught.value)
    assert "custom.toml" in text and "test.rule" in text and message in text


def test_example_without_keyword_fails_the_check(compiled: CompiledRuleset) -> None:
    from keyguard.engine import compile_ruleset
    from keyguard.signatures import Ruleset

    rule = parse_rules(
        [_rule(examples=["xx_abcdefgh"], pattern=r"(?:tok|xx)_(?P<secret>[a-z]{8})")], "t.toml"
    )[0]
    ruleset = compile_ruleset(Ruleset.of([rule]))
    problems = check_rule(rule, ruleset, random.Random(0))
    assert problems and "none of the keywords" in problems[0].message


def test_requires_guards_the_pattern() -> None:
    """A rule with `requires` only runs where a window holds one of those words."""
    from keyguard.engine import compile_ruleset, scan
    from keyguard.signatures import Ruleset, parse_rules

    entry = {
        "id": "acme.guarded",
        "title": "t",
        "provider": "p",
        "category": "hygiene",
        "severity": "low",
        "keywords": ["digest("],
        "pattern": r"digest\((?P<secret>[a-z]+)\)",
        "examples": ["digest(userpass)"],
        "requires": ["pass"],
    }
    (rule,) = parse_rules([entry], "t.toml")
    compiled = compile_ruleset(Ruleset.of([rule]))
    assert [f.secret for f in scan(b"x = digest(userpass)\n", "a.py", compiled).findings] == [
        "userpass"
    ]
    assert scan(b"x = digest(checksum)\n", "a.py", compiled).findings == []


# Users run `keyguard signatures check` without a seed on their own rule files: a random draw of
# an example must not be rejected by a filter by chance (it once failed 3 runs in 8: a `#{` in a
# WordPress salt read as a template, "dUMmY" inside a random token as a placeholder...). CI pins
# `--seed 1`; these are other seeds, and KEYGUARD_CHECK_SEEDS=N widens them for a nightly run.
_SEEDS = range(1000, 1000 + int(os.environ.get("KEYGUARD_CHECK_SEEDS", "12")))


@pytest.mark.parametrize("seed", _SEEDS)
def test_signatures_check_is_not_flaky(seed: int, compiled: CompiledRuleset) -> None:
    problems = check_rules(compiled, seed)
    assert not problems, [str(p)[:300] for p in problems]
