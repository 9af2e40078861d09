"""gitleaks allowlists translated into keyguard's `[allow]` table (see keyguard.importers.gitleaks).

`paths` become `[allow] paths`; `regexes` and `stopwords` (a stop word anywhere in the secret, in
any case) become `values`; `commits` become `commits`; a rule's allowlist becomes
`[allow.rules."<id>"]`. keyguard allows a finding on any one check, so a gitleaks allowlist with
`condition = "AND"` over several kinds of check is named and left out (which reports more, never
less). Regexes aimed at the match or the line are checked against the secret, the part of the
match a finding keeps: they may allow less than in gitleaks, never more.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import regex

from keyguard.errors import ConfigError
from keyguard.importers.re2 import translate
from keyguard.signatures import suggest

_ALLOWLIST = (
    "description",
    "condition",
    "commits",
    "paths",
    "regexes",
    "regexTarget",
    "stopwords",
    "targetRules",
)


def top_allowlists(data: Mapping[str, Any], source: str) -> list[tuple[Mapping[str, Any], str]]:
    """A file's global allowlists (legacy `[allowlist]`, `[[allowlists]]`), each labelled."""
    found: list[tuple[Mapping[str, Any], str]] = []
    legacy = data.get("allowlist")
    if legacy is not None:
        if not isinstance(legacy, Mapping):
            raise ConfigError(f"{source}: [allowlist] must be a table")
        found.append((legacy, "[allowlist]"))
    many = data.get("allowlists", [])
    if not isinstance(many, list) or not all(isinstance(a, Mapping) for a in many):
        raise ConfigError(f"{source}: `allowlists` must be an array of tables ([[allowlists]])")
    found += [(a, f"[[allowlists]] #{n}") for n, a in enumerate(many, 1)]
    return found


def rule_allowlists(entry: Mapping[str, Any], where: str) -> list[Mapping[str, Any]]:
    """A rule's allowlists (legacy `[rules.allowlist]`, `[[rules.allowlists]]`)."""
    found: list[Mapping[str, Any]] = []
    legacy = entry.get("allowlist")
    if legacy is not None:
        if not isinstance(legacy, Mapping):
            raise ConfigError(f"{where}: [rules.allowlist] must be a table")
        found.append(legacy)
    many = entry.get("allowlists", [])
    if not isinstance(many, list) or not all(isinstance(a, Mapping) for a in many):
        raise ConfigError(f"{where}: `allowlists` must be an array of tables")
    return found + list(many)


class AllowTable:
    """keyguard's `[allow]` table, filled from gitleaks allowlists."""

    def __init__(self) -> None:
        self.tables: dict[str | None, dict[str, list[str]]] = {}

    def add(
        self, allowlist: Mapping[str, Any], label: str, notes: list[str], rule_id: str | None
    ) -> None:
        note_unknown(allowlist, _ALLOWLIST, label, notes)
        condition = allowlist.get("condition", "OR")
        if not isinstance(condition, str) or condition.upper() not in ("OR", "AND"):
            raise ConfigError(f'{label}: condition must be "OR" or "AND"')
        commits = string_list(allowlist.get("commits", []), f"{label} commits")
        paths = string_list(allowlist.get("paths", []), f"{label} paths")
        regexes = string_list(allowlist.get("regexes", []), f"{label} regexes")
        stopwords = string_list(allowlist.get("stopwords", []), f"{label} stopwords")
        kinds = sum(bool(k) for k in (commits, paths, regexes, stopwords))
        if condition.upper() == "AND" and kinds > 1:
            notes.append(
                f'{label}: condition = "AND" over several kinds of check cannot be expressed '
                "(keyguard allows on any one): not imported"
            )
            return
        target = allowlist.get("regexTarget", "secret")
        if target not in ("secret", "match", "line"):
            raise ConfigError(f'{label}: regexTarget must be "secret", "match" or "line"')
        if regexes and target != "secret":
            notes.append(
                f"{label}: regexTarget = {target!r}: its regexes are checked against the secret "
                f"only (keyguard keeps no {target} text); they may allow less than in gitleaks"
            )
        out = self.tables.setdefault(rule_id, {})
        for number, raw in enumerate(paths, 1):
            translated = translate(raw, for_bytes=False)
            if translated.problems:
                notes.append(f"{label}: path #{number} not imported: {translated.problems[0]}")
            else:
                _append(out, "paths", translated.pattern)
        for number, raw in enumerate(regexes, 1):
            translated = translate(raw, for_bytes=False)
            if translated.problems:
                # Named by position: an allowlist regex often spells out the value it allows.
                notes.append(f"{label}: regex #{number} not imported: {translated.problems[0]}")
            else:
                _append(out, "values", translated.pattern)
        # gitleaks: a stop word anywhere in the secret, in any case.
        if stopwords:  # one pattern: gitleaks' generic rule alone has 1,400 of them
            _append(out, "values", "(?i)(?:" + "|".join(regex.escape(w) for w in stopwords) + ")")
        for commit in commits:
            _append(out, "commits", commit.lower())

    def table(self) -> dict[str, Any]:
        top: dict[str, Any] = dict(self.tables.get(None, {}))
        by_rule = {k: v for k, v in self.tables.items() if k is not None and v}
        if by_rule:
            top["rules"] = by_rule
        return {k: v for k, v in top.items() if v}


def _append(table: dict[str, list[str]], key: str, value: str) -> None:
    values = table.setdefault(key, [])
    if value not in values:
        values.append(value)


def string_list(raw: object, where: str) -> list[str]:
    if not isinstance(raw, list) or not all(isinstance(s, str) and s for s in raw):
        raise ConfigError(f"{where} must be a list of non-empty strings")
    return list(raw)


def note_unknown(
    table: Mapping[str, Any], known: Iterable[str], where: str, notes: list[str]
) -> None:
    allowed = set(known)
    for key in sorted(str(k) for k in table if str(k) not in allowed):
        notes.append(f"{where} unknown setting `{key}`{suggest(key, allowed)}: ignored")
