"""What a hook tells the person whose commit or push it stopped: each finding on one line (ref,
commit, path, line, rule, redacted preview), at most a set number of them, and how to fix it.

Pure: returns lines; the hook prints them (under GitLab each line is prefixed `GL-HOOK-ERR:`, the
only lines GitLab shows for a rejected web push).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from keyguard.model import Finding
from keyguard.report.model import printable

GITLAB_PREFIX = "GL-HOOK-ERR: "


def rejection_lines(
    findings: Sequence[Finding],
    refs: Mapping[str, Sequence[str]],
    *,
    limit: int,
    what: str = "push",
) -> list[str]:
    secrets = len({f.secret_hash for f in findings})
    bad_refs = sorted({r for f in findings if f.commit for r in refs.get(f.commit.sha, ())})
    head = f"keyguard: {what} rejected: {len(findings)} finding{'s' * (len(findings) != 1)}"
    head += f" ({secrets} secret{'s' * (secrets != 1)})"
    if bad_refs:
        head += f" in {printable(', '.join(bad_refs))}"
    lines = [head]
    for finding in findings[: max(limit, 0)]:
        lines.append("  " + finding_line(finding, refs))
    if len(findings) > limit:
        lines.append(f"  ... and {len(findings) - limit} more (run `keyguard history` to see all)")
    lines += fix_lines(findings, what)
    return lines


def finding_line(finding: Finding, refs: Mapping[str, Sequence[str]]) -> str:
    parts: list[str] = []
    if finding.commit is not None:
        where = refs.get(finding.commit.sha, ())
        if where:
            parts.append(",".join(where))
        parts.append(finding.commit.sha[:12])
    parts.append(f"{finding.location}:{finding.line}")
    parts += [finding.rule_id, finding.preview]
    # Ref names, paths and user rules' titles come from the repository: one line each, and
    # nothing in them reaches the terminal (or GitLab's hook output) as a control character.
    return printable("  ".join(parts) + f"  ({finding.title})")


def fix_lines(findings: Sequence[Finding], what: str) -> list[str]:
    if what == "commit":
        return [
            "To fix it: take the secret out of the staged files (read it from the environment or",
            "a secret store instead) and stage the change again. If the secret was ever shared",
            "or pushed anywhere, rotate or revoke it as well.",
        ]
    commits = sorted({f.commit.sha[:12] for f in findings if f.commit})
    rewrite = (
        f"(git rebase -i {commits[0]}^ and edit that commit, or git commit --amend for the last"
        " one), then push again."
        if commits
        else "then push again."
    )
    return [
        "To fix it: remove the secret from the commit that added it and rewrite the branch",
        rewrite,
        "A secret that left your machine is leaked even after the rewrite: rotate or revoke it.",
    ]
