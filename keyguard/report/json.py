"""`--format json` (one document) and `--format jsonl` (one finding per line)."""

from __future__ import annotations

import json

from keyguard.report.model import SCHEMA, Report, finding_dict, scan_dict, tool_dict


def format_json(report: Report, show_secrets: bool = False) -> str:
    document = {
        "schema": SCHEMA,
        "tool": tool_dict(),
        "scan": scan_dict(report),
        "findings": [
            finding_dict(f, show_secrets, report.steps(f), report.raw_paths)
            for f in report.findings
        ],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def format_jsonl(report: Report, show_secrets: bool = False) -> str:
    lines = [
        json.dumps(
            finding_dict(f, show_secrets, report.steps(f), report.raw_paths), ensure_ascii=False
        )
        for f in report.findings
    ]
    return "".join(line + "\n" for line in lines)
