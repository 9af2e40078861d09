"""Key hygiene from what was found: findings about findings, one stage after the engine.

- `hygiene.rotation-overdue`: a credential first committed longer ago than the rotation period
  (NIST SP 800-57: keys rotate at least yearly); one still in HEAD ranks above history only.
- `hygiene.key-reuse`: one secret value in several places (files, services, a dev and a prod
  configuration): one key, one purpose. One finding lists every place.
- `hygiene.weak-private-key`: RSA under 2048 bits, or DSA (see keyinfo.py).

These are not pattern rules: they have no examples to scan, but the same fields as rules
(`ASSESSMENTS`), a playbook, and tags, and `keyguard explain` knows them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from keyguard.keyinfo import is_weak
from keyguard.model import Finding

DEFAULT_ROTATION_DAYS = 365
_SECRETS = ("secret", "private-key", "root-key")
_ENVIRONMENTS = re.compile(
    r"(?i)(?:^|[/._-])(prod|production|staging|stage|dev|development|test|qa|uat)(?=$|[/._-])"
)


@dataclass(frozen=True, slots=True)
class Assessment:
    id: str
    title: str
    severity: str
    playbook: str
    tags: tuple[str, ...]
    description: str


ASSESSMENTS = {
    a.id: a
    for a in (
        Assessment(
            "hygiene.rotation-overdue",
            "Credential older than the rotation period",
            "medium",
            "rotation-overdue",
            ("SC-12", "SP800-57:cryptoperiod"),
            "First committed longer ago than the rotation period (rotation_days, default 365): "
            "rotate it, whether or not it leaked further. Still in HEAD: medium; only in the "
            "history: low.",
        ),
        Assessment(
            "hygiene.key-reuse",
            "One credential used in several places",
            "medium",
            "key-reuse",
            ("SC-12", "SP800-57:single-purpose"),
            "The same secret value in several files; high when the places are different "
            "environments (dev and prod). One key should serve one purpose.",
        ),
        Assessment(
            "hygiene.weak-private-key",
            "Weak private key (RSA under 2048 bits, or DSA)",
            "high",
            "weak-private-key",
            ("SC-12", "SC-13", "SP800-57:key-size"),
            "NIST SP 800-57 gives RSA keys under 2048 bits less than 112 bits of security; "
            "DSA is no longer approved for signing (FIPS 186-5).",
        ),
    )
}


def assess(
    findings: Sequence[Finding],
    rotation_days: int = DEFAULT_ROTATION_DAYS,
    disabled: frozenset[str] = frozenset(),
) -> list[Finding]:
    """The findings, then the hygiene findings they give rise to (those not `disabled`)."""
    extra: list[Finding] = []
    if "hygiene.rotation-overdue" not in disabled:
        extra += _overdue(findings, rotation_days)
    if "hygiene.key-reuse" not in disabled:
        extra += _reused(findings)
    if "hygiene.weak-private-key" not in disabled:
        extra += _weak_keys(findings)
    return [*findings, *extra]


def _as(finding: Finding, assessment_id: str, severity: str, title: str) -> Finding:
    a = ASSESSMENTS[assessment_id]
    return replace(
        finding,
        rule_id=a.id,
        title=title,
        category="hygiene",
        severity=severity,
        confidence="high",
        remediation=a.playbook,
        tags=tuple(dict.fromkeys((*a.tags, *finding.tags))),
        paired_with=None,
        places=(),
    )


def _by_secret(findings: Sequence[Finding]) -> dict[str, list[Finding]]:
    groups: dict[str, list[Finding]] = {}
    for f in findings:
        if f.category in _SECRETS:
            groups.setdefault(f.secret_hash, []).append(f)
    return groups


def _overdue(findings: Sequence[Finding], rotation_days: int) -> list[Finding]:
    out: list[Finding] = []
    for group in _by_secret(findings).values():
        ages = [f.age_days for f in group if f.age_days is not None]
        if not ages or max(ages) <= rotation_days:
            continue
        oldest = min(group, key=lambda f: (f.first_seen or "", f.path, f.line))
        in_head = any(f.in_head for f in group)
        title = (
            f"{oldest.title}: {max(ages)} days old, over the {rotation_days}-day rotation period"
            + ("" if in_head else " (history only)")
        )
        out.append(_as(oldest, "hygiene.rotation-overdue", "medium" if in_head else "low", title))
    return out


def _reused(findings: Sequence[Finding]) -> list[Finding]:
    out: list[Finding] = []
    for group in _by_secret(findings).values():
        paths = sorted({f.location for f in group})  # two members of one zip: two places
        if len(paths) < 2:
            continue
        places = tuple(sorted({_place(f) for f in group}))
        environments = {m.group(1).lower()[:4] for p in paths for m in _ENVIRONMENTS.finditer(p)}
        severity = "high" if len(environments) >= 2 else "medium"
        first = min(group, key=lambda f: (f.location, f.line))
        title = f"{first.title} used in {len(paths)} places"
        out.append(replace(_as(first, "hygiene.key-reuse", severity, title), places=places))
    return out


def _place(finding: Finding) -> str:
    where = f"{finding.location}:{finding.line}"
    return f"{where}@{finding.commit.sha[:12]}" if finding.commit else where


def _weak_keys(findings: Sequence[Finding]) -> list[Finding]:
    out: list[Finding] = []
    seen: set[str] = set()
    for f in findings:
        if f.category != "private-key" or not is_weak(f.key_info) or f.secret_hash in seen:
            continue
        seen.add(f.secret_hash)
        algorithm, _, bits = (f.key_info or "").partition(":")
        size = f"{bits}-bit " if bits else ""
        title = f"Weak private key: {size}{algorithm.upper()}"
        out.append(_as(f, "hygiene.weak-private-key", "high", title))
    return out
