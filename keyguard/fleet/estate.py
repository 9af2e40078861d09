"""What only the whole estate shows: one key in several repositories, and the findings to act
on first across all of them (root keys, then keys past their rotation period, oldest first).

Keys are matched by their keyed digest (`secret_hash`), never by value: the findings a fleet
gathers have no values, and digests made under another key (a worker with another
KEYGUARD_DIGEST_KEY) cannot be matched at all, so such repositories are left out of the
reuse check and named.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from keyguard.hygiene import ASSESSMENTS
from keyguard.model import Finding

REUSE = "hygiene.key-reuse"
OVERDUE = "hygiene.rotation-overdue"
_SECRETS = ("secret", "private-key", "root-key")


@dataclass(frozen=True, slots=True)
class Located:
    """A finding and the repository it is in."""

    repository: str
    finding: Finding


def reused_across(findings: Mapping[str, Sequence[Finding]]) -> list[Located]:
    """One hygiene finding per key found in two or more repositories, listing every
    repository and path (`places`), located at its first place."""
    groups: dict[str, list[Located]] = {}
    for repository, found in findings.items():
        for f in found:
            if f.category in _SECRETS:
                groups.setdefault(f.secret_hash, []).append(Located(repository, f))
    out: list[Located] = []
    for group in groups.values():
        repositories = sorted({g.repository for g in group})
        if len(repositories) < 2:
            continue
        first = min(group, key=lambda g: (g.repository, g.finding.path, g.finding.line))
        out.append(Located(first.repository, _reuse_finding(first.finding, group, repositories)))
    return sorted(out, key=lambda g: (g.repository, g.finding.path, g.finding.line))


def _reuse_finding(first: Finding, group: Sequence[Located], repositories: list[str]) -> Finding:
    assessment = ASSESSMENTS[REUSE]
    places = sorted({f"{g.repository}: {_place(g.finding)}" for g in group})
    return replace(
        first,
        rule_id=assessment.id,
        # Several systems share one credential: revoking it for one breaks the others, and a
        # leak from any of them opens all of them.
        title=f"{first.title} used in {len(repositories)} repositories",
        category="hygiene",
        severity="high",
        confidence="high",
        remediation=assessment.playbook,
        tags=tuple(dict.fromkeys((*assessment.tags, *first.tags))),
        paired_with=None,
        places=tuple(places),
    )


def _place(finding: Finding) -> str:
    where = f"{finding.path}:{finding.line}"
    return f"{where}@{finding.commit.sha[:12]}" if finding.commit else where


def act_first(findings: Mapping[str, Sequence[Finding]]) -> tuple[list[Located], list[Located]]:
    """Root keys (they should not exist at all), and keys past their rotation period (the
    hygiene findings each audit made), oldest first."""
    roots = [
        Located(r, f) for r, found in findings.items() for f in found if f.category == "root-key"
    ]
    overdue = [
        Located(r, f) for r, found in findings.items() for f in found if f.rule_id == OVERDUE
    ]
    roots.sort(key=lambda g: (g.finding.first_seen or "", g.repository, g.finding.path))
    overdue.sort(key=lambda g: (-(g.finding.age_days or 0), g.repository, g.finding.path))
    return roots, overdue
