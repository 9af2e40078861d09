"""Free text that reaches a report (commit subjects, author names) with its secrets redacted.

A commit whose subject holds a token would otherwise carry it whole into every finding of that
commit, into the history cache and into every report format, `--show-secrets` or not. The text
is scanned with the same rules as file content and each secret is replaced by its preview.
"""

from __future__ import annotations

from keyguard.engine import CompiledRuleset, scan
from keyguard.model import redact


def redact_text(text: str, compiled: CompiledRuleset) -> str:
    """`text` with every secret the rules find in it replaced by its redacted preview."""
    if not text:
        return text
    found = [
        f
        for f in scan(text.encode("utf-8", "surrogateescape"), None, compiled).findings
        if f.category != "hygiene"
    ]
    if not found:
        return text
    starts = [0]  # where each line starts; lines end at "\n" only, as the engine counts them
    for line in text.split("\n"):
        starts.append(starts[-1] + len(line) + 1)
    spans = []
    for f in found:
        # Where the finding is (an encoded value's run for a decoded secret), in characters.
        if f.line - 1 < len(starts) and f.end_line - 1 < len(starts):
            spans.append(
                (starts[f.line - 1] + f.column - 1, starts[f.end_line - 1] + f.end_column - 1)
            )
    for start, end in sorted(set(spans), reverse=True):
        if 0 <= start < end <= len(text):
            text = text[:start] + redact(text[start:end]) + text[end:]
    for value in sorted({f.secret for f in found if f.secret}, key=len, reverse=True):
        text = text.replace(value, redact(value))  # any copy the spans did not cover
    return text
