"""The pre-commit boundary: what the commit being made would introduce.

The staged content (index blobs, never the working copy) is compared with HEAD as if it were a
commit, with the same event rules as a history audit: a secret already in HEAD at that path,
moved from a path the commit deletes, or (during a merge) held by the other parent is not new.
A file named on the command line that has no staged change (as under `pre-commit run
--all-files`) is judged whole, so an all-files run is a real scan.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from keyguard.driver import SkipPolicy, Stats, scan_blobs
from keyguard.engine import CompiledRuleset
from keyguard.errors import UsageError
from keyguard.history.events import Known, find_events
from keyguard.model import Blob, Finding, Skip, is_utf8
from keyguard.sources import git


@dataclass(slots=True)
class StagedScan:
    findings: list[Finding]
    stats: Stats = field(default_factory=Stats)
    raw_paths: dict[str, bytes] = field(default_factory=dict)  # reported path -> git's bytes


def work_tree_root(repo: Path) -> Path:
    if not git.is_repository(repo):
        raise UsageError(f"{repo}: not a git repository")
    top = git.toplevel(repo)
    if top is None:
        raise UsageError(f"{repo}: a bare repository has no index to scan")
    return top


def repo_relative(top: Path, names: tuple[str, ...], cwd: Path) -> list[str]:
    """Named files as index paths (relative to the work tree's root, forward slashes)."""
    out: list[str] = []
    for name in names:
        absolute = os.path.abspath(os.path.join(cwd, name))
        relative = os.path.relpath(absolute, top)
        if relative == ".." or relative.startswith(".." + os.sep):
            raise UsageError(f"{name}: outside the repository {top}")
        out.append(Path(relative).as_posix())
    return out


def staged_changes(top: Path, paths: list[str]) -> tuple[list[git.Change], list[Skip]]:
    """The index against HEAD (the empty tree before the first commit), plus, for named files
    without a staged change, their whole index version as if added."""
    base = git.head(top) or git.empty_tree(top)
    selector = ["--", *paths] if paths else []
    raw = git.run_git(
        top,
        "--literal-pathspecs",
        "diff-index",
        "--cached",
        "--raw",
        "-z",
        "--no-renames",
        "--no-abbrev",
        *git.SAFE_DIFF,
        base,
        *selector,
    )
    changes = git.parse_raw_diff(raw)
    skipped: list[Skip] = []
    if paths:
        changed = {c.path for c in changes}
        entries = _index_entries(top, [p for p in paths if p not in changed])
        for path in paths:
            if path in changed:
                continue
            entry = entries.get(path)
            if entry is None:
                skipped.append(Skip(path, "not in the index"))
                continue
            mode, sha = entry
            changes.append(git.Change("000000", mode, git.ZERO, sha, "A", path, path.encode()))
    return changes, skipped


def _index_entries(top: Path, paths: list[str]) -> dict[str, tuple[str, str]]:
    """path -> (mode, blob id) of stage-0 index entries for the given paths."""
    if not paths:
        return {}
    out = git.run_git(top, "--literal-pathspecs", "ls-files", "-s", "-z", "--", *paths)
    entries: dict[str, tuple[str, str]] = {}
    for entry in out.split(b"\0"):
        meta, _, name = entry.partition(b"\t")
        fields = meta.split(b" ")
        if len(fields) == 3 and fields[2] == b"0":
            entries[git.decode_path(name)] = (fields[0].decode(), fields[1].decode())
    return entries


def scan_staged(
    top: Path, paths: list[str], compiled: CompiledRuleset, policy: SkipPolicy
) -> StagedScan:
    changes, skipped = staged_changes(top, paths)
    store = git.GitStore(top)
    new: list[Blob] = []
    old: list[Blob] = []
    for change in changes:
        if change.new_mode == git.SUBMODULE_MODE:
            skipped.append(Skip(change.path, "submodule"))
        elif not git.is_zero(change.new):
            new.append(Blob(change.new, change.path))
        if not git.is_zero(change.old) and change.old_mode != git.SUBMODULE_MODE:
            old.append(Blob(change.old, change.path))
    # What the commit adds is what is reported (and counted); HEAD's versions are context.
    added = scan_blobs(store, git.with_sizes(top, new), compiled, policy)
    before = scan_blobs(store, git.with_sizes(top, old), compiled, policy)
    known = Known()
    for scanned in (added, before):
        for blob in scanned.done:
            known.by_path[(blob.id, blob.path or "")] = scanned.findings.get(blob, [])

    def parent_has(parent: str, change: git.Change) -> list[Finding]:
        sha = git.tree_entry(top, parent, change.raw_path or change.path.encode())
        if sha is None:
            return []
        blob = Blob(sha, change.path)
        return scan_blobs(store, [blob], compiled, policy).findings.get(blob, [])

    head = git.head(top)
    parents = (head, *git.merge_heads(top)) if head else ()
    record = git.CommitRecord("", parents, "", datetime.now(UTC).isoformat(), "", tuple(changes))
    events = find_events([record], known, parent_has)
    findings = [replace(f, path=e.change.path) for e in events for f in e.findings]
    findings.sort(key=lambda f: (f.path, f.line, f.column, f.rule_id))
    stats = Stats(skipped=skipped)
    stats.add(added.stats)
    stats.errors.extend(before.stats.errors)
    stats.seconds = added.stats.seconds + before.stats.seconds
    # A name that is not UTF-8 is reported readably; JSON keeps its bytes too (path_bytes).
    raw = {c.path: c.raw_path for c in changes if c.raw_path and not is_utf8(c.raw_path)}
    return StagedScan(findings, stats, raw)


def run_staged(
    files: tuple[str, ...],
    repo: Path,
    *,
    output_format: str,
    output: Path | None,
    show_secrets: bool,
    config: Path | None,
    no_config: bool,
    max_file_size: str | None,
    matcher: str,
    baseline: Path | None = None,
) -> int:
    import sys

    from keyguard.report.hook import fix_lines
    from keyguard.run import blocking, emit, exit_code, finish, make_report, prepare

    top = work_tree_root(repo)
    paths = repo_relative(top, files, Path.cwd())
    ready = prepare(config, no_config, top, matcher, max_file_size, baseline)
    scanned = scan_staged(top, paths, ready.compiled, SkipPolicy(ready.max_size))
    missing = [s.name for s in scanned.stats.skipped if s.reason == "not in the index"]
    if paths and len(missing) == len(paths):
        # Named files, none of them staged or tracked: a hook that scanned nothing must say so.
        raise UsageError(f"not in the index (git add them first): {', '.join(missing)}")
    report = make_report(
        "staged",
        files or (str(top),),
        finish(scanned.findings, ready),
        scanned.stats,
        ready,
        raw_paths=scanned.raw_paths,
    )
    emit(report, output_format, output, show_secrets)
    passing = ready.cfg.nonblocking_contexts
    if blocking(report.findings, passing) and output_format == "text":
        print("\n".join(fix_lines(report.findings, "commit")), file=sys.stderr)
    return exit_code(report, hook=True, nonblocking=passing)
