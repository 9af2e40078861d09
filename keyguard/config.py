"""Configuration: `.keyguard.toml`, or `[tool.keyguard]` in pyproject.toml. Data only, never code.

A configuration comes with the repository it configures, so it is read as untrusted: nothing in it
runs code, and every path it names (`rule_files`) must stay inside that repository (a `../` or a
symlink out of it is an error), so a cloned repository cannot make keyguard read the user's
other files. Paths given on the command line are the user's own choice and may be anywhere.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import regex

from keyguard import safety
from keyguard.errors import ConfigError
from keyguard.hygiene import DEFAULT_ROTATION_DAYS
from keyguard.model import Finding
from keyguard.remediation import Playbook, parse_playbooks
from keyguard.signatures import (
    MAX_LIST,
    Rule,
    parse_file,
    parse_rules,
    parse_toml,
    read_bytes,
    read_toml_file,
    unknown_keys,
)

DEFAULT_MAX_SIZE = 10 * 1024 * 1024
_KNOWN = {
    "rule",
    "playbook",
    "disable",
    "allow",
    "max_file_size",
    "extend_default",
    "rotation_days",
    "rule_files",
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
    rule_files: tuple[str, ...] = ()  # as written; `load` reads them (relative to the file)

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
    return _tool(read_toml_file(path, "configuration"))


def _tool(data: Mapping[str, Any]) -> dict[str, Any]:
    tool = data.get("tool", {})
    return tool if isinstance(tool, dict) else {}


def load(path: Path) -> Config:
    """The configuration in `path`, with the rule files it names read and every user rule
    probed for safety (the verdict cached by content, so an unchanged file costs nothing)."""
    content = read_bytes(path, "configuration")
    data = parse_toml(content, str(path))
    table = _tool(data).get("keyguard", {}) if path.name == "pyproject.toml" else data
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.keyguard] must be a table")
    cfg = parse(table, str(path))
    safety.vet(cfg.rules, content, str(path), list(_allowlists(cfg)))
    files = [confined(path, "rule_files", raw) for raw in cfg.rule_files]
    return add_rule_files(cfg, files)


def _allowlists(cfg: Config) -> Iterator[tuple[str, regex.Pattern[str]]]:
    tables = [("[allow]", cfg.allow)]
    tables += [(f"[allow.rules.{rule_id!r}]", a) for rule_id, a in cfg.allow_by_rule.items()]
    for where, allow in tables:
        yield from ((f"{where} paths", p) for p in allow.paths)
        # a value pattern may spell out the value it allows: named by position, never quoted
        yield from ((f"{where} values pattern #{n}", v) for n, v in enumerate(allow.values, 1))


def repository_root(folder: Path) -> Path:
    """The work tree holding `folder` (its nearest parent with a .git), else the folder."""
    for candidate in (folder, *folder.parents):
        if (candidate / ".git").exists():
            return candidate
    return folder


def confined(config: Path, key: str, raw: str) -> Path:
    """A path a configuration names, resolved (symlinks too) and refused outside the root."""
    folder = config.absolute().parent
    root = repository_root(folder).resolve()
    where = f"{config}: `{key}` entry {raw!r}"
    if "\0" in raw:
        raise ConfigError(f"{where} is not a file name")
    try:
        target = (folder / raw).resolve()
    except (OSError, RuntimeError) as exc:  # a symlink loop
        raise ConfigError(f"{where}: {exc}") from None
    if not target.is_relative_to(root):
        raise ConfigError(
            f"{where} is outside the repository {root}: a configuration may only name files "
            "inside it (name a file elsewhere on the command line instead)"
        )
    return target


def add_rule_files(cfg: Config, paths: Sequence[Path]) -> Config:
    """`cfg` with the rules (and playbooks) of these user rule files, each probed for safety.
    An id defined twice among the user's rules is an error; a built-in id is overridden."""
    if not paths:
        return cfg
    rules = list(cfg.rules)
    origin = {r.id: r.source for r in rules}
    playbooks = dict(cfg.playbooks)
    for path in paths:
        content = read_bytes(path, "rule file")
        data = parse_toml(content, str(path))
        found = parse_file(data, str(path))
        for rule in found:
            if rule.id in origin:
                raise ConfigError(
                    f"{path}: rule {rule.id!r}: duplicate id (already defined in {origin[rule.id]})"
                )
            origin[rule.id] = str(path)
        safety.vet(found, content)
        rules.extend(found)
        playbooks.update(parse_playbooks(data.get("playbook", []), str(path)))
    return replace(cfg, rules=tuple(rules), playbooks=playbooks)


def parse(table: Mapping[str, Any], source: str) -> Config:
    unknown = unknown_keys(table, _KNOWN)
    if unknown:
        raise ConfigError(f"{source}: unknown setting(s): {unknown}")
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
    unknown_allow = unknown_keys(allow_table, ("paths", "values", "rules"))
    if unknown_allow:
        raise ConfigError(f"{source}: unknown [allow] setting(s): {unknown_allow}")
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
        rule_files=_paths(table.get("rule_files", []), source, "rule_files"),
    )


def _paths(raw: object, source: str, key: str) -> tuple[str, ...]:
    if not isinstance(raw, list) or not all(isinstance(p, str) and p for p in raw):
        raise ConfigError(f"{source}: `{key}` must be a list of file names")
    return tuple(raw)


def _days(raw: object, source: str) -> int:
    if not isinstance(raw, int) or isinstance(raw, bool) or raw < 1:
        raise ConfigError(f"{source}: `rotation_days` must be a positive number of days")
    return raw


def _allow(
    entry: object, where: str, known: tuple[str, ...] = ("paths", "values", "rules")
) -> Allow:
    if not isinstance(entry, Mapping):
        raise ConfigError(f"{where} must be a table")
    unknown = unknown_keys(entry, known)
    if unknown:
        raise ConfigError(f"{where}: unknown setting(s): {unknown}")
    return Allow(
        paths=tuple(_patterns(entry.get("paths", []), f"{where} paths")),
        values=tuple(_patterns(entry.get("values", []), f"{where} values")),
    )


def _patterns(raw: object, where: str) -> Iterable[regex.Pattern[str]]:
    if not isinstance(raw, list) or not all(isinstance(p, str) for p in raw):
        raise ConfigError(f"{where}: must be a list of regular expressions")
    if len(raw) > MAX_LIST:  # each runs over every finding
        raise ConfigError(f"{where}: {len(raw)} patterns; at most {MAX_LIST}")
    for number, text in enumerate(raw, 1):
        try:
            yield regex.compile(text)
        except (regex.error, OverflowError, RecursionError, ValueError) as exc:
            # A value pattern often spells out the value it allows (a test key, a known
            # secret): an error message in a CI log shows its position, not the pattern.
            shown = f"pattern #{number}" if where.endswith("values") else repr(text)
            raise ConfigError(f"{where}: {shown} does not compile: {exc}") from None


def parse_size(raw: object, source: str) -> int:
    if isinstance(raw, int) and not isinstance(raw, bool) and raw > 0:
        return raw
    if isinstance(raw, str):
        match = _SIZE.match(raw)
        if match:
            unit = (match.group(2) or "b").lower()[:1]
            scale = {"b": 1, "k": 1024, "m": 1024**2, "g": 1024**3}[unit]
            try:
                size = int(float(match.group(1)) * scale)
            except OverflowError:  # "1e400" digits: infinity
                size = 0
            if size > 0:  # a zero cap would skip every file and report a clean scan
                return size
    raise ConfigError(f"{source}: max_file_size must be a size such as 10MB (got {raw!r})")
