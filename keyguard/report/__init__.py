"""Reporters: pure `format_*` functions that return text; the CLI writes it."""

from __future__ import annotations

from keyguard.report.json import format_json, format_jsonl
from keyguard.report.model import Report
from keyguard.report.text import format_text

FORMATS = {"text": format_text, "json": format_json, "jsonl": format_jsonl}

__all__ = ["FORMATS", "Report"]
