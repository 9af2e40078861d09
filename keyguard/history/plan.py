"""Plan a history audit and run its two git stages: list the commits' changes, scan their blobs.

Three plans, chosen from the scope and the cache:
- `incremental`: all refs, and every ref tip of the last complete audit is still reachable, so
  only the commits added since then are listed;
- `full`: all refs and nothing cached: every blob in the object store is scanned in pack order
  while `git log` runs in the background (a first audit wants nearly every blob anyway);
- `listed`: anything else (a revision set, a push): list the commits, then scan the blobs they
  introduce (and, for a partial history, the versions before them) that are not cached.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import regex

from keyguard.driver import Progress, Scanned, SkipPolicy, scan_blobs
from keyguard.engine import CompiledRuleset
from keyguard.history.cache import HistoryCache
from keyguard.model import Blob
from keyguard.scope import AllRefs, HistoryScope
from keyguard.sources import git

PACK_ORDER_FROM = 2000  # blobs: from here on, listing the pack to read in its order pays off

# Called once with (blobs, bytes) to be scanned; returns the per-chunk progress callback.
StartProgress = Callable[[int, int], Progress]


@dataclass(frozen=True, slots=True)
class Plan:
    mode: Literal["incremental", "full", "listed"]
    log_args: tuple[str, ...]  # `git log` arguments (see git.log_command)
    log_stdin: bytes | None = None  # revisions fed on stdin (the incremental plan)
    tips: tuple[str, ...] = ()  # ref tips an all-refs audit starts from (cached when complete)
    whole: bool = True  # all refs: the scope reaches every root commit


def make_plan(repo: Path, scope: HistoryScope, state: HistoryCache) -> Plan:
    if not isinstance(scope, AllRefs):
        return Plan("listed", tuple(git.log_command(scope.log_args())), whole=False)
    tips = tuple(git.ref_tips(repo))
    if state.tips and git.all_reachable(repo, state.tips, tips):
        lines = "\n".join([*tips, *(f"^{sha}" for sha in state.tips)]) + "\n"
        return Plan("incremental", tuple(git.log_command(["--stdin"])), lines.encode(), tips)
    revisions = ["--all", *git.stash_entries(repo)]
    if not state.scanned:
        return Plan("full", tuple(git.log_command(revisions)), tips=tips)
    return Plan("listed", tuple(git.log_command(revisions)), tips=tips)


@dataclass(slots=True)
class Walked:
    """The commits in scope (those that matter for events) and the scan of their blobs."""

    records: list[git.CommitRecord]
    commits: int  # commits listed (all of them, also those not kept in `records`)
    submodules: set[str]
    scanned: Scanned
    planned: int  # blobs the scan set out to read


def walk(
    repo: Path,
    plan: Plan,
    state: HistoryCache,
    compiled: CompiledRuleset,
    policy: SkipPolicy,
    *,
    jobs: int,
    start_progress: StartProgress | None,
    deadline: float | None,
) -> Walked:
    """List the plan's commits and scan the blobs they need. When the scope does not reach the
    root commits, the versions before its first commits are scanned too, or an edit next to an
    old secret would look like its introduction."""
    file_rule = file_rule_regex(compiled)
    store = git.GitStore(repo)

    def run(blobs: list[Blob]) -> Scanned:
        step = (
            start_progress(len(blobs), sum(b.size or 0 for b in blobs)) if start_progress else None
        )
        return scan_blobs(
            store, blobs, compiled, policy, jobs=jobs, progress=step, deadline=deadline
        )

    if plan.mode == "full":
        background = git.Background(repo, plan.log_args)
        try:
            objects = git.blobs_in_pack_order(repo)
            scanned = run(objects)
        except BaseException:
            background.cancel()
            raise
        # Streamed from disk, keeping only the commits that touch a blob with findings (or a
        # path a file-format rule reads): memory does not grow with the length of history.
        with background.result() as log_file:
            interesting = set(scanned.by_id) | set(state.blob_findings)
            records, count, wanted, submodules = _collect(
                git.parse_log_file(log_file), interesting, file_rule
            )
        if not scanned.stopped:
            done = scanned.done_ids
            scanned.stats.errors.extend(f"object {sha} is missing" for sha in sorted(wanted - done))
        return Walked(records, count, submodules, scanned, len(objects))
    log = git.run_git(repo, *plan.log_args, stdin=plan.log_stdin)
    records, count, wanted, submodules = _collect(git.parse_log(log), None, None)
    if not plan.whole:
        wanted |= {
            c.old
            for r in records
            for c in r.changes
            if not git.is_zero(c.old) and c.old_mode != git.SUBMODULE_MODE
        }
    objects = read_order(repo, wanted - state.scanned)
    return Walked(records, count, submodules, run(objects), len(objects))


def _collect(
    stream: Iterator[git.CommitRecord],
    interesting: set[str] | None,
    file_rule: regex.Pattern[str] | None,
) -> tuple[list[git.CommitRecord], int, set[str], set[str]]:
    """(kept records, commit count, blob ids the commits introduce, submodule paths); with
    `interesting`, only commits that touch such a blob or a file-rule path are kept."""
    kept: list[git.CommitRecord] = []
    wanted: set[str] = set()
    submodules: set[str] = set()
    count = 0
    keep_all = interesting is None
    touched = interesting or set()
    for record in stream:
        count += 1
        keep = keep_all
        for c in record.changes:
            if c.new_mode == git.SUBMODULE_MODE:
                submodules.add(c.path)
            elif not git.is_zero(c.new):
                wanted.add(c.new)
            if not keep and (
                c.new in touched
                or c.old in touched
                or (file_rule is not None and file_rule.search(c.path))
            ):
                keep = True
        if keep:
            kept.append(record)
    return kept, count, wanted, submodules


def file_rule_regex(compiled: CompiledRuleset) -> regex.Pattern[str] | None:
    """One alternation of the paths of keyword-less file-format rules (.pgpass...)."""
    patterns = [p.pattern for i in compiled.path_only for p in compiled.path_patterns[i]]
    return regex.compile("|".join(f"(?:{p})" for p in patterns)) if patterns else None


def read_order(repo: Path, need: set[str]) -> list[Blob]:
    """The blobs to read with their sizes, in pack order when there are many (reading in pack
    order is ~5x faster); anything the object store lacks is left for the reader to report."""
    if not need:
        return []
    if len(need) < PACK_ORDER_FROM:
        return git.with_sizes(repo, [Blob(sha, None) for sha in sorted(need)])
    ordered = [b for b in git.blobs_in_pack_order(repo) if b.id in need]
    listed = {b.id for b in ordered}
    return ordered + [Blob(sha, None) for sha in sorted(need - listed)]
