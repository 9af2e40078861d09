"""Rules as plain JSON data, and back: the user cache's format for the parsed built-in rules.

Data only, never code (the cache used to be a pickle: loading a tampered one ran it). Reading
back validates every field's type and every name the engine looks up (validator, filters,
category...), so a truncated, stale or edited entry is rebuilt instead of crashing a scan later.
Patterns are not recompiled here: that is the 0.2 s the cache exists to save.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import fields
from typing import Any

from keyguard.filters import FILTERS
from keyguard.signatures import _ID, CATEGORIES, CONFIDENCES, SEVERITIES, Rule
from keyguard.validators import VALIDATORS


def encode_rules(rules: Sequence[Rule]) -> dict[str, Any]:
    """Rules as plain JSON data (the cache's format: data only, never code)."""
    names = [f.name for f in fields(Rule)]
    return {"fields": names, "rules": [[_plain(getattr(r, n)) for n in names] for r in rules]}


def _plain(value: object) -> object:
    return list(value) if isinstance(value, tuple) else value


def decode_rules(data: object) -> list[Rule] | None:
    """The rules `encode_rules` wrote, or None for anything else: a cache entry written by
    another version, truncated, or edited is rebuilt, never trusted (every field's type and
    every name the engine looks up is checked, so a bad entry cannot crash a scan later)."""
    names = [f.name for f in fields(Rule)]
    if not isinstance(data, dict) or data.get("fields") != names:
        return None
    rows = data.get("rules")
    if not isinstance(rows, list):
        return None
    kinds = [_FIELD_KINDS.get(str(f.type)) for f in fields(Rule)]
    out: list[Rule] = []
    for row in rows:
        if not isinstance(row, list) or len(row) != len(names):
            return None
        values: dict[str, Any] = {}
        for name, kind, value in zip(names, kinds, row, strict=True):
            if kind is None or not kind(value):
                return None
            values[name] = tuple(value) if isinstance(value, list) else value
        rule = Rule(**values)
        if not _is_consistent(rule):
            return None
        out.append(rule)
    return out


def _is_str(value: object) -> bool:
    return isinstance(value, str)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


_FIELD_KINDS: dict[str, Callable[[object], bool]] = {
    "str": _is_str,
    "str | None": lambda v: v is None or isinstance(v, str),
    "bool": lambda v: isinstance(v, bool),
    "int": _is_int,
    "float | None": lambda v: v is None or (isinstance(v, float | int) and not isinstance(v, bool)),
    "tuple[str, ...]": lambda v: isinstance(v, list) and all(isinstance(i, str) for i in v),
}


def _is_consistent(rule: Rule) -> bool:
    """The names the engine looks up (validator, filters, ...) exist: checked on cache load."""
    return (
        bool(_ID.match(rule.id))
        and rule.category in CATEGORIES
        and rule.severity in SEVERITIES
        and rule.confidence in CONFIDENCES
        and (rule.validator is None or rule.validator in VALIDATORS)
        and all(f in FILTERS for f in rule.filters)
        and all(f in FILTERS for f in rule.downgrade)
    )
