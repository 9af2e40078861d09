"""`--format html`: one self-contained page for people (a security lead, and whoever they forward
it to): the summary; what to act on first (root keys, keys older than the rotation period); the
findings by severity and provider; when the secrets entered the history and how old they are
(inline SVG drawn here); and the playbook for each secret.

The page loads nothing: inline CSS, one small script (a filter box; the page reads the same without
it) and a Content-Security-Policy that forbids every fetch, so not even an escaping slip could make
it call out when opened. Everything that comes from the scanned repository is escaped. It never
holds a secret value, not even with --show-secrets: a forwarded report must not leak what it
reports, so only previews (the first characters and the length) are shown.
"""

from __future__ import annotations

import base64
import hashlib
import html
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from keyguard import __version__
from keyguard.model import Finding
from keyguard.report.model import Report, printable
from keyguard.report.text import group_by_secret

ROTATION_DAYS = 365  # NIST SP 800-57: rotate at least yearly; older keys are "overdue"
TIMELINE_LANES = 30  # secrets drawn in the timeline; the rest are counted under it
SEVERITIES = ("critical", "high", "medium", "low", "info")
COLOURS = {"critical": "#b00020", "high": "#d9480f", "medium": "#b08800", "low": "#1c7ed6"}
GREY = "#6c757d"
_AGE_EDGES = (30, 90, 180, 365, 730, 1825)  # histogram buckets, in days (plus the rotation period)
_SCRIPT = (
    "(function(){var row=document.getElementById('filter-row'),box=document.getElementById('filter');"
    "if(!row||!box)return;row.hidden=false;box.addEventListener('input',function(){"
    "var q=box.value.toLowerCase();document.querySelectorAll('tr.finding').forEach(function(r){"
    "r.hidden=q!==''&&r.textContent.toLowerCase().indexOf(q)<0;});});})();"
)
_CSS = """
:root{--crit:#b00020;--ink:#1f2328;--mute:#59636e;--line:#d0d7de;--bg:#f6f8fa}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--ink);
 margin:0 auto;max-width:1200px;padding:24px}
h1{font-size:24px;margin:0}h2{font-size:19px;margin:32px 0 10px;padding-bottom:4px;
 border-bottom:2px solid var(--line)}h3{font-size:16px;margin:20px 0 6px}
.sub,.note{color:var(--mute)}.sub{margin:2px 0 16px}
.verdict{font-size:17px;font-weight:600;padding:10px 14px;border-radius:6px;background:var(--bg);
 border-left:6px solid var(--crit)}.verdict.clean{border-color:#2f9e44}
.tiles{display:grid;grid-template-columns:repeat(auto-fit,minmax(145px,1fr));gap:10px;margin:14px 0}
.tile{border:1px solid var(--line);border-radius:6px;padding:8px 12px}
.tile b{display:block;font-size:22px;white-space:nowrap}.tile.alert b{color:var(--crit)}
.tile span{color:var(--mute);font-size:12px;text-transform:uppercase;letter-spacing:.04em}
.cols{display:grid;grid-template-columns:1fr 1fr;gap:24px}
table{border-collapse:collapse;width:100%;margin:6px 0 14px;font-size:13px}
th,td{border-bottom:1px solid var(--line);padding:4px 6px;text-align:left;vertical-align:top}
thead th{background:var(--bg)}tbody th{background:#eef1f4}.facts th{width:34%;font-weight:600}
table.grid{table-layout:fixed}td.loc{word-break:break-all}.nw{white-space:nowrap}.num{text-align:right;font-variant-numeric:tabular-nums}
code,pre{font:12px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:var(--bg);
 border-radius:3px}code{padding:0 3px}pre{padding:6px 8px;margin:4px 0;white-space:pre-wrap;
 word-break:break-all}
.sev,.tag{display:inline-block;padding:1px 7px;border-radius:10px;font-size:11px;font-weight:700;
 text-transform:uppercase;color:#fff;background:#6c757d}
.sev.critical,.tag.root{background:#b00020}.sev.high,.tag.overdue{background:#d9480f}
.sev.medium{background:#b08800}.sev.low{background:#1c7ed6}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(360px,1fr));gap:10px}
.card{border:1px solid var(--line);border-left:5px solid var(--crit);border-radius:6px;
 padding:8px 12px;break-inside:avoid}.card p{margin:4px 0}
.chart{display:block;width:100%;max-width:1000px;height:auto;margin:4px 0 8px}
.playbook{border:1px solid var(--line);border-radius:6px;padding:4px 14px;margin:10px 0;
 break-inside:avoid}.playbook ol{padding-left:22px}.playbook li{margin:6px 0}a.url{display:block;word-break:break-all}
.action{font-weight:700;text-transform:uppercase;font-size:12px;color:var(--crit)}
.errors li{color:var(--crit)}footer{margin-top:36px;color:var(--mute);font-size:12px}
@media print{body{max-width:none;padding:0;font-size:11px}.filter{display:none}
 h2,h3{break-after:avoid}tr,.card,.tile{break-inside:avoid}a{color:inherit}
 *{-webkit-print-color-adjust:exact;print-color-adjust:exact}}
@media (max-width:800px){.cols{grid-template-columns:1fr}}
"""


def _e(text: object) -> str:
    """Text from anywhere (a path, an author, a rule file) as HTML text or an attribute value."""
    return html.escape(printable(str(text)), quote=True)


def _sev(severity: str) -> str:
    known = severity if severity in SEVERITIES else "other"
    return f'<span class="sev {known}">{_e(severity)}</span>'


def _date(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class _Secret:
    """One leaked value (all its places), as the page talks about it."""

    places: tuple[Finding, ...]
    age: int | None
    in_head: bool | None  # None: not a history scan
    root: bool
    overdue: bool

    @property
    def first(self) -> Finding:
        return self.places[0]

    @property
    def is_secret(self) -> bool:
        return self.first.category != "hygiene"


def _groups(report: Report, rotation_days: int) -> list[_Secret]:
    """Every group of findings about one value, most severe first. Hygiene findings (a setting
    to change, or a finding about other findings, such as a key past rotation) are groups too,
    for their playbooks, but the page counts and charts secrets only."""
    out = []
    for group in group_by_secret(report.findings):
        ages = [f.age_days for f in group if f.age_days is not None]
        heads = [f.in_head for f in group if f.in_head is not None]
        age = max(ages) if ages else None
        is_secret = group[0].category != "hygiene"
        out.append(
            _Secret(
                tuple(group),
                age,
                any(heads) if heads else None,
                root=any(f.category == "root-key" for f in group),
                overdue=is_secret and age is not None and age > rotation_days,
            )
        )
    return out


def _act_first(secrets: Iterable[_Secret]) -> list[_Secret]:
    """Root keys (they should not exist at all), then keys past rotation, oldest first."""
    chosen = [s for s in secrets if s.root or s.overdue]
    return sorted(chosen, key=lambda s: (not s.root, -(s.age or 0)))


def format_html(report: Report, rotation_days: int = ROTATION_DAYS) -> str:
    groups = _groups(report, rotation_days)
    secrets = [g for g in groups if g.is_secret]
    body = [
        _summary(report, secrets, rotation_days),
        _priority(report, _act_first(secrets), rotation_days),
        _charts(report, secrets, rotation_days),
        _findings(report),
        _playbooks(report, groups),
        f"<footer>keyguard {_e(__version__)}. Secret values are never written into this page,"
        " not even with --show-secrets: only previews (the first characters and the length)."
        "</footer>",
    ]
    script_hash = base64.b64encode(hashlib.sha256(_SCRIPT.encode()).digest()).decode()
    policy = (
        f"default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-{script_hash}';"
        " img-src data:; form-action 'none'; base-uri 'none'"
    )
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{policy}">\n'
        '<meta name="referrer" content="no-referrer">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<link rel="icon" href="data:,">\n'
        f"<title>keyguard report: {_e(', '.join(report.targets))}</title>\n"
        f"<style>{_CSS}</style>\n</head>\n<body>\n"
        + "\n".join(body)
        + f"\n<script>{_SCRIPT}</script>\n</body>\n</html>\n"
    )


# --- summary ---------------------------------------------------------------------------------


def _summary(report: Report, secrets: Sequence[_Secret], rotation_days: int) -> str:
    history = any(s.in_head is not None for s in secrets) or report.kind == "history"
    first = [s for s in secrets if s.first.first_seen]
    oldest = min(first, key=lambda s: s.first.first_seen or "") if first else None
    urgent = _act_first(secrets)
    roots = sum(s.root for s in urgent)
    overdue = sum(s.overdue for s in secrets)
    if not report.complete:
        verdict = f"Incomplete scan: {len(report.errors)} error(s); {len(secrets)} secret(s) found so far."
    elif secrets:
        verdict = (
            f"{len(secrets)} exposed secret{'s' * (len(secrets) != 1)}: rotate or revoke each."
        )
        if urgent:
            verdict += f" {len(urgent)} to act on first."
    else:
        verdict = "No secrets found."
    tiles = [
        ("Findings", str(len(report.findings)), False),
        ("Distinct secrets", str(len(secrets)), False),
        (
            "Still in HEAD",
            str(sum(s.in_head is True for s in secrets)) if history else "n/a",
            False,
        ),
        (
            "History only",
            str(sum(s.in_head is False for s in secrets)) if history else "n/a",
            False,
        ),
        ("Root keys", str(roots), roots > 0),
        (f"Older than {rotation_days} days", str(overdue), overdue > 0),
    ]
    if oldest is not None:
        since = (oldest.first.first_seen or "")[:10]
        tiles.append((f"Oldest exposure, since {since}", f"{oldest.age} days", oldest.overdue))
    tile_html = "".join(
        f'<div class="tile{" alert" * alert}"><b>{_e(value)}</b><span>{_e(label)}</span></div>'
        for label, value, alert in tiles
    )
    clean = " clean" if report.complete and not secrets else ""
    return (
        "<header><h1>keyguard secrets report</h1>"
        f'<p class="sub">{_e(report.kind)} scan of {_e(", ".join(report.targets))}</p></header>\n'
        f'<section id="summary"><h2>Summary</h2><p class="verdict{clean}">{_e(verdict)}</p>'
        f'<div class="tiles">{tile_html}</div><div class="cols"><div>{_scan_facts(report)}'
        f"</div><div>{_providers(secrets)}</div></div>{_problems(report)}</section>"
    )


def _scan_facts(report: Report) -> str:
    extra = report.extra or {}
    scanned = f"{report.files} files, {_size(report.bytes)}"
    if report.kind == "history":
        scanned = (
            f"{extra.get('commits', 0)} commits, {report.files} new blobs, {_size(report.bytes)}"
        )
    skipped = ", ".join(f"{n} {why}" for why, n in sorted(report.skipped.items())) or "none"
    status = "complete" if report.complete else f"INCOMPLETE: {len(report.errors)} error(s)"
    rows = [
        ("Scope", f"{report.kind}: {', '.join(report.targets)}"),
        ("Scanned", f"{scanned} in {report.seconds:.2f} s"),
        ("Status", status),
        ("Skipped", skipped),
        ("Rules", f"{report.rules} ({report.matcher}, ruleset {report.ruleset[:12]})"),
    ]
    hygiene = sum(f.category == "hygiene" for f in report.findings)
    if hygiene:
        rows.append(
            ("Key hygiene", f"{hygiene} finding{'s' * (hygiene != 1)} (in the tables below)")
        )
    cells = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in rows)
    return f'<h3>Scan</h3><table class="facts">{cells}</table>'


def _providers(secrets: Sequence[_Secret]) -> str:
    if not secrets:
        return ""
    counts = Counter((s.first.provider or "other", s.first.severity) for s in secrets)
    providers = sorted(
        {p for p, _ in counts}, key=lambda p: (-sum(counts[p, v] for v in SEVERITIES), p)
    )
    shown = [v for v in SEVERITIES if any(counts[p, v] for p in providers)]
    head = "".join(f'<th class="num">{_sev(v)}</th>' for v in shown)
    rows = "".join(
        f"<tr><td>{_e(p)}</td>"
        + "".join(f'<td class="num">{counts[p, v] or ""}</td>' for v in shown)
        + "</tr>"
        for p in providers
    )
    return f"<h3>Secrets by provider</h3><table><thead><tr><th>Provider</th>{head}</tr></thead>{rows}</table>"


def _problems(report: Report) -> str:
    notes = (report.extra or {}).get("notes")
    parts = []
    if report.errors:
        items = "".join(f"<li>{_e(error)}</li>" for error in report.errors[:50])
        more = len(report.errors) - 50
        items += f"<li>... and {more} more errors</li>" if more > 0 else ""
        parts.append(f'<h3>Errors (the scan is incomplete)</h3><ul class="errors">{items}</ul>')
    if isinstance(notes, list) and notes:
        parts.append("<h3>Notes</h3><ul>" + "".join(f"<li>{_e(n)}</li>" for n in notes) + "</ul>")
    return "".join(parts)


def _size(count: int) -> str:
    value, unit = float(count), "B"
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            break
        value /= 1024
    return f"{count} B" if unit == "B" else f"{value:.1f} {unit}"


# --- act first -------------------------------------------------------------------------------


def _priority(report: Report, urgent: Sequence[_Secret], rotation_days: int) -> str:
    title = f"Act first: root keys and keys older than {rotation_days} days"
    if not urgent:
        return f'<section id="priority"><h2>{_e(title)}</h2><p>None.</p></section>'
    cards = []
    for secret in urgent:
        first = secret.first
        tags = '<span class="tag root">root key</span> ' * secret.root
        if secret.overdue:
            tags += f'<span class="tag overdue">{secret.age} days old</span> '
        where = ", ".join(f"{_e(f.location)}:{f.line}" for f in secret.places[:3])
        if len(secret.places) > 3:
            where += f" and {len(secret.places) - 3} more"
        state = {True: "still in HEAD", False: "removed from HEAD, still in the history"}
        steps = report.steps(first)
        step = f"<p>First: <b>{_e(steps[0].action)}</b>: {_e(steps[0].text)}</p>" if steps else ""
        cards.append(
            f'<div class="card">{tags}{_sev(first.severity)} <b>{_e(first.title)}</b>'
            f"<p><code>{_e(first.preview)}</code> {_e(first.provider)} <code>{_e(first.rule_id)}</code>"
            f"{'; ' + state[secret.in_head] if secret.in_head is not None else ''}</p>"
            f"<p>First seen {_e((first.first_seen or 'n/a')[:10])} at {where}</p>{step}</div>"
        )
    return f'<section id="priority"><h2>{_e(title)}</h2><div class="cards">{"".join(cards)}</div></section>'


# --- charts ----------------------------------------------------------------------------------


def _as_of(findings: Iterable[Finding]) -> datetime | None:
    """When the ages were computed: each first_seen plus its age (the report keeps no clock)."""
    ends = [
        seen + timedelta(days=f.age_days)
        for f in findings
        if f.age_days is not None and (seen := _date(f.first_seen)) is not None
    ]
    return max(ends) if ends else None


def _charts(report: Report, secrets: Sequence[_Secret], rotation_days: int) -> str:
    dated = [s for s in secrets if _date(s.first.first_seen) is not None]
    if not dated:
        return (
            '<section id="exposure"><h2>Exposure over time</h2><p class="note">No dates: only a'
            " history scan (keyguard history) knows when secrets entered.</p></section>"
        )
    return (
        '<section id="exposure"><h2>Exposure over time</h2><h3>When secrets entered the history'
        f"</h3>{_timeline(dated)}<h3>Exposure age (distinct secrets)</h3>"
        f"{_histogram(dated, rotation_days)}</section>"
    )


def _timeline(secrets: Sequence[_Secret]) -> str:
    lanes = sorted(secrets, key=lambda s: s.first.first_seen or "")[:TIMELINE_LANES]
    starts = [_date(s.first.first_seen) for s in lanes]
    events = [d for s in lanes for f in s.places if f.commit and (d := _date(f.commit.date))]
    low = min(d for d in [*starts, *events] if d is not None)
    high = max([_as_of(f for s in lanes for f in s.places) or low, *events])
    if (high - low).days < 30:
        low -= timedelta(days=15)
        high += timedelta(days=15)
    left, width, row = 230, 600, 22
    top, height = 26, 26 + row * len(lanes) + 40
    span = (high - low).total_seconds()

    def x(moment: datetime) -> float:
        return left + width * (moment - low).total_seconds() / span

    out = [
        f'<svg class="chart" id="timeline" viewBox="0 0 900 {height}" role="img" '
        'aria-label="When each secret entered the history" xmlns="http://www.w3.org/2000/svg" '
        'font-family="system-ui,sans-serif" font-size="11">'
    ]
    for tick, label in _ticks(low, high):
        out.append(
            f'<line x1="{x(tick):.1f}" x2="{x(tick):.1f}" y1="{top - 8}" y2="{height - 34}" '
            f'stroke="#d0d7de"/><text x="{x(tick):.1f}" y="{top - 12}" text-anchor="middle" '
            f'fill="#59636e">{label}</text>'
        )
    for n, secret in enumerate(lanes):
        y = top + n * row + row / 2
        first, colour = secret.first, COLOURS.get(secret.first.severity, GREY)
        dates = sorted(d for f in secret.places if f.commit and (d := _date(f.commit.date)))
        start = _date(first.first_seen) or low
        last = max([start, *dates])
        label = f"{first.provider or first.rule_id} {first.preview}"
        out.append(
            f'<text x="{left - 8}" y="{y + 4:.1f}" text-anchor="end">{_e(label[:36])}'
            f"<title>{_e(first.title)} ({_e(first.rule_id)})</title></text>"
            f'<line x1="{x(start):.1f}" x2="{x(last):.1f}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="{colour}" stroke-width="4"/>'
        )
        tail = (
            f'stroke="{colour}" stroke-width="4"'
            if secret.in_head is not False
            else 'stroke="#8c959f" stroke-width="2" stroke-dasharray="4 3"'
        )
        out.append(
            f'<line x1="{x(last):.1f}" x2="{x(high):.1f}" y1="{y:.1f}" y2="{y:.1f}" {tail}/>'
        )
        for moment in dates or [start]:
            out.append(
                f'<circle cx="{x(moment):.1f}" cy="{y:.1f}" r="5" fill="{colour}" stroke="#fff">'
                f"<title>entered {moment.date().isoformat()}</title></circle>"
            )
        if secret.in_head is False:
            out.append(f'<text x="{x(high) + 4:.1f}" y="{y + 4:.1f}" fill="#59636e">removed</text>')
    legend_y = height - 14
    out.append(
        f'<circle cx="{left}" cy="{legend_y - 4}" r="5" fill="{GREY}"/>'
        f'<text x="{left + 10}" y="{legend_y}">commit that added it</text>'
        f'<line x1="{left + 150}" x2="{left + 190}" y1="{legend_y - 4}" y2="{legend_y - 4}" '
        f'stroke="{GREY}" stroke-width="4"/><text x="{left + 196}" y="{legend_y}">still in HEAD</text>'
        f'<line x1="{left + 290}" x2="{left + 330}" y1="{legend_y - 4}" y2="{legend_y - 4}" '
        'stroke="#8c959f" stroke-width="2" stroke-dasharray="4 3"/>'
        f'<text x="{left + 336}" y="{legend_y}">removed from HEAD by the scan (when is not recorded)'
        "</text></svg>"
    )
    if len(secrets) > len(lanes):
        out.append(f'<p class="note">The {len(lanes)} earliest of {len(secrets)} secrets.</p>')
    return "".join(out)


def _ticks(low: datetime, high: datetime) -> list[tuple[datetime, str]]:
    months = 12 if (high - low).days > 3 * 365 else 3 if (high - low).days > 240 else 1
    tick = datetime(low.year, 1, 1, tzinfo=UTC)
    out = []
    while tick <= high:
        if tick >= low:
            out.append((tick, str(tick.year) if months == 12 else f"{tick:%Y-%m}"))
        month = tick.month - 1 + months
        tick = tick.replace(year=tick.year + month // 12, month=month % 12 + 1)
    return out


def _histogram(secrets: Sequence[_Secret], rotation_days: int) -> str:
    edges = sorted({0, *_AGE_EDGES, rotation_days})
    buckets = [(lo, hi) for lo, hi in zip(edges, [*edges[1:], None], strict=True)]
    counts = [0] * len(buckets)
    for secret in secrets:
        if secret.age is not None:
            # A bucket holds the ages over its low edge, up to its high edge (the first from 0).
            counts[
                next(n for n, (lo, hi) in enumerate(buckets) if hi is None or secret.age <= hi)
            ] += 1
    top, base, width = max([*counts, 1]), 200, 820 / len(buckets)
    out = [
        '<svg class="chart" id="ages" viewBox="0 0 900 250" role="img" xmlns="http://www.w3.org/2000/svg" '
        f'aria-label="Distinct secrets by exposure age" font-family="system-ui,sans-serif" font-size="11">'
        f'<line x1="60" x2="880" y1="{base}" y2="{base}" stroke="#59636e"/>'
    ]
    for n, ((lo, hi), count) in enumerate(zip(buckets, counts, strict=True)):
        x, bar = 60 + n * width, 170 * count / top
        colour = "#b00020" if lo >= rotation_days else "#1c7ed6"
        label = (
            f"over {_days(lo)}"
            if hi is None
            else f"up to {_days(hi)}"
            if lo == 0
            else f"{_days(lo)}–{_days(hi)}"
        )
        out.append(
            f'<rect x="{x + 8:.1f}" y="{base - bar:.1f}" width="{width - 16:.1f}" height="{bar:.1f}" '
            f'fill="{colour}"/><text x="{x + width / 2:.1f}" y="{base - bar - 5:.1f}" '
            f'text-anchor="middle" font-weight="700">{count}</text><text x="{x + width / 2:.1f}" '
            f'y="{base + 16}" text-anchor="middle" fill="#59636e">{_e(label)}</text>'
        )
    out.append(
        f'<text x="60" y="{base + 40}" fill="#b00020">red: older than the rotation period'
        f" ({rotation_days} days)</text></svg>"
    )
    return "".join(out)


def _days(days: int) -> str:
    return f"{days // 365} y" if days % 365 == 0 else f"{days} d"


# --- findings --------------------------------------------------------------------------------


# Columns of the findings tables: header, width in percent, cell class.
_COLUMNS = (("Rule", 22, ""), ("Title", 33, ""), ("Location", 33, "loc"), ("Preview", 12, "nw"))
_HISTORY_COLUMNS = (
    ("Rule", 13, ""),
    ("Title", 17, ""),
    ("Location", 17, "loc"),
    ("Commit", 9, "nw"),
    ("Date", 7, "nw"),
    ("Author", 10, ""),
    ("First seen", 7, "nw"),
    ("Age (days)", 6, "num"),
    ("In HEAD", 5, ""),
    ("Preview", 9, "nw"),
)


def _findings(report: Report) -> str:
    if not report.findings:
        return '<section id="findings"><h2>Findings</h2><p>None.</p></section>'
    history = any(f.commit is not None for f in report.findings)
    columns = _HISTORY_COLUMNS if history else _COLUMNS
    cols = "".join(f'<col style="width:{width}%">' for _, width, _ in columns)
    head = (
        f"<colgroup>{cols}</colgroup><thead><tr>"
        + "".join(f"<th>{name}</th>" for name, _, _ in columns)
        + "</tr></thead>"
    )
    parts = [
        '<section id="findings"><h2>Findings by severity and provider</h2>'
        '<p class="filter" id="filter-row" hidden><label>Filter: <input id="filter" type="search" '
        'placeholder="path, author, rule..."></label></p>'
    ]
    for severity in [*SEVERITIES, None]:
        found = [
            f
            for f in report.findings
            if f.severity == severity or (severity is None and f.severity not in SEVERITIES)
        ]
        if not found:
            continue
        parts.append(
            f"<h3>{_sev(severity or 'other')} {len(found)} finding{'s' * (len(found) != 1)}</h3>"
            f'<table class="grid">{head}'
        )
        by_provider: dict[str, list[Finding]] = {}
        for finding in sorted(found, key=lambda f: (f.provider or "~", f.path, f.line)):
            by_provider.setdefault(finding.provider or "other", []).append(finding)
        for provider, rows in by_provider.items():
            parts.append(f'<tbody><tr><th colspan="{len(columns)}">{_e(provider)}</th></tr>')
            for finding in rows:
                cells = zip(columns, _cells(finding, history), strict=True)
                parts.append(
                    '<tr class="finding">'
                    + "".join(
                        f'<td class="{kind}">{cell}</td>' if kind else f"<td>{cell}</td>"
                        for (_, _, kind), cell in cells
                    )
                    + "</tr>"
                )
            parts.append("</tbody>")
        parts.append("</table>")
    parts.append("</section>")
    return "".join(parts)


def _cells(finding: Finding, history: bool) -> list[str]:
    cells = [
        f"<code>{_e(finding.rule_id)}</code>",
        _e(finding.title),
        f"{_e(finding.location)}:{finding.line}",
    ]
    if history:
        commit = finding.commit
        cells += [
            f'<code title="{_e(commit.summary)}">{_e(commit.sha[:12])}</code>' if commit else "",
            _e(commit.date[:10]) if commit else "",
            _e(commit.author) if commit else "",
            _e((finding.first_seen or "")[:10]),
            "" if finding.age_days is None else str(finding.age_days),
            {True: "yes", False: "no", None: ""}[finding.in_head],
        ]
    return [*cells, f"<code>{_e(finding.preview)}</code>"]


# --- playbooks -------------------------------------------------------------------------------


def _playbooks(report: Report, groups: Sequence[_Secret]) -> str:
    if not groups:
        return ""
    # Secrets that share a playbook share its steps: show them once, with the secrets they cover.
    books: dict[tuple[str, str], list[_Secret]] = {}
    for secret in groups:
        books.setdefault((secret.first.remediation, secret.first.category), []).append(secret)
    parts = ['<section id="playbooks"><h2>What to do about each secret</h2>']
    for (book_id, _), covered in books.items():
        first = covered[0].first
        book = report.playbooks.get(book_id)
        items = "".join(
            f"<li><code>{_e(s.first.preview)}</code> {_e(s.first.title)} at "
            f"{_e(s.first.location)}:{s.first.line}"
            + (f" and {len(s.places) - 1} more place(s)" if len(s.places) > 1 else "")
            + "</li>"
            for s in covered
        )
        steps = []
        for step in report.steps(first):
            text = f'<span class="action">{_e(step.action)}</span> {_e(step.text)}'
            if step.command:
                text += f"<pre><code>{_e(step.command)}</code></pre>"
            if step.url and step.url.startswith("https://"):
                text += f'<a class="url" href="{_e(step.url)}" rel="noopener noreferrer">{_e(step.url)}</a>'
            steps.append(f"<li>{text}</li>")
        parts.append(
            f'<div class="playbook"><h3>{_e(book.title if book else first.title)}</h3>'
            f"<p>For:</p><ul>{items}</ul><p>Steps:</p><ol>{''.join(steps)}</ol></div>"
        )
    parts.append("</section>")
    return "".join(parts)
