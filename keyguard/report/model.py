"""What every reporter renders: findings plus the scan's statistics."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from keyguard import __version__, digest
from keyguard.model import Finding, Skip
from keyguard.remediation import Playbook, Step, steps_for

# /2: `remediation` is the list of steps (was the playbook's id, now `playbook`), `tags` added.
SCHEMA = "keyguard.report/3"


# A reported path that is not UTF-8 (shown with U+FFFD or \xNN escapes) -> its exact bytes.
RawPaths = Mapping[str, bytes]


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
    raw_paths: RawPaths = field(default_factory=dict)

    def steps(self, finding: Finding) -> tuple[Step, ...]:
        """What to do about a finding: its playbook's steps and its category's common ones."""
        return steps_for(finding.remediation, finding.category, self.playbooks)

    @property
    def complete(self) -> bool:
        return not self.errors


def printable(text: str) -> str:
    """Text from a scanned repository (a path, an author) as it may reach a terminal or a CI
    log: control characters escaped, so a name can neither rewrite the screen nor start a line
    that a runner reads as a command.

    Everything str.isprintable() refuses is escaped: C0 and C1 controls (ESC, CR, LF, tab),
    line and paragraph separators, format characters such as the bidi overrides (U+202A-202E,
    U+2066-2069) that would show a name reversed, and lone surrogates (a file name that is not
    UTF-8).
    """
    return "".join(c if c.isprintable() else _escape(c) for c in text)


def _escape(char: str) -> str:
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def path_bytes(path: str, raw_paths: Mapping[str, bytes]) -> dict[str, str]:
    """`path_bytes` (base64 of the bytes) for a path that is not UTF-8: its readable form is
    lossy, and a tool that renames or purges the file needs the name exactly."""
    raw = raw_paths.get(path)
    return {} if raw is None else {"path_bytes": base64.b64encode(raw).decode("ascii")}


def finding_dict(
    finding: Finding,
    show_secrets: bool,
    steps: tuple[Step, ...] = (),
    raw_paths: Mapping[str, bytes] | None = None,
) -> dict[str, Any]:
    commit = finding.commit
    entry: dict[str, Any] = {
        "rule_id": finding.rule_id,
        "title": finding.title,
        "provider": finding.provider,
        "category": finding.category,
        "severity": finding.severity,
        "confidence": finding.confidence,
        # "test", "documentation", "example", or "" for code and configuration (context.py)
        "context": finding.context,
        "path": finding.path,
        **path_bytes(finding.path, raw_paths or {}),
        # `path` is the file in the tree; inside it, an archive member ("config/.env", nested
        # levels joined by "!") and a notebook cell ("cell 3, line 2"), or null.
        "member": finding.member,
        "where": finding.where,
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
        "skipped_items": [
            {"name": s.name, **path_bytes(s.name, report.raw_paths), "reason": s.reason}
            for s in report.skipped_items
        ],
        "errors": list(report.errors),
        "duration_seconds": round(report.seconds, 3),
        "complete": report.complete,
        "findings": len(report.findings),
        "rules": report.rules,
        "ruleset": report.ruleset,
        "matcher": report.matcher,
        # which key made `secret_hash` and `fingerprint` (keyguard.digest): an id, not the key
        "digest_key": digest.current().id,
    }
    if report.extra:
        data.update(report.extra)
    return data


def tool_dict() -> dict[str, Any]:
    return {"name": "keyguard", "version": __version__}
