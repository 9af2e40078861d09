"""Historical audits: every blob in the scope's history scanned once, findings turned into leak events.

1. `git log --raw` over the scope lists, per commit, each path's old and new blob ids.
2. The wanted blobs are read in pack order by one `git cat-file --batch` per worker and scanned
   once each, whatever the number of commits and paths that contain them.
3. Events: a commit introduces a secret at a path when its new blob holds the secret and neither
   the old blob at that path, nor a blob the same commit deleted (a rename or move), nor (for a
   merge) the other parents' version did. So a re-add after removal and a copy to another path are
   new events, a pure rename is not, and a merge only counts for what it added itself.
"""

from __future__ import annotations

import multiprocessing
import signal
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

import regex

from keyguard import history_cache
from keyguard.engine import CompiledRuleset, scan
from keyguard.errors import ScanError, UsageError
from keyguard.model import Commit, Finding
from keyguard.scanner import Stats, scan_content
from keyguard.signatures import Rule
from keyguard.sources import git
from keyguard.sources.worktree import is_binary


@dataclass(slots=True)
class HistoryStats(Stats):
    """A scan's statistics (`files` counts the blobs scanned) plus what history adds."""

    commits: int = 0
    notes: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Audit:
    findings: list[Finding]
    stats: HistoryStats


def scope_args(branch: str | None, rev_range: str | None, since: str | None) -> list[str]:
    chosen = [x for x in (branch, rev_range, since) if x is not None]
    if len(chosen) > 1:
        raise UsageError("use only one of --branch, --range and --since")
    if branch is not None:
        return ["branch", branch]
    if rev_range is not None:
        return ["range", rev_range]
    if since is not None:
        return ["since", since]
    return ["--all"]


def resolve_scope(repo: Path, scope: Sequence[str]) -> list[str]:
    """`git log` revisions for a scope, every user-given revision verified to name a commit
    (so a value such as `--output=x` can never reach git as an option)."""
    if list(scope) == ["--all"]:
        return ["--all", *git.stash_entries(repo)]
    kind, value = scope
    if kind == "branch":
        return [git.verify_revision(repo, value)]
    if kind == "since":
        return ["--all", *git.stash_entries(repo), f"^{git.verify_revision(repo, value)}"]
    separator = "..." if "..." in value else ".."
    if separator not in value:
        raise UsageError(f"--range takes A..B (got {value!r})")
    left, _, right = value.partition(separator)
    ends = [git.verify_revision(repo, end or "HEAD") for end in (left, right)]
    if separator == "...":
        bases = git.run_git(repo, "merge-base", "--all", *ends, check=False).decode().split()
        return [*ends, "--not", *bases]
    return [ends[1], f"^{ends[0]}"]


_COMPILED: CompiledRuleset | None = None
_REPO: Path | None = None
_MAX_SIZE = 0

Progress = Callable[[int, int], None]  # (blobs done, bytes done)


def _worker_init() -> None:
    # Ctrl-C is the parent's to handle: it stops the pool and keeps what finished.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _scan_chunk(shas: Sequence[str]) -> tuple[dict[str, list[Finding]], HistoryStats, list[str]]:
    assert _COMPILED is not None and _REPO is not None
    found: dict[str, list[Finding]] = {}
    stats = HistoryStats()
    done: list[str] = []
    reader = git.BlobReader(_REPO, shas)
    try:
        for sha, data in reader:
            if data is None:
                stats.errors.append(f"object {sha} is missing")
                continue
            done.append(sha)
            if len(data) > _MAX_SIZE:
                stats.skipped["too large"] += 1
                continue
            findings = scan_content(data, None, f"blob {sha}", _COMPILED, stats)
            if findings:
                found[sha] = findings
    except ScanError as exc:
        stats.errors.append(str(exc))
    finally:
        reader.close()
    return found, stats, done


def _chunks(objects: Sequence[git.ObjectInfo], parts: int) -> list[list[str]]:
    """Contiguous runs of the pack order (locality), about equal in bytes."""
    total = sum(o.size for o in objects) or len(objects) or 1
    target = max(total // parts, 1)
    chunks: list[list[str]] = [[]]
    size = 0
    for obj in objects:
        if size >= target and len(chunks) < parts:
            chunks.append([])
            size = 0
        chunks[-1].append(obj.sha)
        size += obj.size or 1
    return [c for c in chunks if c]


@dataclass(slots=True)
class BlobScan:
    findings: dict[str, list[Finding]]
    stats: HistoryStats
    done: set[str]
    interrupted: bool = False


def scan_blobs(
    repo: Path,
    objects: Sequence[git.ObjectInfo],
    compiled: CompiledRuleset,
    jobs: int,
    max_size: int,
    progress: Progress | None = None,
) -> BlobScan:
    global _COMPILED, _REPO, _MAX_SIZE
    _COMPILED, _REPO, _MAX_SIZE = compiled, repo, max_size
    out = BlobScan({}, HistoryStats(), set())
    parts = max(jobs * 4, min(128, len(objects) // 2000))
    chunks = _chunks(objects, parts)
    parallel = jobs > 1 and len(chunks) > 1 and "fork" in multiprocessing.get_all_start_methods()
    pool = multiprocessing.get_context("fork").Pool(jobs, _worker_init) if parallel else None
    try:
        results = (
            pool.imap_unordered(_scan_chunk, chunks) if pool else (_scan_chunk(c) for c in chunks)
        )
        for chunk_found, stats, done in results:
            out.findings.update(chunk_found)
            out.done.update(done)
            out.stats.files += stats.files
            out.stats.bytes += stats.bytes
            out.stats.skipped.update(stats.skipped)
            out.stats.errors.extend(stats.errors)
            if progress is not None:
                progress(len(out.done), out.stats.bytes)
    except KeyboardInterrupt:
        out.interrupted = True
    finally:
        if pool is not None:
            pool.terminate()
            pool.join()
    return out


def audit(
    repo: Path,
    compiled: CompiledRuleset,
    scope: Sequence[str],
    *,
    jobs: int,
    max_size: int,
    now: datetime | None = None,
    use_cache: bool = True,
    progress: Callable[[int, int], Progress] | None = None,
    need_values: bool = False,
) -> Audit:
    """Audit the scope's history. `progress(total_blobs, total_bytes)` returns a per-step callback.

    Findings restored from the cache carry only a hash and a preview; `need_values` (for
    --show-secrets or value allowlists) re-reads their blobs to recover the values."""
    started = time.perf_counter()
    stats = HistoryStats()
    try:
        common = git.common_dir(repo)
    except ScanError:
        raise UsageError(f"{repo}: not a git repository") from None
    if not git.has_any_ref(repo):
        stats.notes.append("the repository has no commits yet (unborn HEAD): nothing to audit")
        stats.seconds = time.perf_counter() - started
        return Audit([], stats)
    if git.is_shallow(repo):
        stats.notes.append(
            "shallow clone: history is truncated, only the commits present were audited"
        )
    rules = compiled.rules_by_id
    where = history_cache.cache_path(common, str(repo.resolve())) if use_cache else None
    state = history_cache.load(where, compiled.ruleset.digest, max_size)
    whole = list(scope) == ["--all"]
    file_rule = _file_rule_regex(compiled)
    revs = resolve_scope(repo, scope)
    tips = git.ref_tips(repo) if whole else []
    old_events: list[history_cache.CachedEvent] = []
    background: git.Background | None = None
    log_file: BinaryIO | None = None
    log = b""
    if whole and state.tips and git.all_reachable(repo, state.tips, tips):
        # Only the commits added since the last complete audit need their changes listed.
        old_events = state.events
        lines = "\n".join([*tips, *(f"^{sha}" for sha in state.tips)]) + "\n"
        log = git.run_git(repo, *git.log_command(["--stdin"]), stdin=lines.encode())
        stats.notes.append("incremental: reused the cached audit of earlier commits")
    elif whole and not state.scanned:
        # A first full audit wants (nearly) every blob: list the commits in the background
        # while every blob is scanned, instead of one after the other.
        background = git.Background(repo, git.log_command(revs))
        try:
            objects = git.blobs_in_pack_order(repo)
            step = progress(len(objects), sum(o.size for o in objects)) if progress else None
            scanned = scan_blobs(repo, objects, compiled, jobs, max_size, step)
        except BaseException:
            background.cancel()
            raise
        log_file = background.result()
    else:
        log = git.run_git(repo, *git.log_command(revs))
    if log_file is not None:
        # Streamed from disk, keeping only the commits that touch a blob with findings (or a
        # path a file-format rule reads): memory does not grow with the length of history.
        interesting = set(scanned.findings) | set(state.blob_findings)
        with log_file:
            collected = _collect(git.parse_log_file(log_file), interesting, file_rule)
    else:
        collected = _collect(git.parse_log(log), None, None)
    records, count, wanted, submodules = collected
    stats.commits = count + (state.commits if old_events else 0)
    if not whole:
        # A scoped audit must also know what the versions before its first commits held, or an
        # edit next to an old secret would look like its introduction.
        wanted |= {
            c.old
            for r in records
            for c in r.changes
            if c.old != git.ZERO and c.old_mode != git.SUBMODULE_MODE
        }
    if submodules:
        stats.notes.append(f"{len(submodules)} submodule path(s) not descended into")
    if background is None:
        objects = _read_order(repo, wanted - state.scanned)
        step = progress(len(objects), sum(o.size for o in objects)) if progress else None
        scanned = scan_blobs(repo, objects, compiled, jobs, max_size, step)
    elif not scanned.interrupted:
        for sha in sorted(wanted - scanned.done):
            stats.errors.append(f"object {sha} is missing")
    stats.files, stats.bytes = scanned.stats.files, scanned.stats.bytes
    stats.skipped.update(scanned.stats.skipped)
    stats.errors.extend(scanned.stats.errors)
    state.scanned |= scanned.done
    for sha, found in scanned.findings.items():
        state.blob_findings[sha] = [history_cache.store_finding(f) for f in found]
    blob_findings = _restore_blobs(state, rules)
    blob_findings.update(scanned.findings)  # scanned now: these still hold their values
    if scanned.interrupted:
        stats.errors.append(
            f"interrupted: {len(scanned.done)} of {len(objects)} blobs scanned; "
            "findings so far are reported"
        )
    path_findings = _path_rule_findings(
        repo, records, compiled, file_rule, state, blob_findings, max_size
    )

    def findings_of(sha: str, path: str) -> list[Finding]:
        """Findings of any blob, scanning it now if it was not (a merge parent's version)."""
        if sha not in state.scanned:
            extra = scan_blobs(repo, [git.ObjectInfo(sha, 0)], compiled, 1, max_size)
            state.scanned |= extra.done
            for found_sha, found in extra.findings.items():
                state.blob_findings[found_sha] = [history_cache.store_finding(f) for f in found]
                blob_findings[found_sha] = found
        return _blob_findings_at(sha, path, blob_findings, path_findings)

    events = [
        *_restore_events(old_events, rules),
        *_events(repo, records, blob_findings, path_findings, findings_of),
    ]
    if need_values:
        events = _with_values(repo, events, compiled, max_size)
    findings = _attribute(repo, events, blob_findings, path_findings, now or datetime.now(UTC))
    if whole and not stats.errors:
        state.commits = stats.commits
        state.tips = tips
        state.events = [
            history_cache.CachedEvent(
                Commit(e.record.sha, e.record.author, e.record.date, e.record.summary),
                e.change.path,
                [history_cache.store_finding(f) for f in e.findings],
                e.change.new,
            )
            for e in events
        ]
    history_cache.save(where, state)
    stats.seconds = time.perf_counter() - started
    return Audit(findings, stats)


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
            elif c.new != git.ZERO:
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


def _file_rule_regex(compiled: CompiledRuleset) -> regex.Pattern[str] | None:
    """One alternation of the paths of keyword-less file-format rules (.pgpass...)."""
    patterns = [p.pattern for i in compiled.path_only for p in compiled.path_patterns[i]]
    return regex.compile("|".join(f"(?:{p})" for p in patterns)) if patterns else None


def _read_order(repo: Path, need: set[str]) -> list[git.ObjectInfo]:
    """The blobs to read, in pack order when there are many (reading in pack order is ~5x faster)."""
    if not need:
        return []
    if len(need) < 2000:
        return [git.ObjectInfo(sha, 0) for sha in sorted(need)]
    ordered = [o for o in git.blobs_in_pack_order(repo) if o.sha in need]
    listed = {o.sha for o in ordered}
    # Anything not in the listing is missing: the reader reports it as such.
    return ordered + [git.ObjectInfo(sha, 0) for sha in sorted(need - listed)]


def _restore_blobs(
    state: history_cache.HistoryCache, rules: dict[str, Rule]
) -> dict[str, list[Finding]]:
    out: dict[str, list[Finding]] = {}
    for sha, stored in state.blob_findings.items():
        found = [f for f in (history_cache.load_finding(e, rules, "") for e in stored) if f]
        if found:
            out[sha] = found
    return out


def _with_values(
    repo: Path, events: list[_Event], compiled: CompiledRuleset, max_size: int
) -> list[_Event]:
    """Events whose findings came from the cache get their secret values back from the blob."""
    todo = {
        (e.change.new, e.change.path)
        for e in events
        if e.change.new != git.ZERO and any(not f.has_value for f in e.findings)
    }
    if not todo:
        return events
    values = {
        pair: {f.secret_hash: f.secret for f in found}
        for pair, found in _scan_at_paths(repo, list(todo), compiled, max_size).items()
    }
    out: list[_Event] = []
    for event in events:
        known = values.get((event.change.new, event.change.path), {})
        findings = tuple(
            replace(f, secret=known[f.secret_hash], known_hash=None, known_preview=None)
            if not f.has_value and f.secret_hash in known
            else f
            for f in event.findings
        )
        out.append(_Event(event.record, event.change, findings))
    return out


def _restore_events(
    cached: Sequence[history_cache.CachedEvent], rules: dict[str, Rule]
) -> list[_Event]:
    out: list[_Event] = []
    for event in cached:
        record = git.CommitRecord(
            event.commit.sha, (), event.commit.author, event.commit.date, event.commit.summary, ()
        )
        change = git.Change("", "", git.ZERO, event.blob or git.ZERO, "A", event.path)
        found = tuple(
            f for f in (history_cache.load_finding(e, rules, "") for e in event.findings) if f
        )
        if found:
            out.append(_Event(record, change, found))
    return out


def _path_rule_findings(
    repo: Path,
    records: Sequence[git.CommitRecord],
    compiled: CompiledRuleset,
    file_rule: regex.Pattern[str] | None,
    state: history_cache.HistoryCache,
    blob_findings: dict[str, list[Finding]],
    max_size: int,
) -> dict[tuple[str, str], list[Finding]]:
    """Blobs were scanned once as if at any path. Where one has a finding of a rule limited to
    some paths (.netrc, .pgpass...), its findings depend on the path: rescan it at each path
    it was committed at. There are few such blobs."""
    limited = {r.id for r in compiled.rules if r.paths}
    shas = {sha for sha, found in blob_findings.items() if any(f.rule_id in limited for f in found)}
    pairs = {(c.new, c.path) for r in records for c in r.changes if c.new in shas}
    if file_rule is not None:
        # Keyword-less file-format rules (.pgpass) never ran at "any path": blobs at their
        # paths. One alternation, one search per changed path.
        pairs |= {
            (c.new, c.path)
            for r in records
            for c in r.changes
            if c.new != git.ZERO and c.new_mode != git.SUBMODULE_MODE and file_rule.search(c.path)
        }
    out = _scan_at_paths(
        repo, [p for p in pairs if f"{p[0]}\0{p[1]}" not in state.path_findings], compiled, max_size
    )
    for (sha, path), found in out.items():
        state.path_findings[f"{sha}\0{path}"] = [history_cache.store_finding(f) for f in found]
    # Earlier audits' entries too: an incremental run still needs them for `in_head`.
    for key, stored in state.path_findings.items():
        sha, _, path = key.partition("\0")
        if (sha, path) not in out:
            loaded = (history_cache.load_finding(e, compiled.rules_by_id, path) for e in stored)
            out[(sha, path)] = [f for f in loaded if f]
    return out


def _scan_at_paths(
    repo: Path, pairs: Sequence[tuple[str, str]], compiled: CompiledRuleset, max_size: int
) -> dict[tuple[str, str], list[Finding]]:
    """Findings of blobs scanned at given paths (one `git cat-file` for all of them)."""
    out: dict[tuple[str, str], list[Finding]] = {}
    todo = sorted(pairs)
    if not todo:
        return out
    reader = git.BlobReader(repo, [sha for sha, _ in todo])
    try:
        for (sha, path), (_, data) in zip(todo, reader, strict=False):
            found: list[Finding] = []
            if data is not None and len(data) <= max_size and not is_binary(data):
                found = scan(data, path, compiled).findings
            out[(sha, path)] = found
    finally:
        reader.close()
    return out


def _blob_findings_at(
    sha: str,
    path: str,
    blob_findings: dict[str, list[Finding]],
    path_findings: dict[tuple[str, str], list[Finding]],
) -> list[Finding]:
    found = path_findings.get((sha, path))
    if found is not None:
        return found
    return blob_findings.get(sha, [])


def _secrets(findings: Sequence[Finding]) -> set[str]:
    # By value (its hash), not by rule: unquoting `password: "X"` changes the matching rule, not
    # the leak.
    return {f.secret_hash for f in findings}


@dataclass(frozen=True, slots=True)
class _Event:
    record: git.CommitRecord
    change: git.Change
    findings: tuple[Finding, ...]


def _events(
    repo: Path,
    records: Sequence[git.CommitRecord],
    blob_findings: dict[str, list[Finding]],
    path_findings: dict[tuple[str, str], list[Finding]],
    findings_of: Callable[[str, str], list[Finding]],
) -> list[_Event]:
    events: list[_Event] = []
    merge_lookups: list[tuple[int, str, git.Change]] = []  # (event index, parent, change)
    with_findings = set(blob_findings) | {sha for sha, _ in path_findings}
    for record in records:
        interesting = [c for c in record.changes if c.new in with_findings]
        if not interesting:
            continue
        # Secrets this commit deleted elsewhere: each may move once (a rename), so a delete
        # plus two adds is one rename and one copy.
        moved: Counter[str] = Counter()
        for change in record.changes:
            if change.status == "D" or change.new == git.ZERO:
                moved.update(
                    _secrets(
                        _blob_findings_at(change.old, change.path, blob_findings, path_findings)
                    )
                )
        for change in sorted(interesting, key=lambda c: c.path):
            found = _blob_findings_at(change.new, change.path, blob_findings, path_findings)
            before = _secrets(
                _blob_findings_at(change.old, change.path, blob_findings, path_findings)
            )
            new: list[Finding] = []
            taken: set[str] = set()
            for finding in found:
                key = finding.secret_hash
                if key in before:
                    continue
                if key in taken or moved[key] > 0:
                    if key not in taken:
                        moved[key] -= 1
                        taken.add(key)
                    continue
                new.append(finding)
            if not new:
                continue
            events.append(_Event(record, change, tuple(new)))
            for parent in record.parents[1:]:
                merge_lookups.append((len(events) - 1, parent, change))
    if merge_lookups:
        events = _drop_merged(repo, events, merge_lookups, findings_of)
    return events


def _drop_merged(
    repo: Path,
    events: list[_Event],
    lookups: list[tuple[int, str, git.Change]],
    findings_of: Callable[[str, str], list[Finding]],
) -> list[_Event]:
    """A merge introduces only what none of its other parents had at the same path."""
    known: dict[int, set[str]] = {}
    for index, parent, change in lookups:
        sha = git.tree_entry(repo, parent, change.raw_path or change.path.encode())
        if sha is not None:
            known.setdefault(index, set()).update(_secrets(findings_of(sha, change.path)))
    kept: list[_Event] = []
    for index, event in enumerate(events):
        had = known.get(index, set())
        remaining = tuple(f for f in event.findings if f.secret_hash not in had)
        if remaining:
            kept.append(_Event(event.record, event.change, remaining))
    return kept


def _attribute(
    repo: Path,
    events: Sequence[_Event],
    blob_findings: dict[str, list[Finding]],
    path_findings: dict[tuple[str, str], list[Finding]],
    now: datetime,
) -> list[Finding]:
    head = git.head_blobs(repo)
    in_head: set[str] = set()
    for sha in head & set(blob_findings):
        in_head.update(f.secret_hash for f in blob_findings[sha])
    for (sha, _), found in path_findings.items():
        if sha in head:
            in_head.update(f.secret_hash for f in found)
    first_seen: dict[str, str] = {}
    for event in events:
        for finding in event.findings:
            key = finding.secret_hash
            date = _utc(event.record.date)
            if key not in first_seen or date < first_seen[key]:
                first_seen[key] = date
    out: list[Finding] = []
    for event in events:
        record = event.record
        commit = Commit(record.sha, record.author, record.date, record.summary)
        for finding in event.findings:
            seen = first_seen[finding.secret_hash]
            age = (now - datetime.fromisoformat(seen)).days
            out.append(
                replace(
                    finding,
                    path=event.change.path,
                    commit=commit,
                    first_seen=seen,
                    age_days=max(age, 0),
                    in_head=finding.secret_hash in in_head,
                )
            )
    out.sort(key=lambda f: (f.first_seen or "", f.commit.date if f.commit else "", f.path, f.line))
    return out


def _utc(date: str) -> str:
    return datetime.fromisoformat(date).astimezone(UTC).isoformat().replace("+00:00", "Z")
