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
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

from keyguard.driver import Progress, Scanned, SkipPolicy, Stats, scan_blobs
from keyguard.engine import CompiledRuleset
from keyguard.errors import ScanError
from keyguard.history.cache import HistoryCache
from keyguard.history.events import Event
from keyguard.history.messages import MessageScanner
from keyguard.history.salvage import salvage
from keyguard.model import Blob, Skip
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
    revisions: tuple[str, ...] = ()  # the revision arguments of log_args (for salvage)


def make_plan(repo: Path, scope: HistoryScope, state: HistoryCache) -> Plan:
    if not isinstance(scope, AllRefs):
        args = tuple(scope.log_args())
        return Plan("listed", tuple(git.log_command(args)), whole=False, revisions=args)
    tips = tuple(git.ref_tips(repo))
    if state.tips and git.all_reachable(repo, state.tips, tips):
        lines = "\n".join([*tips, *(f"^{sha}" for sha in state.tips)]) + "\n"
        return Plan(
            "incremental",
            tuple(git.log_command(["--stdin"])),
            lines.encode(),
            tips,
            revisions=("--stdin",),
        )
    revisions = ("--all", *git.stash_entries(repo))
    mode: Literal["full", "listed"] = "listed" if state.scanned else "full"
    return Plan(mode, tuple(git.log_command(revisions)), tips=tips, revisions=revisions)


@dataclass(slots=True)
class Walked:
    """The commits in scope (those that matter for events) and the scan of their blobs."""

    records: list[git.CommitRecord]
    commits: int  # commits listed (all of them, also those not kept in `records`)
    submodules: set[str]
    scanned: Scanned
    planned: int  # blobs the scan set out to read
    messages: list[Event]  # commit messages that hold secrets (history.messages)
    message_count: int  # commit messages scanned


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
    file_rule = file_rule_test(compiled)
    store = git.GitStore(repo)
    messages = MessageScanner(compiled)

    def run(blobs: list[Blob]) -> Scanned:
        step = (
            start_progress(len(blobs), sum(b.size or 0 for b in blobs)) if start_progress else None
        )
        return scan_blobs(
            store, blobs, compiled, policy, jobs=jobs, progress=step, deadline=deadline
        )

    partial = git.is_partial_clone(repo)
    if plan.mode == "full":
        background = git.Background(repo, plan.log_args)
        try:
            objects = git.blobs_in_pack_order(repo)
            scanned = run(objects)
        except BaseException:
            background.cancel()
            raise
        interesting = set(scanned.by_id) | set(state.blob_findings)
        try:
            # Streamed from disk, keeping only the commits that touch a blob with findings (or
            # a path a file-format rule reads): memory does not grow with the length of history.
            with background.result() as log_file:
                records, count, wanted, submodules = _collect(
                    git.parse_log_file(log_file), interesting, file_rule, messages
                )
        except ScanError:
            rescued = _salvage(repo, plan, scanned.stats)
            messages = MessageScanner(compiled)  # what the failed log gave is listed again
            records, count, wanted, submodules = _collect(
                iter(rescued), interesting, file_rule, messages
            )
        if not scanned.stopped:
            # (an object listed but unreadable is named by the scan already)
            absent = wanted - scanned.done_ids - {b.id for b in objects}
            _name_missing(sorted(absent), partial, scanned.stats)
        return _walked(records, count, submodules, scanned, len(objects), messages)
    stats = Stats()
    try:
        listed = list(git.parse_log(git.run_git(repo, *plan.log_args, stdin=plan.log_stdin)))
    except ScanError:
        listed = _salvage(repo, plan, stats)
    records, count, wanted, submodules = _collect(iter(listed), None, None, messages)
    if not plan.whole:
        wanted |= {
            c.old
            for r in records
            for c in r.changes
            if not git.is_zero(c.old) and c.old_mode != git.SUBMODULE_MODE
        }
    need = wanted - state.scanned
    if partial:
        # A partial clone's missing blobs stay on its promisor remote: asking git for them
        # would fetch them, so only the blobs present are read; the rest are named.
        objects = [b for b in git.blobs_in_pack_order(repo) if b.id in need]
        _name_missing(sorted(need - {b.id for b in objects}), partial, stats)
    else:
        objects = read_order(repo, need)
    scanned = run(objects)
    scanned.stats.add(stats)
    return _walked(records, count, submodules, scanned, len(objects), messages)


def _walked(
    records: list[git.CommitRecord],
    count: int,
    submodules: set[str],
    scanned: Scanned,
    planned: int,
    messages: MessageScanner,
) -> Walked:
    events = messages.finish()
    scanned.stats.errors.extend(messages.errors)
    return Walked(records, count, submodules, scanned, planned, events, messages.messages)


def _salvage(repo: Path, plan: Plan, stats: Stats) -> list[git.CommitRecord]:
    """The readable commits of a history `git log` cannot list whole (see salvage)."""
    rescued = salvage(repo, plan.revisions, plan.log_stdin, whole=plan.whole)
    stats.errors.extend(rescued.errors)
    stats.notes.extend(rescued.notes)
    return rescued.records


def _name_missing(shas: list[str], partial: bool, stats: Stats) -> None:
    """Blobs the history names that the object store lacks: each is named; in a partial clone
    (left on the promisor remote on purpose) as skipped, plus one error, since unscanned."""
    if not shas:
        return
    if not partial:
        stats.errors.extend(f"object {sha} is missing" for sha in shas)
        return
    stats.skipped.extend(Skip(f"blob {sha}", "missing (partial clone)") for sha in shas)
    stats.errors.append(
        f"partial clone: {len(shas)} blob(s) are not present locally and were not scanned "
        "(keyguard never fetches them); run `git fetch --refetch` or audit a full clone"
    )


def _collect(
    stream: Iterator[git.CommitRecord],
    interesting: set[str] | None,
    file_rule: PathTest | None,
    messages: MessageScanner,
) -> tuple[list[git.CommitRecord], int, set[str], set[str]]:
    """(kept records, commit count, blob ids the commits introduce, submodule paths); with
    `interesting`, only commits that touch such a blob or a file-rule path are kept. Every
    commit's message goes to `messages` as it streams past; kept records keep none."""
    kept: list[git.CommitRecord] = []
    wanted: set[str] = set()
    submodules: set[str] = set()
    count = 0
    keep_all = interesting is None
    touched = interesting or set()
    for record in stream:
        count += 1
        messages.add(record)
        keep = keep_all
        for c in record.changes:
            if c.new_mode == git.SUBMODULE_MODE:
                submodules.add(c.path)
            elif not git.is_zero(c.new):
                wanted.add(c.new)
            if not keep and (
                c.new in touched
                or c.old in touched
                or (file_rule is not None and file_rule(c.path))
            ):
                keep = True
        if keep:
            kept.append(replace(record, message=b"") if record.message else record)
    return kept, count, wanted, submodules


PathTest = Callable[[str], bool]


def file_rule_test(compiled: CompiledRuleset) -> PathTest | None:
    """Whether a path is one a keyword-less or `path_first` rule reads (.pgpass, .pypirc): the
    ruleset's path matcher (one hyperscan scan where it is installed), asked once per distinct
    path (a long history changes the same few thousand paths hundreds of thousands of times;
    an alternation of the 34 patterns in `regex` cost 120 us a path, 6 s of ansible's history)."""
    first = frozenset(i for i in compiled.path_first if compiled.path_patterns[i])
    if not first:
        return None
    matcher = compiled.path_matcher
    known: dict[str, bool] = {}

    def test(path: str) -> bool:
        answer = known.get(path)
        if answer is None:
            answer = known[path] = not first.isdisjoint(matcher.matching(path))
        return answer

    return test


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
