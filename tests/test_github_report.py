"""`--format github` and the job summary beyond tests/test_report_sarif.py: the cap leaves the
closing notice a place, multi-line ranges carry no columns, any path or title stays inside its
annotation and its table cell, and a golden summary.

Secrets are generated at test time (keyguard scans its own tree); the golden file holds only
redacted previews. Regenerate it with `KEYGUARD_UPDATE_GOLDEN=1 pytest tests/test_github_report.py`.
"""

from __future__ import annotations

import random
import re
import string

from hypothesis import given, settings
from hypothesis import strategies as st

from keyguard.examples import generate_secret
from keyguard.model import Commit, Finding
from keyguard.report import Report
from keyguard.report.github import ANNOTATION_LIMIT, annotation, format_github, format_summary
from keyguard.report.model import printable
from keyguard.signatures import load_builtin
from tests.test_reports import check_golden

RULES = {r.id: r for r in load_builtin()}


def secret(rng: random.Random) -> str:
    return "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(32))


def finding(
    value: str,
    *,
    path: str = "app.env",
    line: int = 1,
    end_line: int | None = None,
    severity: str = "high",
    title: str = "GitHub personal access token",
    rule_id: str = "github.pat",
    commit: Commit | None = None,
) -> Finding:
    return Finding(
        rule_id=rule_id,
        title=title,
        category="secret",
        severity=severity,
        confidence="high",
        path=path,
        line=line,
        column=5,
        end_line=line if end_line is None else end_line,
        end_column=5 + len(value),
        secret=value,
        commit=commit,
    )


def report(
    findings: list[Finding],
    *,
    errors: tuple[str, ...] = (),
    kind: str = "worktree",
    notes: list[str] | None = None,
) -> Report:
    return Report(
        kind=kind,
        targets=("repo",),
        findings=tuple(findings),
        files=3,
        bytes=300,
        skipped={},
        errors=errors,
        seconds=0.0,
        rules=2,
        ruleset="digest",
        matcher="test",
        extra={"commits": 4, "notes": notes} if notes is not None else None,
    )


def unescape_property(text: str) -> str:
    for escaped, char in (("%2C", ","), ("%3A", ":"), ("%0A", "\n"), ("%0D", "\r"), ("%25", "%")):
        text = text.replace(escaped, char)
    return text


# --- annotations -----------------------------------------------------------------------------


def test_the_closing_notice_is_among_the_ten_notices_shown() -> None:
    rng = random.Random(1)
    notices = [finding(secret(rng), line=n, severity="low") for n in range(1, 13)]
    lines = format_github(report(notices)).splitlines()
    assert len(lines) == ANNOTATION_LIMIT
    assert all(line.startswith("::notice ") for line in lines)
    assert lines[-1].startswith("::notice title=keyguard::3 more findings not annotated")
    # Exactly ten of a type: all shown, nothing said about more.
    assert len(format_github(report(notices[:10])).splitlines()) == ANNOTATION_LIMIT


def test_cap_counts_every_type_and_keeps_the_most_severe() -> None:
    rng = random.Random(2)
    found = [finding(secret(rng), line=n, severity="high") for n in range(1, 9)]
    found += [finding(secret(rng), path="a.env", line=n, severity="critical") for n in (1, 2, 3)]
    found += [finding(secret(rng), line=n, severity="medium") for n in range(1, 13)]
    lines = format_github(report(found)).splitlines()
    errors = [line for line in lines if line.startswith("::error ")]
    assert len(errors) == ANNOTATION_LIMIT
    assert all("file=a.env" in line for line in errors[:3])  # critical first
    assert sum(line.startswith("::warning ") for line in lines) == ANNOTATION_LIMIT
    assert lines[-1].startswith("::notice title=keyguard::3 more findings")  # 1 error, 2 warnings


def test_a_multi_line_range_has_no_columns() -> None:
    rng = random.Random(3)
    one_line = annotation(finding(secret(rng), line=4))
    assert ",col=5,endColumn=37," in one_line
    block = annotation(finding(secret(rng), line=4, end_line=30, severity="critical"))
    assert block.startswith("::error file=app.env,line=4,endLine=30,title=")
    assert "col=" not in block and "endColumn=" not in block


def test_history_annotation_names_the_commit() -> None:
    commit = Commit("c0ffee" + "0" * 34, "Ann", "2024-01-02T03:04:05+00:00", "oops")
    line = annotation(finding(secret(random.Random(4)), commit=commit))
    assert "added in c0ffee000000." in line


_HOSTILE = st.text(
    st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40
) | st.sampled_from(["a\n::error::forged", "x,line=1", "50%0A.txt", "c:\\a\r\nb", "::"])


@settings(max_examples=200, deadline=None)
@given(path=_HOSTILE, title=_HOSTILE)
def test_any_path_and_title_stay_inside_one_annotation(path: str, title: str) -> None:
    line = annotation(finding(secret(random.Random(5)), path=path, title=title))
    assert "\n" not in line and "\r" not in line
    head, _, message = line.partition("::")[2].partition("::")
    kind, _, props = head.partition(" ")
    assert kind == "error"
    parsed = dict(item.split("=", 1) for item in props.split(","))
    assert list(parsed) == ["file", "line", "endLine", "col", "endColumn", "title"]

    # CR and LF survive (the runner decodes %0D/%0A, so a name with a line break still points
    # at its file); every other control character is shown escaped, never raw
    def shown(text: str) -> str:
        return "\n".join(
            "\r".join(printable(p) for p in part.split("\r")) for part in text.split("\n")
        )

    assert unescape_property(parsed["file"]) == shown(path)
    assert unescape_property(parsed["title"]) == f"keyguard: {shown(title)}"
    assert message.startswith("github.pat: ")


# --- job summary -----------------------------------------------------------------------------


def _cells(row: str) -> list[str]:
    assert row.startswith("| ") and row.endswith(" |")
    return row[2:-2].split(" | ")


@settings(max_examples=200, deadline=None)
@given(path=_HOSTILE, author=_HOSTILE)
def test_any_path_stays_in_its_cell_and_injects_no_html(path: str, author: str) -> None:
    commit = Commit("d" * 40, author, "2024-01-02T03:04:05+00:00", "s")
    text = format_summary(report([finding(secret(random.Random(6)), path=path, commit=commit)]))
    rows = [line for line in text.splitlines() if line.startswith("|")]
    assert len(rows) == 3  # header, delimiter, the one finding
    assert len(_cells(rows[2])) == 5
    assert rows[2].count("|") == 6  # no pipe but the delimiters, escaped or not
    assert "<" not in text.replace("<code>", "").replace("</code>", "")
    assert "`" not in text


def test_summary_lists_every_finding_up_to_the_limit() -> None:
    rng = random.Random(7)
    found = [finding(secret(rng), line=n) for n in range(1, 8)]
    text = format_summary(report(found), limit=5)
    assert sum(line.startswith("| high ") for line in text.splitlines()) == 5
    assert "... and 2 more" in text
    assert (
        sum(line.startswith("| high ") for line in format_summary(report(found)).splitlines()) == 7
    )


def test_summary_verdicts() -> None:
    assert "**No secrets found.**" in format_summary(report([]))
    incomplete = format_summary(
        report([], errors=tuple(f"blob {n}: unreadable" for n in range(23)))
    )
    assert "**Incomplete**: 23 error(s)" in incomplete
    assert incomplete.count("- blob ") == 20 and "... and 3 more errors" in incomplete
    noted = format_summary(report([], kind="history", notes=["shallow clone: history truncated"]))
    assert "- shallow clone: history truncated" in noted


def test_summary_golden() -> None:
    rng = random.Random(20240101)
    classic = generate_secret(RULES["github.pat"], rng)
    fine = generate_secret(RULES["github.fine-grained-pat"], rng)
    commit = Commit("0123456789abcdef" * 2 + "01234567", "Ann <b>", "2024-02-03T04:05:06Z", "x")
    found = [
        finding(classic, path="deploy/ci.yml", line=2),
        finding(classic, path="a|b`c<script>.env", line=7, commit=commit),
        finding(
            fine,
            path="docs/*notes*_[1].md",
            line=3,
            severity="medium",
            rule_id="github.fine-grained-pat",
            title="GitHub fine-grained personal access token",
        ),
    ]
    text = format_summary(report(found, kind="history", notes=["1 submodule not entered"]))
    for value in (classic, fine):
        assert not [value[i : i + 8] for i in range(4, len(value) - 7) if value[i : i + 8] in text]
    assert re.search(r"\*\*3 findings\*\* \(2 secrets\)", text)
    check_golden("report.summary.md", text)
