"""Which path-limited rules apply to a path (keyguard.pathmatch) is exactly what the rules'
`paths` patterns say, with hyperscan (one scan for the patterns it takes, `regex` for the rest)
and without it: a rule wrongly blocked would be a silent hole."""

from __future__ import annotations

import pytest
import regex
from hypothesis import given
from hypothesis import strategies as st

from keyguard.engine import CompiledRuleset
from keyguard.matcher import is_hyperscan_available
from keyguard.pathmatch import PathMatcher, _may_compile

FRAGMENTS = [
    "",
    "/",
    "\\",
    ".",
    "a",
    "config",
    ".git",
    ".env",
    "winscp",
    "WinSCP",
    ".ini",
    ".INI",
    ".tfstate",
    ".backup",
    ".json",
    ".pgpass",
    ".bashrc",
    ".sh",
    ".c",
    "profile.d",
    "sftp-config",
    ".npmrc",
    ".docker",
    "kube",
    "credentials.xml",
    "é",
    "\udcff",  # an undecodable byte of a non-UTF-8 name, as the OS hands it over
    "\n",
]


def expected(compiled: CompiledRuleset, path: str) -> set[int]:
    return {
        i
        for i in compiled.path_restricted
        if any(regex.search(p, path) for p in compiled.path_patterns[i])
    }


def test_every_example_path_meets_exactly_its_rules(compiled_any: CompiledRuleset) -> None:
    paths = {r.example_path for r in compiled_any.rules} | {"src/app.py", "README.md"}
    for path in paths:
        assert compiled_any.path_matcher.matching(path) == expected(compiled_any, path), path


@given(st.lists(st.sampled_from(FRAGMENTS), max_size=8))
def test_any_path_meets_exactly_its_rules(compiled_any: CompiledRuleset, parts: list[str]) -> None:
    path = "".join(parts)
    assert compiled_any.path_matcher.matching(path) == expected(compiled_any, path)


def test_patterns_hyperscan_would_read_otherwise_stay_with_regex() -> None:
    assert not _may_compile(r"^(?!.*\.c$)")
    assert not _may_compile(r"(a)\1")
    assert not _may_compile(r"a(?i)b")
    assert _may_compile(r"(?i)(^|[/\\])winscp[\w .-]*\.ini$")


@pytest.mark.skipif(not is_hyperscan_available(), reason="hyperscan not installed")
def test_mixed_patterns_with_hyperscan() -> None:
    patterns = [(0, r"(?i)\.INI$"), (1, r"^(?!.*\.c$)"), (2, r"(^|/)\.env$")]
    matcher = PathMatcher(patterns, True)
    assert matcher.matching("x.ini") == {0, 1}
    assert matcher.matching("src/main.c") == set()
    assert matcher.matching("app/.env") == {1, 2}
    assert matcher.matching("caf\u00e9/.env") == {1, 2}  # not ASCII: regex decides


@pytest.mark.parametrize(
    ("pattern", "parts"),
    [
        (r"(?m)^a|^b(c|d)", [r"(?m)^a", r"(?m)^b(c|d)"]),
        (r"x[|]y|[]|]z", [r"x[|]y", r"[]|]z"]),
        (r"a\|b", [r"a\|b"]),
        (r"a(?i)b|c", [r"a(?i)b|c"]),  # a flag further in: kept whole
    ],
)
def test_a_file_hint_splits_at_its_top_level_bars(pattern: str, parts: list[str]) -> None:
    from keyguard.hints import alternatives

    assert alternatives(pattern) == parts


@given(st.text(alphabet="kind:Config\nclusters -name\t secret\"'KINDSECRET", max_size=60))
def test_a_file_hint_finds_exactly_what_its_pattern_finds(
    compiled: CompiledRuleset, text: str
) -> None:
    import regex

    from keyguard.hints import FileHint

    data = text.encode()
    for rule in compiled.rules:
        if rule.file_contains:
            whole = regex.compile(rule.file_contains.encode(), regex.V0).search(data)
            assert FileHint.of(rule.file_contains).found_in(data) == bool(whole)


@pytest.mark.parametrize(
    ("pattern", "literal"),
    [
        (r"(?m)^kind:[ \t]*Config\b", "kind:"),
        (r"ab?c", "a"),
        (r"a+b", "a"),
        (r"x{2}", ""),
        (r"(ab)", ""),
        (r"\.env", ""),
    ],
)
def test_the_leading_literal_is_in_every_match(pattern: str, literal: str) -> None:
    from keyguard.hints import leading_literal

    assert leading_literal(pattern) == literal
