"""`--format text`: findings grouped by secret (one leaked key, all its places), then a summary."""

from __future__ import annotations

import io
from collections.abc import Sequence

from rich.console import Console
from rich.markup import escape
from rich.text import Text

from keyguard.console import make_console
from keyguard.context import RANK
from keyguard.model import Finding
from keyguard.report.model import Report, printable

STEPS_SHOWN = 2  # per secret in the text report; `keyguard explain` prints the whole playbook
_SEVERITY_STYLE = {
    "critical": "bold white on red",
    "high": "bold red",
    "medium": "yellow",
    "low": "cyan",
    "info": "dim",
}


def group_by_secret(findings: Sequence[Finding]) -> list[list[Finding]]:
    groups: dict[tuple[str, str], list[Finding]] = {}
    for finding in findings:
        groups.setdefault((finding.secret_hash, finding.rule_id), []).append(finding)
    order = {"critical": 0, "high": 1, "medium": 2, "low": 3, "info": 4}
    return sorted(
        groups.values(),
        key=lambda g: (order.get(g[0].severity, 9), g[0].rule_id, g[0].location, g[0].line),
    )


def format_text(report: Report, show_secrets: bool = False, color: bool = False) -> str:
    buffer = io.StringIO()
    console = make_console(buffer, color=color, width=120, highlight=False, soft_wrap=True)
    render(console, report, show_secrets)
    return buffer.getvalue()


def render(console: Console, report: Report, show_secrets: bool) -> None:
    groups = group_by_secret(report.findings)
    # Leaks in code and configuration first, then examples, tests and documentation (a
    # reviewer of a long history reads the real ones first); otherwise in the report's order.
    groups.sort(key=lambda group: min(RANK[f.context] for f in group))
    for group in groups:
        first = group[0]
        # Titles and ids of user rules and the matched text are repository data too.
        value = printable(first.secret if show_secrets else first.preview)
        header = Text()
        header.append(f"{first.severity.upper():8}", style=_SEVERITY_STYLE.get(first.severity, ""))
        header.append(f" {printable(first.title)}", style="bold")
        header.append(f"  [{printable(first.rule_id)}]", style="dim")
        header.append(f"  {value}")
        if first.confidence != "high":
            header.append(f"  ({first.confidence} confidence)", style="dim")
        console.print(header)
        for finding in group:
            where = f"    {escape(printable(finding.location))}:{finding.line}:{finding.column}"
            if finding.where:  # a notebook's cell: "cell 3, line 2"
                where += f"  ({escape(printable(finding.where))})"
            if finding.commit is not None:
                commit = finding.commit
                where += (
                    f"  {commit.sha[:12]} {commit.date[:10]} {escape(printable(commit.author))}"
                )
            if finding.context:
                where += f"  (in {'an' if finding.context == 'example' else 'a'} {finding.context})"
            if finding.decoded:
                where += f"  (in {finding.decoded}-encoded data)"
            if finding.paired_with:
                where += "  (paired: both halves of the credential are here)"
            console.print(where, markup=True)
        steps = report.steps(first)
        for number, step in enumerate(steps[:STEPS_SHOWN], 1):
            line = Text(f"    {number}. ", style="dim")
            line.append(f"{printable(step.action)}: ", style="bold")
            line.append(printable(step.text))
            console.print(line)
        if len(steps) > STEPS_SHOWN:
            console.print(
                Text(
                    f"    ... keyguard explain {printable(first.rule_id)} shows all {len(steps)}"
                    " steps",
                    style="dim",
                )
            )
    console.print(Text(summary_line(report), style="bold" if report.findings else ""))
    for error in report.errors[:20]:
        console.print(Text(f"error: {printable(error)}", style="red"))
    if len(report.errors) > 20:
        console.print(Text(f"... and {len(report.errors) - 20} more errors", style="red"))


def summary_line(report: Report) -> str:
    # A secret is counted once however many rules and places found it; hygiene findings
    # (a setting, an overdue rotation) are counted apart.
    secrets = len({f.secret_hash for f in report.findings if f.category != "hygiene"})
    hygiene = sum(f.category == "hygiene" for f in report.findings)
    counted = f"{secrets} secret{'s' * (secrets != 1)}" + (
        f", {hygiene} hygiene" if hygiene else ""
    )
    parts = [
        f"{len(report.findings)} finding{'s' * (len(report.findings) != 1)} ({counted})",
        f"{report.files} files, {_size(report.bytes)} scanned in {report.seconds:.2f}s",
    ]
    if report.kind == "history" and report.extra:
        parts[1] = (
            f"{report.extra.get('commits', 0)} commits, {report.files} new blobs,"
            f" {report.extra.get('messages', 0)} messages,"
            f" {_size(report.bytes)} scanned in {report.seconds:.2f}s"
        )
    if report.skipped:
        skipped = ", ".join(f"{n} {why}" for why, n in sorted(report.skipped.items()))
        parts.append(f"skipped: {skipped}")
    known = (report.extra or {}).get("baseline")
    if isinstance(known, dict):
        stale = len(known.get("stale", []))
        parts.append(
            f"baseline: {known.get('suppressed', 0)} known left out"
            + (
                f", {stale} stale entr{'ies' if stale != 1 else 'y'} (keyguard baseline prune)"
                if stale
                else ""
            )
        )
    if report.errors:
        parts.append(f"INCOMPLETE: {len(report.errors)} error{'s' * (len(report.errors) != 1)}")
    return "; ".join(parts)


def _size(count: int) -> str:
    value = float(count)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{count} B"
