"""Is a user's rule safe to run? Its regular expressions probed against pathological input.

Built-in patterns are vetted by the test suite in CI (tests/test_pattern_safety.py, the same kind
of input); a user's rule file or configuration is probed when it is loaded, so `keyguard scan`
refuses what `keyguard signatures check` rejects, naming the rule and the file, instead of timing
out window after window (the engine's regex timeout only stops one window at a time). The verdict
for a file is cached by its content digest: a rule file that has not changed is probed once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TypeVar

import regex

from keyguard.digest import keyed
from keyguard.errors import ConfigError
from keyguard.signatures import Rule

# Long runs of the characters patterns repeat (as in tests/test_pattern_safety.py), each after a
# keyword and followed by a character that makes the match fail, as large as a window.
FILLERS = (
    "a" * 3000,
    "A1" * 1500,
    "0" * 3000,
    "-" * 3000,
    "a-" * 1500,
    "a." * 1500,
    " " * 3000,
    "=" * 3000,
    "\\n" * 1500,
    "aA0+/" * 600,
    "ab:" * 1000,
    "a@" * 1500,
    "%41" * 1000,
)
# Seconds one probe may take. The regex module defuses the textbook cases (`(a+)+$` is not
# exponential there) but they stay superlinear: ~85 ms on a 3 KB probe where the slowest built-in
# pattern needs 8 ms and most need microseconds. A pattern that slow on one window makes every
# scan slow, so it is refused too. A probe over budget is run again before it counts, so a
# machine busy with something else does not refuse a sound rule.
PROBE_TIMEOUT = 0.05
_PROBE_VERSION = "2"  # part of the cached verdict's key: change it when the probes change
_T = TypeVar("_T", str, bytes)


def rule_problem(rule: Rule, every_keyword: bool = False) -> str | None:
    """Why the rule's regular expressions are unsafe to run, or None. At load, a rule is probed
    after its first four keywords; the test suite probes the built-ins after every one."""
    heads = list(rule.keywords if every_keyword else rule.keywords[:4]) or [""]
    probes = [head + filler + "!" for head in heads for filler in FILLERS]
    found = _probe(rule.compiled(), [p.encode("utf-8") for p in probes])
    if found is not None:
        return f"pattern backtracks catastrophically ({_sample(found)})"
    if rule.file_contains is not None:
        hint = regex.compile(rule.file_contains.encode("utf-8"))
        found = _probe(hint, [f.encode("utf-8") + b"!" for f in FILLERS])
        if found is not None:
            return f"`file_contains` backtracks catastrophically ({_sample(found)})"
    for path_pattern in rule.paths:
        on_path = _probe(regex.compile(path_pattern), [f + "!" for f in FILLERS])
        if on_path is not None:
            return f"path pattern {path_pattern!r} backtracks catastrophically ({_sample(on_path)})"
    return None


def _probe(pattern: regex.Pattern[_T], inputs: Iterable[_T]) -> _T | None:
    """The first input the pattern cannot get through in time (twice in a row), or None."""
    for data in inputs:
        if not _in_time(pattern, data) and not _in_time(pattern, data):
            return data
    return None


def _in_time(pattern: regex.Pattern[_T], data: _T) -> bool:
    try:
        for _ in pattern.finditer(data, timeout=PROBE_TIMEOUT):
            pass
    except TimeoutError:
        return False
    return True


def _sample(data: str | bytes) -> str:
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    return f"on {text[:16]!r}... of {len(text)} characters"


def vet(
    rules: Sequence[Rule],
    content: bytes,
    source: str = "",
    allowlists: Sequence[tuple[str, regex.Pattern[str]]] = (),
) -> None:
    """Refuse (ConfigError) the first unsafe rule, or allowlist pattern (named by where it is,
    `[allow] values`), of the user's file `source` whose bytes are `content`."""
    from keyguard import __version__, cache

    if not rules and not allowlists:
        return
    # Keyed: the content may hold allowlisted values, and the digest is a cache file's name.
    digest = keyed(f"{__version__}\0{_PROBE_VERSION}\0" + content.decode("utf-8", "replace"))
    name = f"safe-{digest[:32]}.json"
    if cache.load_json(name) == {"safe": digest}:
        return
    for rule in rules:
        problem = rule_problem(rule)
        if problem is not None:
            raise ConfigError(
                f"{rule.source}: rule {rule.id!r}: {problem}; refused "
                f"(`keyguard signatures check` rejects it too)"
            )
    for where, pattern in allowlists:
        # Allowlists run over every finding's path and value, without a timeout.
        found = _probe(pattern, [f + "!" for f in FILLERS])
        if found is not None:
            shown = where if "values pattern #" in where else f"{where} {pattern.pattern!r}"
            raise ConfigError(
                f"{source}: {shown} backtracks catastrophically ({_sample(found)}); refused"
            )
    cache.store_json(name, {"safe": digest})
