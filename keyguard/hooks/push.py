"""The pre-push boundary: the commits being pushed that the remote does not have yet.

git passes `<local ref> <local id> <remote ref> <remote id>` lines on stdin; the pre-commit
framework (which reads that stdin itself) passes `PRE_COMMIT_FROM_REF` / `PRE_COMMIT_TO_REF`, or
only `PRE_COMMIT_LOCAL_BRANCH` when the push starts at a root commit. A commit on any of the
remote's tracking refs is already there; with no tracking refs at all, every pushed commit is
scanned (the history cache in the git dir makes that cheap the next time).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from keyguard.errors import UsageError
from keyguard.hooks.updates import new_commits, parse_push
from keyguard.scope import RefUpdate, Revisions
from keyguard.sources import git


def updates_from(stdin: str, env: Mapping[str, str], repo: Path) -> list[RefUpdate]:
    """The pushed refs, from git's stdin or from the pre-commit framework's variables."""
    to_ref = env.get("PRE_COMMIT_TO_REF")
    local_branch = env.get("PRE_COMMIT_LOCAL_BRANCH")
    remote_branch = env.get("PRE_COMMIT_REMOTE_BRANCH", "")
    if to_ref:
        old = git.verify_revision(repo, env.get("PRE_COMMIT_FROM_REF") or to_ref)
        new = git.verify_revision(repo, to_ref)
        return [RefUpdate(old, new, remote_branch or to_ref)]
    if local_branch:
        new = git.verify_revision(repo, local_branch)
        return [RefUpdate(git.ZERO, new, remote_branch or local_branch)]
    return [line.as_update() for line in parse_push(stdin)]


def remote_exclusions(repo: Path, remote: str | None, updates: list[RefUpdate]) -> Revisions:
    """What the remote is known to have: its tracking refs, and the old ids of updated refs
    that exist here (a force push's old tip may not)."""
    known = set(git.run_git(repo, "remote", check=False).decode().split())
    selector = f"--remotes={remote}" if remote and remote in known else "--remotes"
    old = tuple(
        u.old
        for u in updates
        if not u.is_creation and git.object_exists(repo, u.old) and not u.is_deletion
    )
    return Revisions(exclude=old, exclude_refs=(selector,))


def push_scope(
    repo: Path, remote: str | None, stdin: str, env: Mapping[str, str]
) -> tuple[list[RefUpdate], Revisions, Revisions]:
    """(updates, the commits to scan, what the remote has)."""
    remote = env.get("PRE_COMMIT_REMOTE_NAME") or remote
    updates = updates_from(stdin, env, repo)
    exclude = remote_exclusions(repo, remote, updates)
    return updates, new_commits(updates, exclude), exclude


def run_pre_push(
    repo: Path,
    remote: str | None,
    stdin: str,
    env: Mapping[str, str],
    *,
    output_format: str,
    output: Path | None,
    show_secrets: bool,
    config: Path | None,
    no_config: bool,
    max_file_size: str | None,
    matcher: str,
    jobs: int,
    baseline: Path | None = None,
) -> int:
    import sys

    from keyguard.driver import default_jobs
    from keyguard.history import AuditOptions, audit
    from keyguard.hooks.updates import refs_by_commit
    from keyguard.report.hook import rejection_lines
    from keyguard.run import (
        blocking,
        emit,
        exit_code,
        finish,
        history_raw_paths,
        make_report,
        prepare,
    )

    if not git.is_repository(repo):
        raise UsageError(f"{repo}: not a git repository")
    updates, scope, exclude = push_scope(repo, remote, stdin, env)
    if scope.is_empty:
        print("keyguard: pre-push: no new commits to check", file=sys.stderr)
        return 0
    root = git.toplevel(repo) or repo
    ready = prepare(config, no_config, root, matcher, max_file_size, baseline)
    result = audit(
        repo,
        ready.compiled,
        scope,
        AuditOptions(
            jobs=jobs or default_jobs(),
            max_size=ready.max_size,
            need_values=show_secrets
            or ready.cfg.has_value_allowlists
            or ready.baseline is not None,
        ),
    )
    finished = finish(result.findings, ready)
    findings = finished.findings
    stats = result.stats
    report = make_report(
        "push",
        tuple(u.ref for u in updates),
        finished,
        stats,
        ready,
        extra={"commits": stats.commits, "blobs": stats.files, "notes": list(stats.notes)},
        raw_paths=history_raw_paths(repo, findings),
    )
    if output_format == "text" and output is None:
        for note in stats.notes:
            print(f"keyguard: note: {note}", file=sys.stderr)
        if blocking(findings, ready.cfg.nonblocking_contexts):
            refs = refs_by_commit(repo, updates, exclude)
            print("\n".join(rejection_lines(findings, refs, limit=50)), file=sys.stderr)
        else:
            from keyguard.report.text import summary_line

            print(f"keyguard: {summary_line(report)}", file=sys.stderr)
    else:
        emit(report, output_format, output, show_secrets)
    return exit_code(report, hook=True, nonblocking=ready.cfg.nonblocking_contexts)
