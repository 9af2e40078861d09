"""`.gitleaksignore`: gitleaks fingerprints that suppress findings.

A fingerprint is `file:rule-id:line` (a directory scan) or `commit:file:rule-id:line` (a history
scan), one a line, `#` comments. The rule id is gitleaks': an imported rule matches under its
own id (or its keyguard spelling), a gitleaks default rule through keyguard.importers.
gitleaks_ids. Fingerprints hold line numbers, so an edit above a secret unsuppresses it: a
keyguard baseline (`keyguard baseline create`) does not have that weakness.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

import regex

from keyguard.importers import gitleaks_ids
from keyguard.importers.gitleaks import keyguard_id
from keyguard.model import Finding, normalise_path

_COMMIT = regex.compile(r"^([0-9a-fA-F]{7,40}):(.+)$")
MAX_ENTRIES = 100_000  # a generated file may be long, but each entry costs memory


@dataclass(frozen=True, slots=True)
class Fingerprint:
    commit: str | None  # None: at any commit, and in the working tree
    path: str
    rule_id: str  # as gitleaks names it
    line: int


@dataclass(frozen=True, slots=True)
class Ignored:
    """The findings a .gitleaksignore names (an allowlist of config.Config's `suppressors`)."""

    source: str
    # (path, line) -> (commit, keyguard rule ids) of each fingerprint there
    entries: dict[tuple[str, int], tuple[tuple[str | None, frozenset[str]], ...]] = field(
        default_factory=dict
    )
    needs_values: bool = False  # it compares places, not secret values

    def allows(self, finding: Finding) -> bool:
        here = self.entries.get((normalise_path(finding.path), finding.line), ())
        sha = finding.commit.sha.lower() if finding.commit is not None else None
        return any(
            finding.rule_id in rules
            and (commit is None or (sha is not None and sha.startswith(commit)))
            for commit, rules in here
        )


def parse(text: str, source: str, known_rules: Collection[str]) -> tuple[Ignored, list[str]]:
    """The fingerprints of a .gitleaksignore, and notes on lines and rule ids it cannot use."""
    notes: list[str] = []
    found: dict[tuple[str, int], list[tuple[str | None, frozenset[str]]]] = {}
    unresolved: dict[str, int] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        fingerprint = parse_line(stripped)
        if fingerprint is None:
            notes.append(
                f"{source}:{number}: not a fingerprint (file:rule-id:line or "
                "commit:file:rule-id:line): ignored"
            )
            continue
        if sum(len(v) for v in found.values()) >= MAX_ENTRIES:
            notes.append(f"{source}: more than {MAX_ENTRIES} fingerprints: the rest are ignored")
            break
        rules = targets(fingerprint.rule_id, known_rules)
        if not rules:
            unresolved[fingerprint.rule_id] = unresolved.get(fingerprint.rule_id, 0) + 1
            continue
        key = (fingerprint.path, fingerprint.line)
        found.setdefault(key, []).append((fingerprint.commit, rules))
    for rule_id, count in sorted(unresolved.items()):
        notes.append(
            f"{source}: rule {rule_id!r} ({count} fingerprint{'s' * (count != 1)}) is neither a "
            "rule of this configuration nor a gitleaks default rule with a keyguard equivalent: "
            "those fingerprints suppress nothing"
        )
    entries = {key: tuple(value) for key, value in found.items()}
    return Ignored(source, entries), notes


def parse_line(text: str) -> Fingerprint | None:
    parts = text.rsplit(":", 2)
    if len(parts) != 3 or not parts[2].isdigit() or not parts[1] or not parts[0]:
        return None
    head, rule_id, line = parts
    commit: str | None = None
    match = _COMMIT.match(head)
    if match is not None:
        commit, head = match.group(1).lower(), match.group(2)
    return Fingerprint(commit, normalise_path(head), rule_id, int(line))


def targets(rule_id: str, known_rules: Collection[str]) -> frozenset[str]:
    """The keyguard rule ids a fingerprint's gitleaks rule id stands for."""
    own = {r for r in (rule_id, keyguard_id(rule_id)) if r in known_rules}
    return frozenset(own | set(gitleaks_ids.keyguard_ids(rule_id)))
