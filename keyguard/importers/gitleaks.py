"""A gitleaks configuration (`.gitleaks.toml`) translated into a keyguard configuration table.

Pure: parsed TOML in, the `.keyguard.toml` table (the schema `keyguard.config.parse` reads) and
notes out; the only file access is the `read` callback that follows `[extend] path`, supplied by
the caller (keyguard.config, which keeps such paths inside the repository). Reading
`.gitleaks.toml` directly and loading the output of `keyguard import gitleaks` go through this
same table, so both give the same findings.

What gitleaks means, and what keyguard does with it:
- `[[rules]]`: `regex` (RE2, see keyguard.importers.re2) with `secretGroup` as the `secret`
  group, `keywords`, `entropy`, `path`, `tags` become a keyguard `[[rule]]`. A rule without
  keywords (or with one shorter than keyguard's 3-character minimum) runs over whole files,
  guarded by its keywords, as in gitleaks. Without `secretGroup`, the secret is group 1 when
  it always takes part, or whichever group took part when each sits in its own branch (gitleaks:
  the first group that matched); a rule without groups reports the whole match, so keyguard's
  placeholder filters, which would judge the rule's own literal text, are off for it.
- Without `[extend]`, a gitleaks file with rules replaces the default rules: keyguard runs only
  the imported ones (`extend_default = false`). `useDefault = true` keeps keyguard's built-in
  rules (keyguard's, not gitleaks'); `disabledRules` names gitleaks ids, mapped through
  keyguard.importers.gitleaks_ids. `path` follows another file, two levels deep at most;
  the extending file's fields win over the base's, its allowlists are added.
- Allowlists (`[allowlist]`, `[[allowlists]]`, per rule `[rules.allowlist]` and
  `[[rules.allowlists]]`) become `[allow]` entries: see keyguard.importers.gitleaks_allow.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import regex

from keyguard.errors import ConfigError
from keyguard.importers import gitleaks_ids
from keyguard.importers.gitleaks_allow import (
    AllowTable,
    note_unknown,
    rule_allowlists,
    string_list,
    top_allowlists,
)
from keyguard.importers.re2 import translate
from keyguard.signatures import MAX_KEYWORD

MAX_DEPTH = 2  # `[extend] path` levels, as in gitleaks
_TOP = ("title", "description", "minVersion", "extend", "rules", "allowlist", "allowlists")
_EXTEND = ("useDefault", "path", "url", "disabledRules")
_RULE = (
    "id",
    "description",
    "regex",
    "secretGroup",
    "entropy",
    "keywords",
    "path",
    "tags",
    "allowlist",
    "allowlists",
    "skipReport",
    "required",
)
_ANY_PATH = "^"  # keyguard's way to say "every file" for a rule without keywords
_WHOLE_MATCH_FILTERS = ("template",)
NO_EXAMPLE = "(imported from gitleaks: add an example this rule finds)"

# Reads the file an `[extend] path` names: (path as written, the file naming it) -> (its name
# for messages, its parsed TOML).
Reader = Callable[[str, str], tuple[str, Mapping[str, Any]]]


@dataclass(frozen=True, slots=True)
class Translation:
    table: dict[str, Any]  # a `.keyguard.toml` table
    notes: tuple[str, ...]  # what was not translated exactly, one sentence each


@dataclass(slots=True)
class _Chain:
    """The gitleaks settings of a file and the files it extends, merged."""

    rules: dict[str, tuple[dict[str, Any], str]] = field(default_factory=dict)
    allowlists: list[tuple[Mapping[str, Any], str]] = field(default_factory=list)
    use_default: bool = False
    has_extend: bool = False
    disabled: list[tuple[str, str]] = field(default_factory=list)


def import_config(data: Mapping[str, Any], source: str, read: Reader) -> Translation:
    """The keyguard configuration table that does what the gitleaks file `data` does."""
    notes: list[str] = []
    chain = _read_chain(data, source, read, 0, notes)
    rules: list[dict[str, Any]] = []
    ids: dict[str, str] = {}  # gitleaks id -> keyguard id, of the rules imported
    allow = AllowTable()
    for gl_id, (entry, rule_source) in chain.rules.items():
        where = f"{rule_source}: rule {gl_id!r}"
        kg_id = _unique_id(gl_id, ids, where, notes)
        rule = _rule(entry, kg_id, gl_id, where, notes)
        targets: tuple[str, ...] = (kg_id,) if rule is not None else ()
        if rule is not None:
            ids[gl_id] = kg_id
            rules.append(rule)
        elif "regex" not in entry and "path" not in entry:
            targets = _default_targets(gl_id, where, chain.use_default, notes)
        for number, allowlist in enumerate(rule_allowlists(entry, where), 1):
            label = f"{where} allowlist #{number}"
            for target in targets:
                allow.add(allowlist, label, notes, target)
    for allowlist, label in chain.allowlists:
        targets_raw = allowlist.get("targetRules")
        if targets_raw is None:
            allow.add(allowlist, label, notes, None)
            continue
        for gl_id in string_list(targets_raw, f"{label} targetRules"):
            if gl_id in ids:
                allow.add(allowlist, label, notes, ids[gl_id])
            else:
                for target in _default_targets(gl_id, label, chain.use_default, notes):
                    allow.add(allowlist, label, notes, target)
    disable = _disabled(chain, ids, rules, notes)
    table: dict[str, Any] = {}
    if chain.rules:  # as written: a file whose rules all failed to translate is still custom
        extend_default = chain.use_default
    else:
        extend_default = True
        if not chain.has_extend:
            notes.append(
                f"{source}: no [[rules]] and no [extend]: gitleaks would run no rules at all; "
                "keyguard keeps its built-in rules"
            )
    table["extend_default"] = extend_default
    if disable:
        table["disable"] = disable
    allow_table = allow.table()
    if allow_table:
        table["allow"] = allow_table
    if rules:
        table["rule"] = rules
    return Translation(table, tuple(dict.fromkeys(notes)))


def _read_chain(
    data: Mapping[str, Any], source: str, read: Reader, depth: int, notes: list[str]
) -> _Chain:
    note_unknown(data, _TOP, f"{source}:", notes)
    chain = _Chain()
    extend = data.get("extend", {})
    if not isinstance(extend, Mapping):
        raise ConfigError(f"{source}: [extend] must be a table")
    note_unknown(extend, _EXTEND, f"{source}: [extend]", notes)
    if "extend" in data:
        chain.has_extend = True
    use_default = extend.get("useDefault", False)
    if not isinstance(use_default, bool):
        raise ConfigError(f"{source}: [extend] useDefault must be true or false")
    if "url" in extend:
        notes.append(f"{source}: [extend] url is not followed (gitleaks does not either)")
    base_path = extend.get("path")
    if base_path is not None:
        if not isinstance(base_path, str) or not base_path:
            raise ConfigError(f"{source}: [extend] path must be a file name")
        if depth >= MAX_DEPTH:
            notes.append(
                f"{source}: [extend] path {base_path!r} not followed: "
                f"configurations extend at most {MAX_DEPTH} levels deep"
            )
        else:
            base_source, base_data = read(base_path, source)
            base = _read_chain(base_data, base_source, read, depth + 1, notes)
            chain.rules = base.rules
            chain.allowlists = base.allowlists
            chain.use_default = base.use_default
            chain.disabled = base.disabled
    chain.use_default = chain.use_default or use_default
    chain.disabled = chain.disabled + [
        (d, source)
        for d in string_list(extend.get("disabledRules", []), f"{source}: disabledRules")
    ]
    raw_rules = data.get("rules", [])
    if not isinstance(raw_rules, list) or not all(isinstance(r, Mapping) for r in raw_rules):
        raise ConfigError(f"{source}: `rules` must be an array of tables ([[rules]])")
    for index, entry in enumerate(raw_rules, 1):
        gl_id = entry.get("id")
        if not isinstance(gl_id, str) or not gl_id:
            raise ConfigError(f"{source}: rule #{index} has no `id`")
        where = f"{source}: rule {gl_id!r}"
        note_unknown(entry, _RULE, where, notes)
        if gl_id in chain.rules:
            base_entry, base_source = chain.rules[gl_id]
            if base_source == source:
                raise ConfigError(f"{where}: duplicate id (defined twice)")
            # The extending file's fields win; the allowlists of both apply.
            merged = {**base_entry, **entry}
            merged["allowlists"] = [
                *rule_allowlists(base_entry, base_source),
                *rule_allowlists(entry, where),
            ]
            merged.pop("allowlist", None)
            chain.rules[gl_id] = (merged, source)
        else:
            chain.rules[gl_id] = (dict(entry), source)
    chain.allowlists += [(a, f"{source}: {label}") for a, label in top_allowlists(data, source)]
    return chain


def _rule(
    entry: Mapping[str, Any],
    kg_id: str,
    gl_id: str,
    where: str,
    notes: list[str],
) -> dict[str, Any] | None:
    """The keyguard rule table for a gitleaks rule, or None (and a note) if there is none."""
    pattern = entry.get("regex")
    path = entry.get("path")
    if pattern is None:
        if path is not None:
            notes.append(
                f"{where}: a rule with `path` and no `regex` reports files by name; keyguard "
                "reports secrets inside files: not imported"
            )
        return None
    if not isinstance(pattern, str) or not pattern:
        raise ConfigError(f"{where}: `regex` must be a non-empty string")
    for key in ("skipReport", "required"):
        if key in entry:
            notes.append(f"{where}: `{key}` (composite rules) is not supported: not imported")
            return None
    group = entry.get("secretGroup")
    if group is not None and (not isinstance(group, int) or isinstance(group, bool) or group < 0):
        raise ConfigError(f"{where}: `secretGroup` must be a non-negative integer")
    translated = translate(pattern, group or None)
    if group is None and translated.groups:
        # gitleaks takes the first group that matched something: group 1 when it always takes
        # part, or whichever took part when each group is in its own branch.
        translated = translate(pattern, 1)
        if translated.groups > 1 and not translated.first_certain:
            if translated.exclusive:
                translated = translate(pattern, secret_all=True)
            else:
                notes.append(
                    f"{where}: no secretGroup: the secret is capture group 1 (gitleaks takes "
                    "the first group that matched something)"
                )
    if translated.problems:
        notes.append(f"{where}: regex not imported: {'; '.join(translated.problems)}")
        return None
    description = entry.get("description", "")
    if not isinstance(description, str):
        raise ConfigError(f"{where}: `description` must be a string")
    rule: dict[str, Any] = {
        "id": kg_id,
        "title": description or gl_id,
        "provider": "custom",
        "category": "secret",
        "severity": "high",
        "pattern": translated.pattern,
        "examples": [NO_EXAMPLE],
    }
    if description:
        rule["description"] = description
    if translated.multiline:
        rule["multiline"] = True
    if not translated.groups:
        # The secret is the whole match, the rule's own literal text too (`-----BEGIN...`):
        # the filters for placeholder values would judge that text, not a value.
        rule["filters"] = list(_WHOLE_MATCH_FILTERS)
    paths: list[str] = []
    if path is not None:
        if not isinstance(path, str) or not path:
            raise ConfigError(f"{where}: `path` must be a regular expression")
        on_path = translate(path, for_bytes=False)
        if on_path.problems:
            notes.append(f"{where}: path not imported: {'; '.join(on_path.problems)}")
            return None
        paths.append(on_path.pattern)
    keywords = [k.lower() for k in string_list(entry.get("keywords", []), f"{where} keywords")]
    if keywords and all(3 <= len(k) <= MAX_KEYWORD for k in keywords):
        rule["keywords"] = sorted(set(keywords))
    else:
        # gitleaks runs such a rule's regex over every file holding a keyword (any keyword,
        # any case): keyguard's `requires`, over whole files.
        if keywords:
            rule["requires"] = sorted(set(keywords))
        paths = paths or [_ANY_PATH]
    if paths:
        rule["paths"] = paths
    entropy = entry.get("entropy")
    if entropy is not None:
        if not isinstance(entropy, int | float) or isinstance(entropy, bool):
            raise ConfigError(f"{where}: `entropy` must be a number")
        if entropy > 8:
            notes.append(f"{where}: entropy {entropy} is above 8 bits per character: 8 is used")
        if entropy > 0:  # gitleaks: 0 means no entropy check
            rule["entropy"] = float(min(entropy, 8))
    tags = string_list(entry.get("tags", []), f"{where} tags")
    if tags:
        rule["tags"] = tags
    return rule


def _default_targets(
    gl_id: str, where: str, use_default: bool, notes: list[str]
) -> tuple[str, ...]:
    """The built-in keyguard rules a gitleaks default rule id stands for (noting when none)."""
    mapped = gitleaks_ids.keyguard_ids(gl_id)
    if not use_default:
        notes.append(
            f"{where}: {gl_id!r} names no rule of this configuration (and the default rules "
            "are not used): its allowlist is not imported"
        )
        return ()
    if not mapped:
        notes.append(
            f"{where}: gitleaks' default rule {gl_id!r} has no clear keyguard equivalent: "
            "its allowlist is not imported"
        )
        return ()
    return mapped


def _disabled(
    chain: _Chain, ids: dict[str, str], rules: list[dict[str, Any]], notes: list[str]
) -> list[str]:
    """`[extend] disabledRules`: imported rules are left out; defaults become `disable`."""
    disable: list[str] = []
    for gl_id, source in chain.disabled:
        if gl_id in ids:
            rules[:] = [r for r in rules if r["id"] != ids[gl_id]]
            continue
        mapped = gitleaks_ids.keyguard_ids(gl_id)
        if chain.use_default and mapped:
            disable += [m for m in mapped if m not in disable]
        elif gl_id not in chain.rules:
            notes.append(
                f"{source}: disabledRules: {gl_id!r} has no keyguard equivalent: nothing disabled"
            )
    return disable


def keyguard_id(gl_id: str) -> str:
    """A gitleaks rule id in keyguard's id syntax (lowercase words joined by '.' or '-')."""
    lowered: str = regex.sub(r"[^a-z0-9.]+", "-", gl_id.lower())
    joined: str = regex.sub(r"[.-]{2,}", "-", lowered)
    return joined.strip(".-")


def _unique_id(gl_id: str, taken: Mapping[str, str], where: str, notes: list[str]) -> str:
    kg_id = keyguard_id(gl_id) or "gitleaks-rule"
    used = set(taken.values())
    base, n = kg_id, 1
    while kg_id in used:
        n += 1
        kg_id = f"{base}-{n}"
    if kg_id != gl_id:
        notes.append(f"{where}: id {gl_id!r} is {kg_id!r} in keyguard (its id syntax)")
    return kg_id


CONFIG = ".gitleaks.toml"
IGNORE = ".gitleaksignore"


def is_config_file(path: Path) -> bool:
    """A gitleaks configuration, by its name: `.gitleaks.toml`, `gitleaks.toml`, `ci.gitleaks.toml`."""
    return path.name.lower().endswith("gitleaks.toml")


def is_ignore_file(path: Path) -> bool:
    return path.name == IGNORE


def replaces_defaults(path: Path) -> str:
    """The note for a gitleaks file that, read as it is, turns keyguard's built-in rules off."""
    return (
        f"{path}: as in gitleaks, a file with [[rules]] and no `[extend] useDefault = true` "
        "replaces the default rules: only its rules run, not keyguard's built-in ones"
    )
