"""`--format github`: GitHub Actions annotations, and the Markdown job summary.

GitHub shows at most 10 annotations of each type per step, so the most severe 10 of each are
emitted and the rest are left to the summary, which lists every finding. Everything that comes
from the scanned repository (paths, commit authors) is escaped: a hostile file name must not end
an annotation early, forge another, or inject Markdown or HTML into the summary. Neither output
ever holds a secret value, only the redacted preview.
"""

from __future__ import annotations

from collections import defaultdict

from keyguard.model import Finding
from keyguard.report.model import Report, printable

ANNOTATION_LIMIT = 10  # per type, as GitHub displays them
SUMMARY_LIMIT = 200
KIND = {
    "critical": "error",
    "high": "error",
    "medium": "warning",
    "low": "notice",
    "info": "notice",
}
_ORDER = {"critical": 0, "high": 1, "medium": 2, "low": 3, "info": 4}


def escape_data(text: str) -> str:
    # CR and LF are %-encoded, which the runner decodes (a name with a line break still names
    # its file); it decodes nothing else, so every other control character is shown escaped
    # (printable): a name can neither end the command early, nor colour or reverse the text.
    return printable(text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A"))


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _rank(finding: Finding) -> tuple[int, str, int, int]:
    return (_ORDER.get(finding.severity, 9), finding.location, finding.line, finding.column)


def annotation(finding: Finding) -> str:
    kind = KIND.get(finding.severity, "warning")
    end_line = max(finding.end_line, finding.line)
    place = [f"file={escape_property(finding.path)}", f"line={finding.line}", f"endLine={end_line}"]
    if end_line == finding.line:
        # GitHub takes columns only for a one-line range (a private key block spans lines).
        place += [f"col={finding.column}", f"endColumn={finding.end_column}"]
    props = ",".join([*place, f"title={escape_property(f'keyguard: {finding.title}')}"])
    message = f"{finding.rule_id}: {finding.preview}"
    if finding.member is not None:  # the annotation sits on the archive, a file in the tree
        message += f" in {finding.member}"
    if finding.commit is not None:
        message += f" added in {finding.commit.sha[:12]}"
        if finding.in_head is False:
            message += " (removed since, still in the history: rotate it)"
    message += ". Rotate or revoke it, then remove it."
    return f"::{kind} {props}::{escape_data(message)}"


def format_github(report: Report, show_secrets: bool = False) -> str:
    del show_secrets  # annotations are public in the run log: previews only
    by_kind: dict[str, list[Finding]] = defaultdict(list)
    for finding in sorted(report.findings, key=_rank):
        by_kind[KIND.get(finding.severity, "warning")].append(finding)
    lines: list[str] = []
    cut = 0
    over = any(len(found) > ANNOTATION_LIMIT for found in by_kind.values())
    for kind in ("error", "warning", "notice"):
        found = by_kind.get(kind, [])
        # The closing "N more" line is a notice too: leave it a place among the 10 shown.
        room = ANNOTATION_LIMIT - 1 if over and kind == "notice" else ANNOTATION_LIMIT
        lines += [annotation(f) for f in found[:room]]
        cut += max(len(found) - room, 0)
    if cut:
        lines.append(
            f"::notice title=keyguard::{cut} more finding{'s' * (cut != 1)} not annotated "
            "(GitHub shows 10 per type): see the job summary or the report"
        )
    return "".join(line + "\n" for line in lines)


def cell(text: str) -> str:
    """A Markdown table cell that shows `text` as it is and can break nothing."""
    out = []
    for char in text:
        if char in "\\`*_[]|<>&~$":
            out.append(f"&#{ord(char)};")
        elif not char.isprintable():
            out.append(printable(char))
        else:
            out.append(char)
    return "".join(out)


def format_summary(report: Report, limit: int = SUMMARY_LIMIT) -> str:
    findings = sorted(report.findings, key=_rank)
    secrets = len({(f.secret_hash, f.rule_id) for f in findings})
    if not report.complete:
        verdict = (
            f"**Incomplete**: {len(report.errors)} error(s); {len(findings)} finding(s) so far"
        )
    elif findings:
        verdict = f"**{len(findings)} finding{'s' * (len(findings) != 1)}** ({secrets} secret{'s' * (secrets != 1)})"
    else:
        verdict = "**No secrets found.**"
    lines = ["## keyguard", "", verdict, ""]
    if findings:
        lines += [
            "| severity | rule | location | commit | preview |",
            "|---|---|---|---|---|",
        ]
        for finding in findings[:limit]:
            commit = finding.commit.sha[:12] if finding.commit else ""
            lines.append(
                f"| {cell(finding.severity)} | {cell(finding.rule_id)} "
                f"| {cell(finding.location)}:{finding.line} | {cell(commit)} "
                f"| <code>{cell(finding.preview)}</code> |"
            )
        if len(findings) > limit:
            lines.append(f"\n... and {len(findings) - limit} more: see the SARIF or JSON report.")
        lines += [
            "",
            "Every secret listed here has been pushed: rotate or revoke it, then remove it "
            "(and rewrite the history if it is in a commit).",
        ]
    notes = (report.extra or {}).get("notes")
    items = [*report.errors[:20], *(notes if isinstance(notes, list) else [])]
    if len(report.errors) > 20:
        items.insert(20, f"... and {len(report.errors) - 20} more errors: see the report")
    if items:
        lines.append("")
    lines += [f"- {cell(str(text))}" for text in items]
    lines.append("")
    return "\n".join(lines) + "\n"
