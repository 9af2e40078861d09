"""Line-level scoring of scanner findings against corpus labels, and redacted reports.

A finding *hits* a positive label when it is in the same file and its (start) line lies within
``[label.line, label.end_line]``.

* precision = distinct reported ``(path, line)`` locations that hit a positive / all distinct locations
* recall    = positive labels hit / positive labels

Reports never show more than the first 4 characters of any value.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from .labels import Label

UNLABELLED = "unlabelled"


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    rule: str = ""


@dataclass(frozen=True)
class FalsePositive:
    path: str
    line: int
    rules: tuple[str, ...]
    negative_kind: str  # the labelled negative kind, or UNLABELLED


@dataclass
class Score:
    tool: str
    positives: int
    hit: int
    locations: int
    true_locations: int
    false_negatives: list[Label] = field(default_factory=list)
    false_positives: list[FalsePositive] = field(default_factory=list)
    rules_by_label: dict[Label, tuple[str, ...]] = field(default_factory=dict)

    @property
    def precision(self) -> float:
        return self.true_locations / self.locations if self.locations else 1.0

    @property
    def recall(self) -> float:
        return self.hit / self.positives if self.positives else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def normalize_path(path: str) -> str:
    path = path.replace("\\", "/")
    while path.startswith("./"):
        path = path[2:]
    return path.lstrip("/")


def score(labels: Sequence[Label], findings: Iterable[Finding], tool: str = "") -> Score:
    by_path: dict[str, list[Label]] = defaultdict(list)
    for label in labels:
        by_path[label.path].append(label)

    rules_at: dict[tuple[str, int], set[str]] = defaultdict(set)
    for f in findings:
        rules_at[(normalize_path(f.path), f.line)].add(f.rule)

    hit_rules: dict[Label, set[str]] = defaultdict(set)
    false_positives: list[FalsePositive] = []
    true_locations = 0
    for (path, line), rules in sorted(rules_at.items()):
        covering = [lab for lab in by_path.get(path, ()) if lab.covers(line)]
        positives = [lab for lab in covering if lab.positive]
        if positives:
            true_locations += 1
            for lab in positives:
                hit_rules[lab].update(rules)
        else:
            kind = covering[0].kind if covering else UNLABELLED
            false_positives.append(FalsePositive(path, line, tuple(sorted(rules)), kind))

    pos_labels = [lab for lab in labels if lab.positive]
    return Score(
        tool=tool,
        positives=len(pos_labels),
        hit=sum(1 for lab in pos_labels if lab in hit_rules),
        locations=len(rules_at),
        true_locations=true_locations,
        false_negatives=[lab for lab in pos_labels if lab not in hit_rules],
        false_positives=false_positives,
        rules_by_label={lab: tuple(sorted(r)) for lab, r in hit_rules.items()},
    )


# -- reporting ------------------------------------------------------------------------------------
_TOKEN = re.compile(r"[^\s\"'`<>(){}\[\],;]+")
_IDENT = re.compile(r"[A-Za-z]{1,12}(?:[_\-.][A-Za-z]{1,12})*")
_ASSIGN = re.compile(r"([A-Za-z]{1,12}(?:[_\-.][A-Za-z]{1,12})*)(=|:)(.*)")


def _redact_token(token: str, keep: int) -> str:
    if len(token) <= keep or _IDENT.fullmatch(token):
        return token
    m = _ASSIGN.fullmatch(token)
    if m:
        rest = m.group(3)
        return m.group(1) + m.group(2) + (rest if len(rest) <= keep else rest[:keep] + "…")
    return token[:keep] + "…"


def redact(text: str, keep: int = 4, limit: int = 160) -> str:
    """Keep identifiers, shorten every other token to its first ``keep`` characters, cap the length."""
    out = _TOKEN.sub(lambda m: _redact_token(m.group(0), keep), text.strip())
    return out if len(out) <= limit else out[:limit] + "…"


def table(scores: Sequence[Score]) -> str:
    rows = [
        "| tool | precision | recall | F1 | positives hit | reported locations | false positives |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for s in scores:
        rows.append(
            f"| {s.tool} | {s.precision:.3f} | {s.recall:.3f} | {s.f1:.3f} | {s.hit}/{s.positives} "
            f"| {s.locations} | {len(s.false_positives)} |"
        )
    return "\n".join(rows)


def recall_by_variant(s: Score, labels: Sequence[Label]) -> dict[str, tuple[int, int]]:
    missed = Counter(lab.variant or "plain" for lab in s.false_negatives)
    total = Counter(lab.variant or "plain" for lab in labels if lab.positive)
    return {v: (total[v] - missed[v], total[v]) for v in sorted(total)}


def false_negative_report(s: Score, limit_per_kind: int = 4) -> list[str]:
    groups: dict[str, list[Label]] = defaultdict(list)
    for lab in s.false_negatives:
        groups[lab.kind].append(lab)
    lines = []
    for kind in sorted(groups, key=lambda k: (-len(groups[k]), k)):
        labs = groups[kind]
        where = ", ".join(
            f"{lab.path}:{lab.line}{'-' + str(lab.end_line) if lab.end_line != lab.line else ''}"
            f"{' [' + lab.variant + ']' if lab.variant else ''} ({lab.preview}…)"
            for lab in labs[:limit_per_kind]
        )
        more = f" +{len(labs) - limit_per_kind} more" if len(labs) > limit_per_kind else ""
        lines.append(f"- {kind} ×{len(labs)}: {where}{more}")
    return lines


def false_positive_report(
    s: Score, line_text: dict[tuple[str, int], str] | None = None, limit_per_kind: int = 6
) -> list[str]:
    groups: dict[str, list[FalsePositive]] = defaultdict(list)
    for fp in s.false_positives:
        groups[fp.negative_kind].append(fp)
    lines = []
    for kind in sorted(groups, key=lambda k: (-len(groups[k]), k)):
        fps = groups[kind]
        lines.append(f"- {kind} ×{len(fps)}")
        for fp in fps[:limit_per_kind]:
            text = (line_text or {}).get((fp.path, fp.line))
            excerpt = f" `{redact(text)}`" if text else ""
            lines.append(f"  - {fp.path}:{fp.line} [{', '.join(fp.rules)}]{excerpt}")
        if len(fps) > limit_per_kind:
            lines.append(f"  - … +{len(fps) - limit_per_kind} more")
    return lines
