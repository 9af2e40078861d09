"""Score a scanner's history findings against the corpus's leak events.

A reported finding is TRUE when its (path, commit) equal an expected event's and its line lies in
the event's line range. Findings are compared as distinct (commit, path, line) locations, so a tool
that reports one location twice (two rules) is neither rewarded nor punished for it.

- precision = distinct true locations / distinct reported locations
- recall = expected events matched / expected events
- right-commit rate = of the reported locations that sit on a labelled secret (path and line match
  some event, whatever the commit), the share attributed to the event's own commit.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from .corpus import Event, Negative


class Reported(NamedTuple):
    """One finding as a tool reported it (commit "" when the tool gave none)."""

    commit: str
    path: str
    line: int
    rule: str = ""
    preview: str = ""  # at most 4 characters of the secret
    in_head: bool | None = None  # when the tool says whether the secret is still at HEAD

    @property
    def location(self) -> tuple[str, str, int]:
        return (self.commit, self.path, self.line)


@dataclass(slots=True)
class Miss:
    event: Event
    why: str  # "not detected" | "wrong commit (...)" | "wrong line (...)"


@dataclass(slots=True)
class FalsePositive:
    finding: Reported
    why: str  # "wrong commit (event ...)" | "hard negative: kind" | "unlabelled"


@dataclass(slots=True)
class Score:
    tool: str
    events: int
    reported: int  # distinct (commit, path, line)
    true_locations: int
    matched_events: int
    on_secret: int  # distinct reported locations on a labelled secret, any commit
    in_head_checked: int = 0  # true locations whose finding tells in_head
    in_head_right: int = 0
    misses: list[Miss] = field(default_factory=list)
    false_positives: list[FalsePositive] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return self.true_locations / self.reported if self.reported else 1.0

    @property
    def recall(self) -> float:
        return self.matched_events / self.events if self.events else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def right_commit(self) -> float:
        return self.true_locations / self.on_secret if self.on_secret else 1.0

    @property
    def in_head_accuracy(self) -> float | None:
        return self.in_head_right / self.in_head_checked if self.in_head_checked else None


def _covers(event: Event, path: str, line: int) -> bool:
    return event.path == path and event.line <= line <= event.last_line


def score(
    tool: str,
    events: Sequence[Event],
    findings: Iterable[Reported],
    negatives: Sequence[Negative] = (),
    secret_lines: Mapping[tuple[str, str, int], str] | None = None,
) -> Score:
    """`secret_lines`: (commit, path, line) holding a labelled secret at that commit (any age)."""
    secret_lines = secret_lines or {}
    first: dict[tuple[str, str, int], Reported] = {}
    for finding in findings:
        first.setdefault(finding.location, finding)
    matched: set[int] = set()
    true_locations = on_secret = checked = right_head = 0
    false_positives: list[FalsePositive] = []
    for (commit, path, line), finding in first.items():
        here = [i for i, e in enumerate(events) if _covers(e, path, line)]
        right = [i for i in here if events[i].commit == commit]
        old = secret_lines.get((commit, path, line))
        if here or old:
            on_secret += 1
        if right:
            true_locations += 1
            matched.update(right)
            if finding.in_head is not None:
                checked += 1
                right_head += any(events[i].in_head == finding.in_head for i in right)
            continue
        if here:
            other = events[here[0]]
            why = f"wrong commit (event at {other.commit[:8]}, {other.kind})"
        elif old:
            why = f"wrong commit (an older {old} re-reported)"
        else:
            kinds = sorted({n.kind for n in negatives if n.path == path and n.line == line})
            why = f"hard negative: {', '.join(kinds)}" if kinds else "unlabelled"
        false_positives.append(FalsePositive(finding, why))
    reported = list(first.values())
    misses = [
        Miss(e, _why_missed(e, events, reported)) for i, e in enumerate(events) if i not in matched
    ]
    return Score(
        tool,
        len(events),
        len(first),
        true_locations,
        len(matched),
        on_secret,
        checked,
        right_head,
        misses,
        false_positives,
    )


def _why_missed(event: Event, events: Sequence[Event], findings: Sequence[Reported]) -> str:
    elsewhere = sorted({f.commit[:8] or "none" for f in findings if _covers(event, f.path, f.line)})
    if elsewhere:
        return f"wrong commit (reported at {', '.join(elsewhere)})"
    stray = sorted(
        {
            f.line
            for f in findings
            if f.commit == event.commit
            and f.path == event.path
            and not any(_covers(e, f.path, f.line) for e in events if e.commit == f.commit)
        }
    )
    if stray:
        return f"wrong line (reported line {', '.join(map(str, stray))})"
    return "not detected"


# -- reports ------------------------------------------------------------------------------------
def table(scores: Sequence[Score]) -> str:
    rows = [
        "| tool | precision | recall | F1 | right commit | in_head right | events found "
        "| reported | false positives |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for s in scores:
        head = s.in_head_accuracy
        rows.append(
            f"| {s.tool} | {s.precision:.3f} | {s.recall:.3f} | {s.f1:.3f} | "
            f"{s.right_commit:.3f} | {'n/a' if head is None else f'{head:.3f}'} | "
            f"{s.matched_events}/{s.events} | {s.reported} | {len(s.false_positives)} |"
        )
    return "\n".join(rows)


def miss_report(s: Score) -> list[str]:
    out = []
    for m in s.misses:
        e = m.event
        where = f"{e.path}:{e.line}" + (f"-{e.end_line}" if e.end_line else "")
        head = "at HEAD" if e.in_head else "gone from HEAD"
        out.append(f"- {e.kind} {where} @{e.commit[:8]} ({e.preview}…, {head}): {m.why}")
    return out


def false_positive_report(s: Score) -> list[str]:
    out = []
    for fp in s.false_positives:
        f = fp.finding
        preview = f" ({f.preview[:4]}…)" if f.preview else ""
        out.append(
            f"- [{f.rule}] {f.path}:{f.line} @{f.commit[:8] or 'no commit'}{preview}: {fp.why}"
        )
    return out


def miss_summary(s: Score) -> Counter[str]:
    return Counter(m.why.split(" (")[0] for m in s.misses)
