"""A repository's result back into what the reporters take: its findings (the JSON entries a
task returned or the log kept) as Finding values, its scan statistics as a history Report.

The entries are `report.model.finding_dict` output, so the round trip loses nothing a report
shows: a finding keeps its keyed digest and preview, and its value only where the task was
asked for it (--show-secrets).
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from keyguard.model import Commit, Finding, Skip
from keyguard.report.model import Report
from keyguard.run import Settings

# Entry keys that are not the Finding field of the same name (finding_dict's names).
# "context" is the path's context or, where that says code, the content's (model.Finding):
# either way what the rebuilt Finding's content_context must give back.
_RENAMED = {"playbook": "remediation", "key": "key_info", "context": "content_context"}
# Set below, or not the field: `remediation` is the playbook's steps (the field is `playbook`).
_DERIVED = {"secret", "known_hash", "known_preview", "commit", "remediation"}
_TUPLES = {"tags", "places"}
_FIELDS = {f.name for f in dataclasses.fields(Finding)}


def finding(entry: Mapping[str, Any]) -> Finding:
    """A Finding from its entry. Fields are taken by name, so a field added to both Finding
    and finding_dict travels without a change here."""
    values: dict[str, Any] = {}
    for key, value in entry.items():
        name = _RENAMED.get(key, key)
        if name in _FIELDS and key not in _DERIVED:
            values[name] = tuple(value or ()) if name in _TUPLES else value
    commit = None
    if entry.get("commit"):
        commit = Commit(
            str(entry["commit"]),
            str(entry.get("author") or ""),
            str(entry.get("date") or ""),
            str(entry.get("summary") or ""),
        )
    return Finding(
        **values,
        commit=commit,
        secret=str(entry.get("secret") or ""),
        # The digest the worker made, whatever this process's key (they should agree).
        known_hash=str(entry["secret_hash"]),
        known_preview=str(entry["preview"]),
    )


def raw_paths(entries: Sequence[Mapping[str, Any]]) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    for entry in entries:
        encoded = entry.get("path_bytes")
        if isinstance(encoded, str):
            try:
                out[str(entry["path"])] = base64.b64decode(encoded, validate=True)
            except (binascii.Error, ValueError):
                continue
    return out


def history_report(
    name: str, scan: Mapping[str, Any], entries: Sequence[Mapping[str, Any]], ready: Settings
) -> Report:
    """The report `keyguard history` would have rendered for this repository."""
    extra: dict[str, Any] = {
        "commits": int(scan.get("commits", 0)),
        "blobs": int(scan.get("blobs", 0)),
        "notes": list(scan.get("notes", [])),
    }
    return Report(
        kind="history",
        targets=(name,),
        findings=tuple(finding(e) for e in entries),
        files=int(scan.get("files", 0)),
        bytes=int(scan.get("bytes", 0)),
        skipped={str(k): int(v) for k, v in dict(scan.get("skipped", {})).items()},
        errors=tuple(str(e) for e in scan.get("errors", [])),
        seconds=float(scan.get("duration_seconds", 0.0)),
        rules=int(scan.get("rules", len(ready.compiled.rules))),
        ruleset=str(scan.get("ruleset", ready.compiled.ruleset.digest)),
        matcher=str(scan.get("matcher", ready.compiled.backend.name)),
        extra=extra,
        skipped_items=tuple(
            Skip(str(s.get("name", "")), str(s.get("reason", "")))
            for s in scan.get("skipped_items", [])
        ),
        playbooks=ready.playbooks,
        rotation_days=ready.cfg.rotation_days,
        raw_paths=raw_paths(entries),
    )
