"""What every reporter renders: findings plus the scan's statistics."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from keyguard import __version__
from keyguard.model import Finding, Skip
from keyguard.remediation import Playbook, Step, steps_for

# /2: `remediation` is the list of steps (was the playbook's id, now `playbook`), `tags` added.
SCHEMA = "keyguard.report/2"


@dataclass(frozen=True, slots=True)
class Report:
    kind: str  # "worktree", "history", ...
    targets: tuple[str, ...]
    findings: tuple[Finding, ...]
    files: int
    bytes: int
    skipped: dict[str, int]
    errors: tuple[str, ...]
    seconds: float
    rules: int
    ruleset: str
    matcher: str
    extra: dict[str, Any] | None = None  # source-specific statistics (commits, blobs, ...)
    skipped_items: tuple[Skip, ...] = ()  # what `skipped` counts, each by name
    playbooks: Mapping[str, Playbook] = field(default_factory=dict)
    rotation_days: int = 365  # the configuration's rotation period (overdue keys in reports)

    def steps(self, finding: Finding) -> tuple[Step, ...]:
        """What to do about a finding: its playbook's steps and its category's common ones."""
        return steps_for(finding.remediation, finding.category, self.playbooks)

    @property
    def complete(self) -> bool:
        return not self.errors


def printable(text: str) -> str:
    """Text from a scanned repository (a path, an author) as it may reach a terminal or a CI
    log: control characters escaped, so a name can neither rewrite the screen nor start a line
    that a runner reads as a command."""
    return "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in text)


def finding_dict(
    finding: Finding, show_secrets: bool, steps: tuple[Step, ...] = ()
) -> dict[str, Any]:
    commit = finding.commit
    entry: dict[str, Any] = {
        "rule_id": finding.rule_id,
        "title": finding.title,
        "provider": finding.provider,
        "category": finding.category,
        "severity": finding.severity,
        "confidence": finding.confidence,
        "path": finding.path,
        "line": finding.line,
        "column": finding.column,
        "end_line": finding.end_line,
        "end_column": finding.end_column,
        "commit": commit.sha if commit else None,
        "author": commit.author if commit else None,
        "date": commit.date if commit else None,
        "summary": commit.summary if commit else None,
        "first_seen": finding.first_seen,
        "age_days": finding.age_days,
        "in_head": finding.in_head,
        "decoded": finding.decoded,
        "preview": finding.preview,
        "fingerprint": finding.fingerprint,
        "secret_hash": finding.secret_hash,
        "playbook": finding.remediation,
        "remediation": [s.as_dict() for s in steps],
        "tags": list(finding.tags),
        "paired_with": finding.paired_with,
        "key": finding.key_info,
        "places": list(finding.places),
    }
    if show_secrets:
        entry["secret"] = finding.secret
    return entry


def scan_dict(report: Report) -> dict[str, Any]:
    data: dict[str, Any] = {
        "kind": report.kind,
        "targets": list(report.targets),
        "files": report.files,
        "bytes": report.bytes,
        "skipped": dict(sorted(report.skipped.items())),
        "skipped_items": [{"name": s.name, "reason": s.reason} for s in report.skipped_items],
        "errors": list(report.errors),
        "duration_seconds": round(report.seconds, 3),
        "complete": report.complete,
        "findings": len(report.findings),
        "rules": report.rules,
        "ruleset": report.ruleset,
        "matcher": report.matcher,
    }
    if report.extra:
        data.update(report.extra)
    return data


def tool_dict() -> dict[str, Any]:
    return {"name": "keyguard", "version": __version__}
