"""The fleet report for people and code-scanning tools: `text` (the estate first, then each
repository's `keyguard history` text report), `sarif` (one run per repository) and `html` (the
history page over every repository's findings, paths shown as `REPOSITORY: PATH`, with a table
of the repositories). `format_fleet` picks the format; it returns the text, the command writes
it.
"""

from __future__ import annotations

import html
import io
import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

from keyguard.fleet.estate import Located
from keyguard.fleet.report import FleetReport, Repository, document, jsonl, summary
from keyguard.model import Finding
from keyguard.report.html import format_html
from keyguard.report.model import Report, printable
from keyguard.report.sarif import format_sarif
from keyguard.report.text import format_text
from keyguard.run import Settings


def format_fleet(report: FleetReport, output_format: str, show_secrets: bool) -> str:
    if output_format == "json":
        return json.dumps(document(report, show_secrets), indent=2, ensure_ascii=False) + "\n"
    if output_format == "jsonl":
        return jsonl(report, show_secrets)
    if output_format == "sarif":
        return _sarif(report)
    if output_format == "html":
        return _html(report)
    return _text(report, show_secrets)


# --- sarif -----------------------------------------------------------------------------------


def _sarif(report: FleetReport) -> str:
    """One run per repository, its root the repository (SARIF 2.1.0 allows many runs); a key
    reused across repositories is a result in the run of its first place."""
    runs: list[dict[str, Any]] = []
    sarif: dict[str, Any] = json.loads(format_sarif(_empty_report(None, report.ready)))
    for repository in report.repositories:
        audited = repository.report
        if audited is None:
            audited = _empty_report(repository, report.ready)
        extra = tuple(g.finding for g in report.reuse if g.repository == repository.name)
        if extra:
            audited = replace(audited, findings=(*audited.findings, *extra))
        run = json.loads(format_sarif(audited))["runs"][0]
        uri = _uri(repository.name)
        run["originalUriBaseIds"]["%SRCROOT%"]["uri"] = uri if uri.endswith("/") else uri + "/"
        run["versionControlProvenance"] = [{"repositoryUri": uri}]
        run["properties"]["repository"] = repository.name
        run["properties"]["status"] = repository.result.status
        runs.append(run)
    if runs:
        sarif["runs"] = runs
    return json.dumps(sarif, indent=2, ensure_ascii=False) + "\n"


_SCP_LIKE = re.compile(r"^(?P<user>[^/:@]+@)?(?P<host>[^/:]+):(?P<path>.*)$")


def _uri(name: str) -> str:
    """A repository's name as a URI: a URL as it is, `git@host:org/repo` as ssh://, a local
    path as file://."""
    if "://" in name:
        return name
    scp = _SCP_LIKE.match(name)
    if scp and not name.startswith("/"):
        return f"ssh://{scp['user'] or ''}{scp['host']}/{scp['path']}"
    return Path(name).as_uri() if name.startswith("/") else name


def _empty_report(repository: Repository | None, ready: Settings) -> Report:
    """What a run of a repository that was not audited says: that it was not, and why."""
    reason = repository.result.reason if repository is not None else ""
    name = repository.name if repository is not None else "fleet"
    return Report(
        kind="history",
        targets=(name,),
        findings=(),
        files=0,
        bytes=0,
        skipped={},
        errors=(f"not audited: {reason}",) if repository is not None else (),
        seconds=0.0,
        rules=len(ready.compiled.rules),
        ruleset=ready.compiled.ruleset.digest,
        matcher=ready.compiled.backend.name,
        playbooks=ready.playbooks,
        rotation_days=ready.cfg.rotation_days,
    )


# --- html ------------------------------------------------------------------------------------


def _html(report: FleetReport) -> str:
    """The history page over every repository, with the repositories' table after the
    summary (the page's priority section already puts root and overdue keys first)."""
    findings: list[Finding] = []
    errors: list[str] = []
    for repository in report.repositories:
        if repository.report is None:
            errors.append(f"{repository.name}: not audited: {repository.result.reason}")
            continue
        findings += [_placed(repository.name, f) for f in repository.report.findings]
        errors += [f"{repository.name}: {e}" for e in repository.report.errors]
    findings += [_placed(g.repository, g.finding) for g in report.reuse]
    audited = [r.report for r in report.repositories if r.report is not None]
    ready = report.ready
    combined = Report(
        kind="history",
        targets=(f"{len(report.repositories)} repositories",),
        findings=tuple(findings),
        files=sum(r.files for r in audited),
        bytes=sum(r.bytes for r in audited),
        skipped={},
        errors=tuple(errors),
        seconds=report.seconds,
        rules=len(ready.compiled.rules),
        ruleset=ready.compiled.ruleset.digest,
        matcher=ready.compiled.backend.name,
        extra={
            "commits": sum(int((r.extra or {}).get("commits", 0)) for r in audited),
            "notes": list(report.notes),
        },
        playbooks=ready.playbooks,
        rotation_days=ready.cfg.rotation_days,
    )
    page = format_html(combined, ready.cfg.rotation_days)
    marker = '<section id="priority">'
    # format_html has no slot for a table of its own; the page is built here, so the one
    # section it does not know goes in before the priority section, or at the end of the body.
    table = _repositories_table(report)
    if marker in page:
        return page.replace(marker, table + "\n" + marker, 1)
    return page.replace("<footer>", table + "\n<footer>", 1)


def _placed(repository: str, finding: Finding) -> Finding:
    return replace(finding, path=f"{repository}: {finding.path}")


def _repositories_table(report: FleetReport) -> str:
    rows = []
    for repository in report.repositories:
        result, audited = repository.result, repository.report
        found = len(audited.findings) if audited is not None else ""
        commits = (audited.extra or {}).get("commits", "") if audited is not None else ""
        rows.append(
            f"<tr><td>{_e(result.name)}</td><td>{_e(result.status)}</td>"
            f'<td class="num">{_e(commits)}</td><td class="num">{_e(found)}</td>'
            f"<td>{_e(result.reason)}</td></tr>"
        )
    return (
        '<section id="repositories"><h2>Repositories</h2><table><thead><tr><th>Repository</th>'
        '<th>Status</th><th class="num">Commits</th><th class="num">Findings</th><th>Reason</th>'
        f"</tr></thead><tbody>{''.join(rows)}</tbody></table></section>"
    )


def _e(text: object) -> str:
    return html.escape(printable(str(text)), quote=True)


# --- text ------------------------------------------------------------------------------------


def _text(report: FleetReport, show_secrets: bool) -> str:
    out = io.StringIO()
    if report.roots or report.overdue:
        out.write("Act first, across the estate: root keys, then keys past rotation\n")
        for located in [*report.roots, *report.overdue]:
            out.write(_line(located, show_secrets))
        out.write("\n")
    if report.reuse:
        out.write("Keys reused across repositories\n")
        for located in report.reuse:
            out.write(_line(located, show_secrets, placed=False))
            for place in located.finding.places:
                out.write(f"    {printable(place)}\n")
        out.write("\n")
    for repository in report.repositories:
        result, audited = repository.result, repository.report
        status = result.status + (f": {result.reason}" if result.reason else "")
        out.write(f"== {printable(result.name)} ({printable(status)})\n")
        if audited is not None:
            out.write(format_text(audited, show_secrets))
        out.write("\n")
    for note in report.notes:
        out.write(f"note: {printable(note)}\n")
    out.write(summary(report) + "\n")
    return out.getvalue()


def _line(located: Located, show_secrets: bool, placed: bool = True) -> str:
    """A finding's header line and, unless its places follow, where it is."""
    f = located.finding
    value = f.secret if show_secrets and f.secret else f.preview
    head = f"  {f.severity.upper():8} {printable(f.title)}  [{printable(f.rule_id)}]  "
    head += f"{printable(value)}\n"
    if not placed:
        return head
    where = f"{f.path}:{f.line}" + (f"@{f.commit.sha[:12]}" if f.commit else "")
    return head + f"    {printable(located.repository)}: {printable(where)}\n"
