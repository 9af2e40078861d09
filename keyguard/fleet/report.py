"""The fleet report: each repository's status and its findings as `keyguard history` reports
them, and what only the estate shows (root keys and overdue keys everywhere, keys reused across
repositories); its JSON document (schema keyguard.fleet/1: each repository's `scan` and
`findings` exactly as `keyguard history --format json` writes them), its JSON lines (one
finding a line, with its `repository`) and its exit code. Pure: no I/O.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from keyguard import digest
from keyguard.fleet import entries
from keyguard.fleet.estate import Located, act_first, reused_across
from keyguard.fleet.task import AUDITED, FAILED, UNCHANGED, RepoResult
from keyguard.report.model import Report, finding_dict, tool_dict
from keyguard.run import Settings

SCHEMA = "keyguard.fleet/1"
FORMATS = ("text", "json", "jsonl", "sarif", "html")


@dataclass(frozen=True, slots=True)
class Repository:
    result: RepoResult
    report: Report | None  # None: not audited

    @property
    def name(self) -> str:
        return self.result.name


@dataclass(frozen=True, slots=True)
class FleetReport:
    repositories: tuple[Repository, ...]
    reuse: tuple[Located, ...]
    roots: tuple[Located, ...]
    overdue: tuple[Located, ...]
    notes: tuple[str, ...]
    seconds: float
    ready: Settings

    @property
    def not_audited(self) -> list[Repository]:
        return [r for r in self.repositories if r.report is None]

    @property
    def complete(self) -> bool:
        """Every repository audited, and every audit complete."""
        return all(r.result.status in (AUDITED, UNCHANGED) for r in self.repositories)

    @property
    def findings(self) -> int:
        counted = sum(len(r.report.findings) for r in self.repositories if r.report)
        return counted + len(self.reuse)


def build(results: Sequence[RepoResult], ready: Settings, seconds: float) -> FleetReport:
    """The report over `results` (in the list's order)."""
    repositories = tuple(
        Repository(r, entries.history_report(r.name, r.scan, r.findings, ready))
        if r.is_audited
        else Repository(r, None)
        for r in results
    )
    key = digest.current().id
    audited = [r for r in repositories if r.report is not None]
    comparable = {r.name: r.report.findings for r in audited if r.report and _key(r) == key}
    notes = []
    others = [r.name for r in audited if _key(r) != key]
    if others:
        notes.append(
            f"{len(others)} repositories were audited under another digest key (set the same "
            "KEYGUARD_DIGEST_KEY on every worker): keys reused across them cannot be told: "
            + ", ".join(others[:5])
        )
    every = {r.name: r.report.findings for r in audited if r.report}
    roots, overdue = act_first(every)
    reuse = reused_across(comparable) if "hygiene.key-reuse" not in ready.cfg.disabled else []
    return FleetReport(
        repositories, tuple(reuse), tuple(roots), tuple(overdue), tuple(notes), seconds, ready
    )


def _key(repository: Repository) -> str:
    return str(repository.result.scan.get("digest_key", repository.result.digest_key))


def exit_code(report: FleetReport) -> int:
    from keyguard.errors import ExitCode

    if not report.complete:
        return ExitCode.INCOMPLETE
    return ExitCode.FINDINGS if report.findings else ExitCode.CLEAN


# --- json ------------------------------------------------------------------------------------


def _entry(
    located: Located, show_secrets: bool, report: Report | None, ready: Settings
) -> dict[str, Any]:
    from keyguard.remediation import steps_for

    f = located.finding
    steps = steps_for(f.remediation, f.category, ready.playbooks)
    raw = report.raw_paths if report is not None else {}
    return {"repository": located.repository, **finding_dict(f, show_secrets, steps, raw)}


def document(report: FleetReport, show_secrets: bool) -> dict[str, Any]:
    by_name = {r.name: r.report for r in report.repositories}
    ready = report.ready

    def listed(found: Sequence[Located]) -> list[dict[str, Any]]:
        return [_entry(g, show_secrets, by_name.get(g.repository), ready) for g in found]

    repositories = []
    for repository in report.repositories:
        result, audited = repository.result, repository.report
        item: dict[str, Any] = {
            "repository": result.name,
            "status": result.status,
            "reason": result.reason or None,
            "refs": dict(sorted(result.refs.items())),
        }
        if audited is not None:
            item["scan"] = result.scan
            item["findings"] = [
                finding_dict(f, show_secrets, audited.steps(f), audited.raw_paths)
                for f in audited.findings
            ]
        repositories.append(item)
    audited_repos = [r for r in report.repositories if r.report is not None]
    return {
        "schema": SCHEMA,
        "tool": tool_dict(),
        "fleet": {
            "repositories": len(report.repositories),
            "audited": len(audited_repos),
            "unchanged": sum(r.result.status == UNCHANGED for r in report.repositories),
            "incomplete": sum(r.result.status == "incomplete" for r in report.repositories),
            "not_audited": len(report.not_audited),
            "complete": report.complete,
            "findings": report.findings,
            "commits": sum(int(r.result.scan.get("commits", 0)) for r in audited_repos),
            "blobs": sum(int(r.result.scan.get("files", 0)) for r in audited_repos),
            "bytes": sum(int(r.result.scan.get("bytes", 0)) for r in audited_repos),
            "duration_seconds": round(report.seconds, 3),
            "rules": len(ready.compiled.rules),
            "ruleset": ready.compiled.ruleset.digest,
            "digest_key": digest.current().id,
            "notes": list(report.notes),
        },
        "not_audited": [
            {"repository": r.name, "reason": r.result.reason} for r in report.not_audited
        ],
        "estate": {
            "root_keys": listed(report.roots),
            "overdue": listed(report.overdue),
            "reuse": listed(report.reuse),
        },
        "repositories": repositories,
    }


def jsonl(report: FleetReport, show_secrets: bool) -> str:
    lines = []
    for repository in report.repositories:
        if repository.report is None:
            continue
        for f in repository.report.findings:
            located = Located(repository.name, f)
            lines.append(_entry(located, show_secrets, repository.report, report.ready))
    lines += [_entry(g, show_secrets, None, report.ready) for g in report.reuse]
    return "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines)


# --- summary ---


def summary(report: FleetReport) -> str:
    """One line: repositories audited and not, findings, and the estate's own findings."""
    counts: Mapping[str, int] = {
        status: sum(r.result.status == status for r in report.repositories)
        for status in (AUDITED, UNCHANGED, "incomplete", FAILED)
    }
    parts = [
        f"{len(report.repositories)} repositories: {counts[AUDITED]} audited"
        + (f", {counts[UNCHANGED]} unchanged since the audit log" if counts[UNCHANGED] else "")
        + (f", {counts['incomplete']} incomplete" if counts["incomplete"] else "")
        + (f", {counts[FAILED]} NOT AUDITED" if counts[FAILED] else ""),
        f"{report.findings} finding{'s' * (report.findings != 1)}",
    ]
    if report.reuse:
        parts.append(f"{len(report.reuse)} key(s) reused across repositories")
    if report.roots:
        parts.append(f"{len(report.roots)} root key finding(s)")
    parts.append(f"{report.seconds:.1f}s")
    return "keyguard fleet: " + "; ".join(parts)
