"""`--format sarif`: SARIF 2.1.0 for GitHub code scanning and other SARIF viewers.

Code scanning drops results without a physical location and deduplicates by
`partialFingerprints`, so every result has a file and a line, and its fingerprint is a hash of
rule and path plus an occurrence count: stable across runs, runners and edits above the secret,
distinct for two secrets on one line, and holding nothing derived from the value (a digest of it,
even a keyed one, would differ between runners without a shared key; a fast one would let the
server test guesses). SARIF files are uploaded to a server: no secret value, snippet or digest of
one ever goes in, whatever `--show-secrets` says.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from typing import Any
from urllib.parse import quote

from keyguard import __version__
from keyguard.model import Finding, normalise_path
from keyguard.report.model import Report, path_bytes

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
# GitHub reads `security-severity` (0-10): over 9 critical, 7-8.9 high, 4-6.9 medium, else low.
SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0", "info": "0.0"}
LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}
PRECISION = {"high": "high", "medium": "medium", "low": "low"}
_DRIVE = re.compile(r"[A-Za-z]:/")  # an absolute Windows path, forward slashes


def format_sarif(report: Report, show_secrets: bool = False) -> str:
    del show_secrets  # never: see the module docstring
    rules = _rules(report.findings)
    index = {rule["id"]: n for n, rule in enumerate(rules)}
    seen: Counter[str] = Counter()
    results = []
    for finding in report.findings:
        place = location_hash(finding)
        seen[place] += 1
        result = _result(finding, index[finding.rule_id], f"{place}:{seen[place]}")
        result["properties"].update(path_bytes(finding.path, report.raw_paths))
        results.append(result)
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "keyguard",
                "version": __version__,
                "semanticVersion": __version__,
                "rules": rules,
            }
        },
        "originalUriBaseIds": {"%SRCROOT%": {"description": {"text": "The scanned root."}}},
        "invocations": [_invocation(report)],
        "results": results,
        "properties": _scan_properties(report),
    }
    document = {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _scan_properties(report: Report) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "kind": report.kind,
        "files": report.files,
        "bytes": report.bytes,
        "skipped": dict(sorted(report.skipped.items())),
        "rules": report.rules,
        "ruleset": report.ruleset,
        "matcher": report.matcher,
    }
    for key, value in sorted((report.extra or {}).items()):
        # A source's own counts (commits, blobs); its notes are notifications, see _invocation.
        if isinstance(value, int | str):
            properties.setdefault(key, value)
    return properties


def _rules(findings: tuple[Finding, ...]) -> list[dict[str, Any]]:
    first: dict[str, Finding] = {}
    for finding in findings:
        first.setdefault(finding.rule_id, finding)
    return [_rule(first[rule_id]) for rule_id in sorted(first)]


def _rule(finding: Finding) -> dict[str, Any]:
    what = f"{finding.title} ({finding.category}, {finding.severity} severity)."
    todo = (
        "Rotate or revoke the credential first (a leaked value stays leaked after it is "
        "deleted), then remove it from the code and, if it was committed, from the history. "
        f"Remediation playbook: `{finding.remediation}`."
    )
    return {
        "id": finding.rule_id,
        "name": _name(finding.rule_id),
        "shortDescription": {"text": finding.title},
        "fullDescription": {"text": what},
        "help": {"text": f"{what} {todo}", "markdown": f"**{finding.title}**\n\n{todo}"},
        "defaultConfiguration": {"level": LEVEL.get(finding.severity, "warning")},
        "properties": {
            "security-severity": SECURITY_SEVERITY.get(finding.severity, "5.5"),
            "precision": PRECISION.get(finding.confidence, "medium"),
            "tags": ["security", finding.category, *finding.tags],
        },
    }


def _name(rule_id: str) -> str:
    """SARIF rule names are identifiers: `github.pat` -> `GithubPat`."""
    parts = rule_id.replace("-", ".").split(".")
    return "".join(p[:1].upper() + p[1:] for p in parts if p)


def _result(finding: Finding, rule_index: int, fingerprint: str) -> dict[str, Any]:
    message = f"{finding.title} [{finding.rule_id}]: {finding.preview}"
    properties: dict[str, Any] = {
        "category": finding.category,
        "confidence": finding.confidence,
        "tags": ["security", finding.category, *finding.tags],  # the controls it concerns
    }
    if finding.context:  # "test", "documentation", "example" (context.py)
        properties["context"] = finding.context
    if finding.commit is not None:
        commit = finding.commit
        message += f", added in commit {commit.sha[:12]} ({commit.date[:10]}, {commit.author})"
        if finding.in_head is False:
            message += "; removed since, but still in the history: rotate it"
        properties.update(commit=commit.sha, author=commit.author, date=commit.date)
    if finding.decoded:
        properties["decoded"] = finding.decoded
    # The artifact is the file in the tree (an archive's member is no file a viewer can open);
    # the member and a notebook's cell are said in the message and kept as properties.
    if finding.member is not None:
        message += f"; in archive member {finding.member}"
        properties["member"] = finding.member
    if finding.where is not None:
        message += f" ({finding.where})"
        properties["where"] = finding.where
    return {
        "ruleId": finding.rule_id,
        "ruleIndex": rule_index,
        "level": LEVEL.get(finding.severity, "warning"),
        "message": {"text": message},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": artifact_location(finding.path),
                    "region": {
                        "startLine": max(finding.line, 1),
                        "startColumn": max(finding.column, 1),
                        "endLine": max(finding.end_line, finding.line, 1),
                        "endColumn": max(finding.end_column, 1),
                    },
                }
            }
        ],
        "partialFingerprints": {"primaryLocationLineHash": fingerprint},
        "properties": properties,
    }


def location_hash(finding: Finding) -> str:
    material = f"{finding.rule_id}\0{normalise_path(finding.location)}"
    return hashlib.sha256(material.encode("utf-8", "surrogateescape")).hexdigest()[:32]


def artifact_location(path: str) -> dict[str, str]:
    """Where a result is: relative to %SRCROOT%, or, for a file named on the command line by an
    absolute path (under no root), a `file:` URI. Under a uriBaseId, "/tmp/a.env" would not be
    that file but a path that replaces the root's."""
    if path.startswith("/"):
        return {"uri": "file://" + artifact_uri(path)}
    if _DRIVE.match(path):
        return {"uri": "file:///" + path[:2] + artifact_uri(path[2:])}
    return {"uri": artifact_uri(path), "uriBaseId": "%SRCROOT%"}


def artifact_uri(path: str) -> str:
    """A relative URI reference for a reported path (RFC 3986: spaces, `%`, `#`, `?`, `:` and
    non-ASCII escaped, so no path reads as a scheme, a query or a fragment)."""
    return quote(path.encode("utf-8", "surrogateescape"), safe="/-._~!$&'()*+,;=@") or "."


def _invocation(report: Report) -> dict[str, Any]:
    notifications = [{"level": "error", "message": {"text": error}} for error in report.errors]
    # What a history audit says about its own coverage (a shallow clone, submodules not entered).
    notes = (report.extra or {}).get("notes")
    if isinstance(notes, list):
        notifications += [{"level": "note", "message": {"text": str(note)}} for note in notes]
    return {"executionSuccessful": report.complete, "toolExecutionNotifications": notifications}
