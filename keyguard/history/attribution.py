"""Leak events become reported findings: placed at their path and commit, with the date the
secret was first seen, its age, and whether HEAD still holds it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime

from keyguard.history.events import Event, Known
from keyguard.model import Commit, Finding


def secrets_in(blob_ids: set[str], known: Known) -> set[str]:
    """The secrets (by hash) that a set of blobs holds, e.g. HEAD's tree."""
    held: set[str] = set()
    for sha in blob_ids & set(known.by_blob):
        held.update(f.secret_hash for f in known.by_blob[sha])
    for (sha, _), found in known.by_path.items():
        if sha in blob_ids:
            held.update(f.secret_hash for f in found)
    return held


def attribute(events: Sequence[Event], in_head: set[str], now: datetime) -> list[Finding]:
    first_seen: dict[str, str] = {}
    for event in events:
        date = utc(event.record.date)
        for finding in event.findings:
            key = finding.secret_hash
            if key not in first_seen or date < first_seen[key]:
                first_seen[key] = date
    out: list[Finding] = []
    for event in events:
        record = event.record
        commit = Commit(record.sha, record.author, record.date, record.summary)
        for finding in event.findings:
            seen = first_seen[finding.secret_hash]
            age = (now - datetime.fromisoformat(seen)).days
            out.append(
                replace(
                    finding,
                    path=event.change.path,
                    commit=commit,
                    first_seen=seen,
                    age_days=max(age, 0),
                    in_head=finding.secret_hash in in_head,
                )
            )
    out.sort(key=lambda f: (f.first_seen or "", f.commit.date if f.commit else "", f.path, f.line))
    return out


def utc(date: str) -> str:
    return datetime.fromisoformat(date).astimezone(UTC).isoformat().replace("+00:00", "Z")
