"""Which imported rules keyguard can run safely: the safety probe user rules get
(keyguard.safety.rule_problem), with a different outcome.

gitleaks runs its patterns on RE2, which takes linear time on any input; keyguard's `regex` is
a backtracking engine, so a pattern sound in gitleaks can backtrack catastrophically here (three
of gitleaks' own default rules do). Refusing the whole file over a rule the user did not write
helps nobody: such a rule is left out and named, and the rest run. A user's own keyguard rule
file is still refused whole, as before. The verdict is cached by the files' content.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import regex

from keyguard import safety
from keyguard.digest import keyed
from keyguard.errors import ConfigError
from keyguard.signatures import Rule

_VERSION = "2"  # part of the cached verdict's key: change it when the verdict changes meaning


@dataclass(frozen=True, slots=True)
class Verdict:
    rules: dict[str, str] = field(default_factory=dict)  # unsafe rule id -> why
    patterns: dict[str, str] = field(default_factory=dict)  # unsafe allowlist pattern -> where

    def notes(self, source: str) -> list[str]:
        engine = "in keyguard's backtracking regex engine (gitleaks' RE2 runs in linear time)"
        found = [
            f"{source}: rule {i!r}: not imported: {why} {engine}" for i, why in self.rules.items()
        ]
        found += [
            f"{source}: {where} not imported: it backtracks catastrophically {engine}"
            for where in self.patterns.values()
        ]
        return found

    def apply(self, table: Mapping[str, Any]) -> dict[str, Any]:
        """A keyguard configuration table without the unsafe rules and patterns."""
        out = dict(table)
        rules = [r for r in table.get("rule", []) if r.get("id") not in self.rules]
        out.pop("rule", None)
        if rules:
            out["rule"] = rules
        allow = table.get("allow")
        if isinstance(allow, Mapping):
            cleaned = self._allow(allow)
            by_rule = allow.get("rules", {})
            kept = {
                rule_id: self._allow(entry)
                for rule_id, entry in by_rule.items()
                if rule_id not in self.rules and self._allow(entry)
            }
            if kept:
                cleaned["rules"] = kept
            out.pop("allow")
            if cleaned:
                out["allow"] = cleaned
        return out

    def _allow(self, entry: Mapping[str, Any]) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for key, value in entry.items():
            if key == "rules":
                continue
            if key in ("paths", "values"):
                value = [v for v in value if v not in self.patterns]
            if value:
                found[key] = value
        return found


def vet(
    rules: Sequence[Rule],
    allowlists: Sequence[tuple[str, regex.Pattern[str]]],
    content: bytes,
) -> Verdict:
    """The imported rules and allowlist patterns that fail the probe (cached by `content`)."""
    from keyguard import __version__, cache

    if not rules and not allowlists:
        return Verdict()
    # Keyed: the content may hold allowlisted values, and the digest is a cache file's name.
    digest = keyed(f"{__version__}\0{_VERSION}\0" + content.decode("utf-8", "replace"))
    name = f"imported-{digest[:32]}.json"
    cached = cache.load_json(name)
    if isinstance(cached, dict) and cached.get("key") == digest:
        return Verdict(_strings(cached.get("rules")), _strings(cached.get("patterns")))
    unsafe_rules = {}
    for rule in rules:
        problem = safety.rule_problem(rule)
        if problem is not None:
            unsafe_rules[rule.id] = problem
    unsafe_patterns = {}
    for where, pattern in allowlists:
        try:  # the probe `[allow]` patterns get, one pattern at a time
            safety.vet((), f"{where}\0{pattern.pattern}".encode(), "", [(where, pattern)])
        except ConfigError:
            unsafe_patterns[pattern.pattern] = where
    verdict = Verdict(unsafe_rules, unsafe_patterns)
    cache.store_json(name, {"key": digest, "rules": unsafe_rules, "patterns": unsafe_patterns})
    return verdict


def _strings(found: object) -> dict[str, str]:
    return {str(k): str(v) for k, v in found.items()} if isinstance(found, dict) else {}
