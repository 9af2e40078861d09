"""Reporters: one registry of formats, each a pure `render(report, options) -> str`; the CLI
writes the text where the user asked."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from keyguard.report.github import format_github
from keyguard.report.html import format_html
from keyguard.report.json import format_json, format_jsonl
from keyguard.report.model import Report
from keyguard.report.sarif import format_sarif
from keyguard.report.text import format_text


@dataclass(frozen=True, slots=True)
class RenderOptions:
    show_secrets: bool = False
    color: bool = False  # only the text format colours, and only on a terminal


@dataclass(frozen=True, slots=True)
class Format:
    name: str
    render: Callable[[Report, RenderOptions], str]
    summary: str  # one line for --help


FORMATS: dict[str, Format] = {
    f.name: f
    for f in (
        Format(
            "text", lambda r, o: format_text(r, o.show_secrets, color=o.color), "grouped by secret"
        ),
        Format("json", lambda r, o: format_json(r, o.show_secrets), "one document"),
        Format("jsonl", lambda r, o: format_jsonl(r, o.show_secrets), "one finding per line"),
        Format("sarif", lambda r, o: format_sarif(r), "SARIF 2.1.0 for code scanning"),
        Format("github", lambda r, o: format_github(r), "GitHub Actions annotations"),
        Format(
            "html",
            lambda r, o: format_html(r, r.rotation_days),
            "one self-contained page, previews only",
        ),
    )
}


def render(report: Report, format_name: str, options: RenderOptions) -> str:
    return FORMATS[format_name].render(report, options)


__all__ = ["FORMATS", "Format", "RenderOptions", "Report", "render"]
