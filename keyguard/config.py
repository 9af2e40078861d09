"""Configuration: `.keyguard.toml`, or `[tool.keyguard]` in pyproject.toml. Data only, never code."""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import regex

from keyguard.errors import ConfigError
from keyguard.hygiene import DEFAULT_ROTATION_DAYS
from keyguard.model import Finding
from keyguard.remediation import Playbook, parse_playbooks
from keyguard.signatures import Rule, parse_rules

DEFAULT_MAX_SIZE = 10 * 1024 * 1024
_KNOWN = {
    "rule",
    "playbook",
    "disable",
    "allow",
    "max_file_size",
    "extend_default",
    "rotation_days",
}
_SIZE = regex.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmg]i?b?|b)?\s*$", regex.I)


@dataclass(frozen=True, slots=True)
class Allow:
    paths: tuple[regex.Pattern[str], ...] = ()
    values: tuple[regex.Pattern[str], ...] = ()

    def allows(self, finding: Finding) -> bool:
        return any(p.search(finding.path) for p in self.paths) or any(
            v.search(finding.secret) for v in self.values
        )


@dataclass(frozen=True, slots=True)
class Config:
    source: str | None = None
    rules: tuple[Rule, ...] = ()
    disabled: frozenset[str] = frozenset()
    allow: Allow = field(default_factory=Allow)
    allow_by_rule: Mapping[str, Allow] = field(default_factory=dict)
    max_file_size: int = DEFAULT_MAX_SIZE
    rotation_days: int = DEFAULT_ROTATION_DAYS  # a credential older than this is overdue
    extend_default: bool = True  # false: only the rules of this file run, not the built-in ones
    playbooks: Mapping[str, Playbook] = field(default_factory=dict)  # for this file's rules

    @property
    def has_value_allowlists(self) -> bool:
        return bool(self.allow.values) or any(a.values for a in self.allow_by_rule.values())

    def is_allowed(self, finding: Finding) -> bool:
        if self.allow.allows(finding):
            return True
        per_rule = self.allow_by_rule.get(finding.rule_id)
        return per_rule is not None and per_rule.allows(finding)


def discover(root: Path) -> Path | None:
    """The config file that applies to a scan of root, if any."""
    folder = root if root.is_dir() else root.parent
    for candidate in (folder / ".keyguard.toml", folder / "pyproject.toml"):
        if candidate.is_file():
            if candidate.name == "pyproject.toml" and "keyguard" not in _tool_table(candidate):
                continue
            return candidate
    return None


def _tool_table(path: Path) -> dict[str, Any]:
    data = _read_toml(path)
    tool = data.get("tool", {})
    return tool if isinstance(tool, dict) else {}


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read configuration: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None


def load(path: Path) -> Config:
    if path.name == "pyproject.toml":
        table = _tool_table(path).get("keyguard", {})
    else:
        table = _read_toml(path)
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.keyguard] must be a table")
    return parse(table, str(path))


def parse(table: Mapping[str, Any], source: str) -> Config:
    unknown = sorted(set(table) - _KNOWN)
    if unknown:
        raise ConfigError(f"{source}: unknown setting(s): {', '.join(unknown)}")
    rules = tuple(parse_rules(table.get("rule", []), source))
    disabled = table.get("disable", [])
    if not isinstance(disabled, list) or not all(isinstance(d, str) for d in disabled):
        raise ConfigError(f"{source}: `disable` must be a list of rule ids")
    allow_table = table.get("allow", {})
    if not isinstance(allow_table, dict):
        raise ConfigError(f"{source}: [allow] must be a table")
    by_rule_table = allow_table.get("rules", {})
    if not isinstance(by_rule_table, dict):
        raise ConfigError(f"{source}: [allow.rules] must be a table of rule ids")
    unknown_allow = sorted(set(allow_table) - {"paths", "values", "rules"})
    if unknown_allow:
        raise ConfigError(f"{source}: unknown [allow] setting(s): {', '.join(unknown_allow)}")
    by_rule = {
        str(rule_id): _allow(entry, f"{source}: [allow.rules.{rule_id!r}]", ("paths", "values"))
        for rule_id, entry in by_rule_table.items()
    }
    extend_default = table.get("extend_default", True)
    if not isinstance(extend_default, bool):
        raise ConfigError(f"{source}: `extend_default` must be true or false")
    return Config(
        source=source,
        rules=rules,
        disabled=frozenset(disabled),
        allow=_allow(allow_table, f"{source}: [allow]"),
        allow_by_rule=by_rule,
        max_file_size=parse_size(table.get("max_file_size", DEFAULT_MAX_SIZE), source),
        extend_default=extend_default,
        playbooks=parse_playbooks(table.get("playbook", []), source),
        rotation_days=_days(table.get("rotation_days", DEFAULT_ROTATION_DAYS), source),
    )


def _days(raw: object, source: str) -> int:
    if not isinstance(raw, int) or isinstance(raw, bool) or raw < 1:
        raise ConfigError(f"{source}: `rotation_days` must be a positive number of days")
    return raw


def _allow(
    entry: object, where: str, known: tuple[str, ...] = ("paths", "values", "rules")
) -> Allow:
    if not isinstance(entry, Mapping):
        raise ConfigError(f"{where} must be a table")
    unknown = sorted(set(entry) - set(known))
    if unknown:
        raise ConfigError(f"{where}: unknown setting(s): {', '.join(map(str, unknown))}")
    return Allow(
        paths=tuple(_patterns(entry.get("paths", []), f"{where} paths")),
        values=tuple(_patterns(entry.get("values", []), f"{where} values")),
    )


def _patterns(raw: object, where: str) -> Iterable[regex.Pattern[str]]:
    if not isinstance(raw, list) or not all(isinstance(p, str) for p in raw):
        raise ConfigError(f"{where}: must be a list of regular expressions")
    for text in raw:
        try:
            yield regex.compile(text)
        except regex.error as exc:
            raise ConfigError(f"{where}: {text!r} does not compile: {exc}") from None


def parse_size(raw: object, source: str) -> int:
    if isinstance(raw, int) and not isinstance(raw, bool) and raw > 0:
        return raw
    if isinstance(raw, str):
        match = _SIZE.match(raw)
        if match:
            unit = (match.group(2) or "b").lower()[:1]
            scale = {"b": 1, "k": 1024, "m": 1024**2, "g": 1024**3}[unit]
            size = int(float(match.group(1)) * scale)
            if size > 0:  # a zero cap would skip every file and report a clean scan
                return size
    raise ConfigError(f"{source}: max_file_size must be a size such as 10MB (got {raw!r})")
