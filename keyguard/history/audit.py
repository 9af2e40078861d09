"""Historical audits: plan -> scan -> events -> attribution -> cache, for any history scope.

1. `plan`: which commits to list and how (incremental, full, listed), from the scope and cache.
2. `plan.walk`: `git log --raw` lists each commit's changed paths with old and new blob ids; the
   blobs are read in pack order and scanned once each by the one scan driver, whatever the
   number of commits and paths that contain them.
3. `events`: which change introduced which secret (renames, copies, merges).
4. `attribution`: commit, first seen, age, still in HEAD.
5. `cache`: what was scanned and found, so a re-audit reads only new blobs (never values).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from keyguard.config import DEFAULT_MAX_SIZE
from keyguard.driver import SkipPolicy, Stats, scan_blobs
from keyguard.engine import CompiledRuleset
from keyguard.errors import ScanError, UsageError
from keyguard.freetext import redact_text
from keyguard.history import cache
from keyguard.history.attribution import attribute, secrets_in
from keyguard.history.events import Event, Known, find_events
from keyguard.history.messages import MessageScanner, tag_objects, tag_records
from keyguard.history.plan import StartProgress, file_rule_test, make_plan, walk
from keyguard.model import Blob, Commit, Finding
from keyguard.scope import AllRefs, HistoryScope
from keyguard.signatures import Rule
from keyguard.sources import git


@dataclass(slots=True)
class HistoryStats(Stats):
    """A scan's statistics (`files` counts the blobs scanned) plus the commits listed."""

    commits: int = 0
    messages: int = 0  # commit and tag messages scanned


@dataclass(slots=True)
class Audit:
    findings: list[Finding]
    stats: HistoryStats


@dataclass(frozen=True, slots=True)
class AuditOptions:
    jobs: int = 1
    max_size: int = DEFAULT_MAX_SIZE
    use_cache: bool = True  # a pre-receive hook writes nothing: no cache in quarantine
    # Findings restored from the cache carry only a hash and a preview; `need_values` (for
    # --show-secrets or value allowlists) re-reads their blobs to recover the values.
    need_values: bool = False
    now: datetime | None = None
    deadline: float | None = None  # time.monotonic() after which the scan stops (incomplete)
    progress: StartProgress | None = None


@dataclass(slots=True)
class _Context:
    """What the steps after the scan share: the repository, rules, cache state and findings."""

    repo: Path
    compiled: CompiledRuleset
    policy: SkipPolicy
    state: cache.HistoryCache
    known: Known = field(default_factory=Known)
    stats: HistoryStats = field(default_factory=HistoryStats)


def audit(
    repo: Path, compiled: CompiledRuleset, scope: HistoryScope, options: AuditOptions
) -> Audit:
    started = time.perf_counter()
    stats = HistoryStats()
    try:
        common = git.common_dir(repo)
    except ScanError:
        raise UsageError(f"{repo}: not a git repository") from None
    if isinstance(scope, AllRefs) and not git.has_any_ref(repo):
        stats.notes.append("the repository has no commits yet (unborn HEAD): nothing to audit")
        stats.seconds = time.perf_counter() - started
        return Audit([], stats)
    if git.is_shallow(repo):
        stats.notes.append(
            "shallow clone: history is truncated, only the commits present were audited"
        )
    where = cache.cache_path(common, str(repo.resolve())) if options.use_cache else None
    state = cache.load(where, compiled.ruleset.digest, options.max_size)
    ctx = _Context(repo, compiled, SkipPolicy(options.max_size), state, stats=stats)
    plan = make_plan(repo, scope, state)
    if plan.mode == "incremental":
        stats.notes.append("incremental: reused the cached audit of earlier commits")
    walked = walk(
        repo,
        plan,
        state,
        compiled,
        ctx.policy,
        jobs=options.jobs,
        start_progress=options.progress,
        deadline=options.deadline,
    )
    stats.commits = walked.commits + (state.commits if plan.mode == "incremental" else 0)
    if walked.submodules:
        stats.notes.append(f"{len(walked.submodules)} submodule path(s) not descended into")
    stats.add(walked.scanned.stats)
    _remember(ctx, walked.scanned.done_ids, walked.scanned.by_id)
    ctx.known.by_blob = {**_restore_blobs(state, compiled.rules_by_id), **walked.scanned.by_id}
    # An interrupted or timed-out walk reads no blob it had not reached (incomplete already).
    ctx.known.by_path = _path_rule_findings(ctx, walked.records, not walked.scanned.stopped)
    events = [
        *(
            _restore_events(state.events, compiled.rules_by_id)
            if plan.mode == "incremental"
            else []
        ),
        *find_events(
            walked.records, ctx.known, lambda parent, change: _parent_has(ctx, parent, change)
        ),
        *walked.messages,
    ]
    stats.messages = walked.message_count
    try:
        tags = tag_records(repo) if isinstance(scope, AllRefs) else tag_objects(repo, scope.include)
    except ScanError as exc:
        stats.errors.append(f"annotated tags' messages were not scanned: {exc}")
        tags = []
    events += _tag_events(ctx, events, tags)
    events = _redacted_records(events, compiled)
    if options.need_values:
        events = _with_values(ctx, events)
    held, failure = git.head_blobs(repo)
    if failure is not None:
        stats.errors.append(f"HEAD's tree is not wholly readable ({failure}): in_head may miss")
    in_head = secrets_in(held, ctx.known)
    findings = attribute(events, in_head, options.now or datetime.now(UTC))
    if plan.whole and not stats.errors:
        state.commits = stats.commits
        state.tips = list(plan.tips)
        state.events = [_cached_event(e) for e in events]
    cache.save(where, state)
    stats.seconds = time.perf_counter() - started
    return Audit(findings, stats)


def _remember(ctx: _Context, done: set[str], found: dict[str, list[Finding]]) -> None:
    ctx.state.scanned |= done
    for sha, findings in found.items():
        ctx.state.blob_findings[sha] = [cache.store_finding(f) for f in findings]


def _cached_event(event: Event) -> cache.CachedEvent:
    record = event.record
    return cache.CachedEvent(
        Commit(record.sha, record.author, record.date, record.summary),
        event.change.path,
        [cache.store_finding(f) for f in event.findings],
        event.change.new,
    )


def _tag_events(
    ctx: _Context, events: list[Event], tags: list[tuple[git.CommitRecord, str]]
) -> list[Event]:
    """Annotated tags' messages (an all-refs audit reads every tag, there are few; a range or a
    push the tags among its tips): the events of tags not already among `events` (an
    incremental audit restores those it found before)."""
    seen = {(e.change.new, e.change.path) for e in events}
    scanner = MessageScanner(ctx.compiled)
    for record, path in tags:
        if (record.sha, path) not in seen:
            scanner.add(record, path)
    found = scanner.finish()
    ctx.stats.messages += scanner.messages
    ctx.stats.errors.extend(scanner.errors)
    return found


def _parent_has(ctx: _Context, parent: str, change: git.Change) -> list[Finding]:
    """What a merge's other parent held at the change's path, scanning that blob if need be."""
    sha = git.tree_entry(ctx.repo, parent, change.raw_path or change.path.encode())
    if sha is None:
        return []
    if sha not in ctx.state.scanned:
        extra = scan_blobs(git.GitStore(ctx.repo), [Blob(sha, None)], ctx.compiled, ctx.policy)
        ctx.stats.errors.extend(extra.stats.errors)
        _remember(ctx, extra.done_ids, extra.by_id)
        ctx.known.by_blob.update(extra.by_id)
    return ctx.known.at(sha, change.path)


def _restore_blobs(state: cache.HistoryCache, rules: dict[str, Rule]) -> dict[str, list[Finding]]:
    out: dict[str, list[Finding]] = {}
    for sha, stored in state.blob_findings.items():
        found = [f for f in (cache.load_finding(e, rules, "") for e in stored) if f]
        if found:
            out[sha] = found
    return out


def _redacted_records(events: list[Event], compiled: CompiledRuleset) -> list[Event]:
    """Events whose commit subject and author hold no secret: both reach every report and the
    cache, --show-secrets or not. Only commits with findings are reported, so only their text is
    scanned (once per commit)."""
    done: dict[str, git.CommitRecord] = {}
    out: list[Event] = []
    for event in events:
        record = done.get(event.record.sha)
        if record is None:
            record = replace(
                event.record,
                summary=redact_text(event.record.summary, compiled),
                author=redact_text(event.record.author, compiled),
            )
            done[record.sha] = record
        out.append(replace(event, record=record))
    return out


def _restore_events(cached: list[cache.CachedEvent], rules: dict[str, Rule]) -> list[Event]:
    out: list[Event] = []
    for event in cached:
        record = git.CommitRecord(
            event.commit.sha, (), event.commit.author, event.commit.date, event.commit.summary, ()
        )
        change = git.Change("", "", git.ZERO, event.blob or git.ZERO, "A", event.path)
        found = tuple(f for f in (cache.load_finding(e, rules, "") for e in event.findings) if f)
        if found:
            out.append(Event(record, change, found))
    return out


def _path_rule_findings(
    ctx: _Context, records: list[git.CommitRecord], scan_new: bool = True
) -> dict[tuple[str, str], list[Finding]]:
    """Blobs were scanned once as if at any path. Where one has a finding of a rule limited to
    some paths (.netrc, .pgpass...), its findings depend on the path: rescan it at each path
    it was committed at. There are few such blobs."""
    compiled, state = ctx.compiled, ctx.state
    limited = {r.id for r in compiled.rules if r.paths}
    shas = {
        sha for sha, found in ctx.known.by_blob.items() if any(f.rule_id in limited for f in found)
    }
    pairs = {(c.new, c.path) for r in records for c in r.changes if c.new in shas}
    file_rule = file_rule_test(compiled)
    if file_rule is not None:
        # Keyword-less and `path_first` rules (.pgpass, .pypirc) never ran at "any path": blobs
        # at their paths. One alternation, one search per changed path.
        pairs |= {
            (c.new, c.path)
            for r in records
            for c in r.changes
            if not git.is_zero(c.new) and c.new_mode != git.SUBMODULE_MODE and file_rule(c.path)
        }
    todo = [p for p in pairs if f"{p[0]}\0{p[1]}" not in state.path_findings]
    if not scan_new:  # only blobs the walk read before it stopped
        todo = [p for p in todo if p[0] in state.scanned]
    out = scan_at_paths(ctx, todo)
    for (sha, path), found in out.items():
        state.path_findings[f"{sha}\0{path}"] = [cache.store_finding(f) for f in found]
    # Earlier audits' entries too: an incremental run still needs them for `in_head`.
    for key, stored in state.path_findings.items():
        sha, _, path = key.partition("\0")
        if (sha, path) not in out:
            loaded = (cache.load_finding(e, compiled.rules_by_id, path) for e in stored)
            out[(sha, path)] = [f for f in loaded if f]
    return out


def scan_at_paths(
    ctx: _Context, pairs: list[tuple[str, str]]
) -> dict[tuple[str, str], list[Finding]]:
    """Findings of blobs scanned at given paths (an empty list for a blob with none)."""
    blobs = [Blob(sha, path) for sha, path in sorted(pairs)]
    scanned = scan_blobs(git.GitStore(ctx.repo), blobs, ctx.compiled, ctx.policy)
    return {(b.id, b.path or ""): scanned.findings.get(b, []) for b in blobs}


def _with_values(ctx: _Context, events: list[Event]) -> list[Event]:
    """Events whose findings came from the cache get their secret values back from the blob."""
    todo = {
        (e.change.new, e.change.path)
        for e in events
        if not git.is_zero(e.change.new) and any(not f.has_value for f in e.findings)
    }
    if not todo:
        return events
    values = {
        pair: {f.secret_hash: f.secret for f in found}
        for pair, found in scan_at_paths(ctx, list(todo)).items()
    }
    out: list[Event] = []
    for event in events:
        known = values.get((event.change.new, event.change.path), {})
        findings = tuple(
            replace(f, secret=known[f.secret_hash], known_hash=None, known_preview=None)
            if not f.has_value and f.secret_hash in known
            else f
            for f in event.findings
        )
        out.append(Event(event.record, event.change, findings))
    return out
