"""Example templates and generator expressions (keyguard/examples.py)."""

from __future__ import annotations

import random

import pytest
import regex
from hypothesis import given, settings
from hypothesis import strategies as st

from keyguard.examples import TemplateError, expand, generate, generate_secret
from keyguard.signatures import Rule, load_builtin, parse_rules
from keyguard.validators import VALIDATORS

RULES = load_builtin()
GENERATING = [r for r in RULES if r.generate is not None]


def as_regex(expression: str) -> str:
    """The generator subset is a regex subset, except the hex shorthands."""
    return expression.replace("\\h", "[0-9a-f]").replace("\\H", "[0-9A-F]")


@pytest.mark.parametrize(
    "expression",
    [
        "abc",
        "[a-z]{8}",
        "[A-Za-z0-9_-]{20,30}",
        "\\d{4}-\\d{2}",
        "\\h{32}",
        "\\H{8}",
        "\\w{10}",
        "(foo|bar|baz)_[0-9]{3}",
        "x(ab|c(d|e){2}){3}y",
        "(?:AKIA|ASIA)[A-Z2-7]{16}",
        "a?b?c?",
        "\\.\\-\\\\[\\-.]{5}",
    ],
)
def test_generated_values_match_their_expression(expression: str) -> None:
    rng = random.Random(expression)
    for _ in range(20):
        value = generate(expression, rng)
        assert regex.fullmatch(as_regex(expression), value), (expression, value)


@pytest.mark.skipif(not GENERATING, reason="no built-in rule has a generator")
@pytest.mark.parametrize("rule", GENERATING, ids=[r.id for r in GENERATING])
def test_builtin_generators_match_their_expression_and_validator(rule: Rule) -> None:
    assert rule.generate is not None
    for seed in range(5):
        value = generate_secret(rule, random.Random(seed))
        if rule.validator is None:
            assert regex.fullmatch(as_regex(rule.generate), value), value
        else:
            # every validator, the macaroon and DER ones too: a generator whose values its own
            # checksum rejects would test the low-confidence path, not the rule
            assert VALIDATORS[rule.validator].check(value), (rule.id, value[:12])


def test_repetitions_draw_fresh_choices() -> None:
    value = generate("(a|b){200}", random.Random(1))
    assert set(value) == {"a", "b"}
    assert len(generate("[a-z]{3,6}", random.Random(2))) in range(3, 7)
    lengths = {len(generate("x{2,5}", random.Random(seed))) for seed in range(60)}
    assert lengths == {2, 3, 4, 5}


def test_same_seed_same_value() -> None:
    expression = "ghp_[A-Za-z0-9]{36}"
    assert generate(expression, random.Random(5)) == generate(expression, random.Random(5))
    assert generate(expression, random.Random(5)) != generate(expression, random.Random(6))


@pytest.mark.parametrize(
    ("expression", "problem"),
    [
        ("[abc", "unclosed character class"),
        ("(ab", "unclosed group"),
        ("a{2", "unclosed count"),
        ("a{x}", "bad count"),
        ("a{3,1}", "bad count"),
        ("*a", "unexpected '*'"),
        ("a+", "unexpected '+'"),
        ("[]", "empty character class"),
        ("a)b", "unexpected ')'"),
    ],
)
def test_bad_expressions_raise_template_error(expression: str, problem: str) -> None:
    with pytest.raises(TemplateError, match=regex.escape(problem)):
        generate(expression, random.Random(0))


def _rule(**overrides: object) -> Rule:
    entry: dict[str, object] = {
        "id": "test.rule",
        "title": "Test",
        "provider": "Test",
        "category": "secret",
        "severity": "low",
        "keywords": ["tok_"],
        "pattern": "tok_(?P<secret>[a-z]{12})",
        "generate": "tok_[a-z]{12}",
        "examples": ["A={{secret}} B={{secret}}"],
    }
    entry.update(overrides)
    return parse_rules([entry], "test.toml")[0]


def test_expand_uses_one_secret_per_template() -> None:
    text = expand("A={{secret}} B={{secret}}", _rule(), random.Random(0))
    first, second = regex.fullmatch(r"A=(tok_[a-z]{12}) B=(tok_[a-z]{12})", text).groups()  # type: ignore[union-attr]
    assert first == second
    other = expand("A={{secret}}", _rule(), random.Random(1))
    assert other != f"A={first}"


def test_expand_inline_generators_and_literal_braces() -> None:
    rule = _rule()
    text = expand(
        "id={{gen:[0-9]{6}}} raw={{ not a template }} k={{gen:(x|y){3}}}", rule, random.Random(3)
    )
    assert regex.fullmatch(r"id=\d{6} raw=\{\{ not a template \}\} k=[xy]{3}", text), text


def test_expand_errors() -> None:
    with pytest.raises(TemplateError, match="unclosed"):
        expand("{{gen:[a-z]{3}", _rule(), random.Random(0))
    no_generator = _rule(generate=None, examples=["tok_abcdefghijkl"])
    with pytest.raises(TemplateError, match="no `generate`"):
        generate_secret(no_generator, random.Random(0))


def test_checksum_fix_makes_a_valid_token() -> None:
    rule = next(r for r in RULES if r.id == "github.pat")
    for seed in range(10):
        value = generate_secret(rule, random.Random(seed))
        assert regex.fullmatch(r"ghp_[A-Za-z0-9]{36}", value)
        assert VALIDATORS["github-crc32"].check(value)
        broken = value[:-1] + ("A" if value[-1] != "A" else "B")
        assert not VALIDATORS["github-crc32"].check(broken)


@settings(max_examples=60, deadline=None)
@given(
    parts=st.lists(
        st.sampled_from(["[a-z]", "\\d", "\\h", "(ab|cd)", "x", "[A-Z0-9]"]), min_size=1, max_size=6
    ),
    counts=st.lists(st.sampled_from(["", "?", "{3}", "{1,4}"]), min_size=6, max_size=6),
    seed=st.integers(0, 2**32),
)
def test_random_expressions_generate_matching_values(
    parts: list[str], counts: list[str], seed: int
) -> None:
    expression = "".join(p + c for p, c in zip(parts, counts, strict=False))
    value = generate(expression, random.Random(seed))
    assert regex.fullmatch(as_regex(expression), value), (expression, value)
