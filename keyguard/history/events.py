"""Leak events: which change introduced which secret.

A change introduces a secret at a path when its new blob holds the secret and neither the old
blob at that path, nor a blob the same commit deleted (a rename or move), nor (for a merge) the
other parents' version did. So a re-add after removal and a copy to another path are new events,
a pure rename is not, and a merge only counts for what it added itself. The staged scan uses the
same rules on the index's changes, as if they were a commit.

Nothing here runs git: what other parents held comes through a callback.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from keyguard.model import Finding
from keyguard.sources.git import Change, CommitRecord, is_zero


@dataclass(slots=True)
class Known:
    """What scanned blobs hold: `by_blob` for blobs scanned once at any path, `by_path` for
    blobs scanned at a given path (where a rule limited to some paths found something)."""

    by_blob: dict[str, list[Finding]] = field(default_factory=dict)
    by_path: dict[tuple[str, str], list[Finding]] = field(default_factory=dict)

    def at(self, sha: str, path: str) -> list[Finding]:
        found = self.by_path.get((sha, path))
        return found if found is not None else self.by_blob.get(sha, [])

    def ids(self) -> set[str]:
        return set(self.by_blob) | {sha for sha, _ in self.by_path}


@dataclass(frozen=True, slots=True)
class Event:
    record: CommitRecord
    change: Change
    findings: tuple[Finding, ...]


# (other parent's commit id, change) -> what that parent held at the change's path
ParentLookup = Callable[[str, Change], list[Finding]]


def secrets(findings: Sequence[Finding]) -> set[str]:
    # By value (its hash), not by rule: unquoting `password: "X"` changes the matching rule, not
    # the leak.
    return {f.secret_hash for f in findings}


def find_events(
    records: Sequence[CommitRecord], known: Known, parent_lookup: ParentLookup
) -> list[Event]:
    events: list[Event] = []
    merge_lookups: list[tuple[int, str, Change]] = []  # (event index, parent, change)
    with_findings = known.ids()
    for record in records:
        interesting = [c for c in record.changes if c.new in with_findings]
        if not interesting:
            continue
        # Secrets this commit deleted elsewhere: each may move once (a rename), so a delete
        # plus two adds is one rename and one copy.
        moved: Counter[str] = Counter()
        deleted: set[str] = set()
        for change in record.changes:
            if change.status == "D" or is_zero(change.new):
                moved.update(secrets(known.at(change.old, change.path)))
                deleted.add(change.old)
        # An unchanged blob at a new path is the rename; other paths holding it are copies.
        order = sorted(interesting, key=lambda c: (c.new not in deleted, c.path))
        for change in order:
            new = _introduced(change, known, moved)
            if not new:
                continue
            events.append(Event(record, change, tuple(new)))
            for parent in record.parents[1:]:
                merge_lookups.append((len(events) - 1, parent, change))
    if merge_lookups:
        events = _drop_merged(events, merge_lookups, parent_lookup)
    return events


def _introduced(change: Change, known: Known, moved: Counter[str]) -> list[Finding]:
    before = secrets(known.at(change.old, change.path))
    new: list[Finding] = []
    taken: set[str] = set()
    for finding in known.at(change.new, change.path):
        key = finding.secret_hash
        if key in before:
            continue
        if key in taken or moved[key] > 0:
            if key not in taken:
                moved[key] -= 1
                taken.add(key)
            continue
        new.append(finding)
    return new


def _drop_merged(
    events: list[Event],
    lookups: list[tuple[int, str, Change]],
    parent_lookup: ParentLookup,
) -> list[Event]:
    """A merge introduces only what none of its other parents had at the same path."""
    known: dict[int, set[str]] = {}
    for index, parent, change in lookups:
        known.setdefault(index, set()).update(secrets(parent_lookup(parent, change)))
    kept: list[Event] = []
    for index, event in enumerate(events):
        had = known.get(index, set())
        remaining = tuple(f for f in event.findings if f.secret_hash not in had)
        if remaining:
            kept.append(Event(event.record, event.change, remaining))
    return kept
