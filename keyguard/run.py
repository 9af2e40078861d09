"""Glue for the commands: config + rules + source + engine + reporter -> exit code."""

from __future__ import annotations

import contextlib
import os
import re
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from keyguard import baseline as baseline_mod
from keyguard import config as config_mod
from keyguard import digest
from keyguard.console import make_console, use_color, write_report
from keyguard.driver import BlobStore, SkipPolicy, Stats, default_jobs, scan_blobs
from keyguard.engine import CompiledRuleset, compile_ruleset
from keyguard.errors import ConfigError, ExitCode, UsageError
from keyguard.hygiene import ASSESSMENTS, assess
from keyguard.model import LEAK_CATEGORIES, Blob, Finding, is_utf8
from keyguard.remediation import Catalogue, Playbook
from keyguard.report import RenderOptions, Report, render
from keyguard.report.model import printable
from keyguard.signatures import Ruleset, load_builtin
from keyguard.sources import git
from keyguard.sources.worktree import (
    FileStore,
    Listing,
    MemoryStore,
    ignored_notes,
    not_scanned,
    walk,
)


@dataclass(frozen=True, slots=True)
class ScanRequest:
    targets: tuple[str, ...]
    output_format: str = "text"
    output: Path | None = None
    show_secrets: bool = False
    all_files: bool = False
    max_file_size: str | None = None
    config: Path | None = None
    no_config: bool = False
    jobs: int = 0
    matcher: str = "auto"
    baseline: Path | None = None
    rules: tuple[Path, ...] = ()  # --rules: the user's rule files (anywhere: the user's choice)


def load_config(explicit: Path | None, no_config: bool, root: Path) -> config_mod.Config:
    if no_config:
        return config_mod.Config()
    if explicit is not None:
        if not explicit.is_file():
            raise ConfigError(f"{explicit}: configuration file not found")
        return _noted(config_mod.load(explicit))
    found = config_mod.discover(root)
    return _noted(config_mod.load(found)) if found else config_mod.Config()


MAX_NOTES = 10  # said on every scan: a long list (a copied default configuration) is cut


def _noted(cfg: config_mod.Config) -> config_mod.Config:
    """What an imported gitleaks file did not translate exactly is said, never dropped."""
    for note in cfg.notes[:MAX_NOTES]:
        print(f"keyguard: note: {printable(note)}", file=sys.stderr)
    if len(cfg.notes) > MAX_NOTES:
        print(
            f"keyguard: note: ... and {len(cfg.notes) - MAX_NOTES} more about the gitleaks "
            "files; `keyguard import gitleaks -o - >/dev/null` lists them all",
            file=sys.stderr,
        )
    return cfg


def max_file_size(option: str | None, cfg: config_mod.Config) -> int:
    """--max-file-size wins over the configuration's max_file_size."""
    if option is None:
        return cfg.max_file_size
    return config_mod.parse_size(option, "--max-file-size")


def build_rules(cfg: config_mod.Config, matcher: str) -> CompiledRuleset:
    rules = load_builtin() if cfg.extend_default else []
    known = {r.id for r in rules} | {r.id for r in cfg.rules} | set(ASSESSMENTS)
    unknown = sorted(cfg.disabled - known)
    if unknown:
        raise ConfigError(f"{cfg.source}: `disable` names unknown rule(s): {', '.join(unknown)}")
    unknown = sorted(set(cfg.allow_by_rule) - known)
    if unknown:
        raise ConfigError(
            f"{cfg.source}: [allow.rules] names unknown rule(s): {', '.join(unknown)}"
        )
    overridden = {r.id for r in cfg.rules}
    merged = [r for r in rules if r.id not in overridden] + list(cfg.rules)
    active = [r for r in merged if r.id not in cfg.disabled]
    if not active:
        # A scan without rules would always pass; that is a configuration mistake.
        raise ConfigError(f"{cfg.source}: no rules left to run (all rules are disabled)")
    try:
        return compile_ruleset(Ruleset.of(active), matcher)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


@dataclass(frozen=True, slots=True)
class Settings:
    """What every command needs before it scans: the configuration, the compiled rules, the
    size cap."""

    cfg: config_mod.Config
    compiled: CompiledRuleset
    max_size: int
    playbooks: Mapping[str, Playbook]
    baseline: baseline_mod.Baseline | None = None


def prepare(
    config: Path | None,
    no_config: bool,
    root: Path,
    matcher: str,
    max_size: str | None,
    baseline: Path | None = None,
    rule_files: Sequence[Path] = (),
) -> Settings:
    """`config` (or the one found at `root` unless `no_config`) plus `rule_files`, their rules
    compiled once, and the baseline, if one is named."""
    digest.check()  # a bad KEYGUARD_DIGEST_KEY is a usage error before any scanning
    cfg = config_mod.add_rule_files(load_config(config, no_config, root), rule_files)
    compiled = build_rules(cfg, matcher)
    playbooks = Catalogue(cfg.playbooks)
    known = baseline_mod.load(baseline) if baseline is not None else None
    return Settings(cfg, compiled, max_file_size(max_size, cfg), playbooks, known)


def run_scan(request: ScanRequest) -> int:
    report = scan_report(request)
    # A file the user named that the policy passed over (a size cap, binary content) is said:
    # exit 0 alone would read as "no secrets in big.bin".
    for note in not_scanned(request.targets, report.skipped_items):
        print(f"keyguard: note: {printable(note)}", file=sys.stderr)
    for note in report.extra.get("notes", []) if report.extra else []:
        print(f"keyguard: note: {printable(str(note))}", file=sys.stderr)
    emit(report, request.output_format, request.output, request.show_secrets)
    return exit_code(report)


def scan_report(request: ScanRequest) -> Report:
    stdin = request.targets == ("-",)
    root = Path.cwd() if stdin else Path(request.targets[0])
    ready = prepare(
        request.config,
        request.no_config,
        root,
        request.matcher,
        request.max_file_size,
        request.baseline,
        request.rules,
    )
    compiled, max_size = ready.compiled, ready.max_size
    store: BlobStore
    if stdin:
        data = sys.stdin.buffer.read()
        listing = Listing([Blob("-", "<stdin>", len(data))])
        store = MemoryStore({"-": data})
    else:
        listing = walk([Path(t) for t in request.targets], all_files=request.all_files)
        if not listing.blobs and listing.errors and len(listing.errors) == len(request.targets):
            raise UsageError("; ".join(listing.errors))
        store = FileStore(max_size)
    scanned = scan_blobs(
        store,
        listing.blobs,
        compiled,
        SkipPolicy(max_size),
        jobs=request.jobs or default_jobs(),
    )
    stats = Stats(
        skipped=list(listing.skipped),
        errors=list(listing.errors),
        notes=ignored_notes(listing.ignored),
    )
    stats.add(scanned.stats)
    stats.seconds = scanned.stats.seconds
    found = [f for blob_findings in scanned.findings.values() for f in blob_findings]
    found.sort(key=lambda f: (f.path, f.line, f.column, f.rule_id))
    return make_report(
        "worktree",
        request.targets,
        finish(found, ready),
        stats,
        ready,
        extra={"notes": list(stats.notes)} if stats.notes else None,
        raw_paths=worktree_raw_paths(listing.blobs),
    )


@dataclass(frozen=True, slots=True)
class Finished:
    findings: list[Finding]
    baseline: baseline_mod.Applied | None = None


def finish(findings: list[Finding], ready: Settings) -> Finished:
    """The one stage after the engine, for every command: configuration allowlists drop what
    is allowed, key hygiene adds what the rest tells (age, reuse, weak keys), and the baseline
    drops what the team already knows (naming its entries that no longer match)."""
    cfg = ready.cfg
    kept = assess([f for f in findings if not cfg.is_allowed(f)], cfg.rotation_days, cfg.disabled)
    if ready.baseline is None:
        return Finished(kept)
    applied = baseline_mod.apply(kept, ready.baseline)
    return Finished(applied.kept, applied)


@dataclass(frozen=True, slots=True)
class HistoryRequest:
    repo: Path
    branch: str | None = None
    rev_range: str | None = None
    since: str | None = None
    output_format: str = "text"
    output: Path | None = None
    show_secrets: bool = False
    max_file_size: str | None = None
    config: Path | None = None
    no_config: bool = False
    jobs: int = 0
    matcher: str = "auto"
    no_cache: bool = False
    baseline: Path | None = None


def run_history(request: HistoryRequest) -> int:
    report = history_report(request)
    for note in report.extra.get("notes", []) if report.extra else []:
        print(f"keyguard: note: {printable(str(note))}", file=sys.stderr)
    emit(report, request.output_format, request.output, request.show_secrets)
    return exit_code(report)


def history_report(request: HistoryRequest) -> Report:
    from keyguard import scope
    from keyguard.history import AuditOptions, audit

    if not request.repo.exists():
        raise UsageError(f"{request.repo}: no such directory")
    ready = prepare(
        request.config,
        request.no_config,
        request.repo,
        request.matcher,
        request.max_file_size,
        request.baseline,
    )
    cfg, compiled = ready.cfg, ready.compiled
    if not git.is_repository(request.repo):
        raise UsageError(f"{request.repo}: not a git repository")
    chosen = scope.from_options(request.repo, request.branch, request.rev_range, request.since)
    with progress_bar(enabled=sys.stderr.isatty()) as progress:
        result = audit(
            request.repo,
            compiled,
            chosen,
            AuditOptions(
                jobs=request.jobs or default_jobs(),
                max_size=ready.max_size,
                use_cache=not request.no_cache,
                progress=progress,
                # Value allowlists and baselines compare values: cached findings have none.
                need_values=request.show_secrets
                or cfg.has_value_allowlists
                or ready.baseline is not None,
            ),
        )
    stats = result.stats
    finished = finish(result.findings, ready)
    return make_report(
        "history",
        (str(request.repo),),
        finished,
        stats,
        ready,
        extra={
            "commits": stats.commits,
            "messages": stats.messages,
            "blobs": stats.files,
            "notes": list(stats.notes),
        },
        raw_paths=history_raw_paths(request.repo, finished.findings),
    )


def worktree_raw_paths(blobs: Sequence[Blob]) -> dict[str, bytes]:
    """The reported paths of files whose names are not UTF-8, and their bytes.

    The OS gives such a name back with surrogate escapes (os.fsdecode) and the report shows
    U+FFFD for them, but the blob's id, the name the file is read by, still holds the bytes:
    the reported path is its last components. Two names shown alike are left out (which is
    which cannot be told).
    """
    found: dict[str, bytes] = {}
    alike: set[str] = set()
    for blob in blobs:
        if blob.path is None or "\ufffd" not in blob.path:
            continue
        parts = os.fsencode(blob.id).split(b"/")
        raw = b"/".join(parts[-(blob.path.count("/") + 1) :])
        if is_utf8(raw) or raw.decode("utf-8", "replace") != blob.path:
            continue
        if found.setdefault(blob.path, raw) != raw:
            alike.add(blob.path)
    return {path: raw for path, raw in found.items() if path not in alike}


_BYTE_ESCAPE = re.compile(rb"\\x([0-9a-f]{2})")


def history_raw_paths(repo: Path, findings: Sequence[Finding]) -> dict[str, bytes]:
    """The reported paths of history findings whose names are not UTF-8, and their bytes.

    git paths are reported with a `\\xNN` escape for each byte that is not UTF-8
    (git.decode_path). Such a path is turned back into bytes and kept only if the commit that
    added the finding holds that name: a name that really has the characters `\\xe9` in it
    is not mistaken for one with the byte.
    """
    found: dict[str, bytes] = {}
    for finding in findings:
        commit = finding.commit
        if commit is None or finding.path in found or "\\x" not in finding.path:
            continue
        raw = _BYTE_ESCAPE.sub(
            lambda m: bytes([int(m[1], 16)]), finding.path.encode("utf-8", "surrogateescape")
        )
        if not is_utf8(raw) and git.tree_entry(repo, commit.sha, raw) is not None:
            found[finding.path] = raw
    return found


@contextlib.contextmanager
def progress_bar(
    enabled: bool,
) -> Iterator[Callable[[int, int], Callable[[int, int], None]] | None]:
    """A rich progress bar on a terminal (stderr); nothing at all on a pipe."""
    if not enabled:
        yield None
        return
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    bar = Progress(
        TextColumn("scanning blobs"),
        BarColumn(),
        MofNCompleteColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=make_console(stderr=True),
        transient=True,
    )

    def start(total_blobs: int, total_bytes: int) -> Callable[[int, int], None]:
        task = bar.add_task("blobs", total=total_bytes or None)

        def step(blobs: int, done_bytes: int) -> None:
            bar.update(task, completed=done_bytes)

        return step

    with bar:
        yield start


def make_report(
    kind: str,
    targets: tuple[str, ...],
    finished: Finished,
    stats: Stats,
    ready: Settings,
    extra: dict[str, object] | None = None,
    raw_paths: Mapping[str, bytes] | None = None,
) -> Report:
    compiled = ready.compiled
    applied = finished.baseline
    if applied is not None and ready.baseline is not None:
        extra = {
            **(extra or {}),
            "baseline": {
                "file": ready.baseline.source,
                "suppressed": applied.suppressed,
                "stale": [e.line() for e in applied.stale],
            },
        }
    return Report(
        kind=kind,
        targets=targets,
        findings=tuple(finished.findings),
        files=stats.files,
        bytes=stats.bytes,
        skipped=stats.skip_counts,
        skipped_items=tuple(stats.skipped),
        errors=tuple(stats.errors),
        seconds=stats.seconds,
        rules=len(compiled.rules),
        ruleset=compiled.ruleset.digest,
        matcher=compiled.backend.name,
        extra=extra,
        playbooks=ready.playbooks,
        rotation_days=ready.cfg.rotation_days,
        raw_paths=raw_paths or {},
    )


def emit(report: Report, output_format: str, output: Path | None, show_secrets: bool) -> None:
    from keyguard.report.text import summary_line

    color = output_format == "text" and output is None and use_color(sys.stdout)
    text = render(report, output_format, RenderOptions(show_secrets, color))
    if output is None:
        _to_stdout(text, report)
        return
    try:
        # A report that holds secret values is its owner's alone (mode 0600).
        write_report(output, text, private=show_secrets)
    finally:
        # Written or not, what the scan found reaches the user: a failed write is never a
        # silent loss of findings.
        print(summary_line(report), file=sys.stderr)


def _to_stdout(text: str, report: Report) -> None:
    from keyguard.report.text import summary_line

    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        _silence_stdout()  # the reader stopped early (`| head`): its choice, not an error
    except OSError as exc:  # a full disk behind `> report.json`
        _silence_stdout()
        print(summary_line(report), file=sys.stderr)
        raise UsageError(
            f"cannot write the report to standard output: {exc.strerror or exc}"
        ) from None


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so the interpreter's last flush of what is still buffered
    cannot fail again on the way out."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


# What a hook blocks on: credentials and keys. Hygiene findings (a setting such as
# verify=False, an overdue rotation) are reported by hooks but do not stop a commit or a push;
# `scan` and `history`, which audit, fail on every finding.
BLOCKING = LEAK_CATEGORIES


def blocking(
    findings: Sequence[Finding], nonblocking: frozenset[str] = frozenset()
) -> list[Finding]:
    """What stops a commit, a push or a pull request: leaks, not hygiene findings, and not
    leaks in the contexts the configuration lets through (`nonblocking_contexts`)."""
    return [f for f in findings if f.category in BLOCKING and f.context not in nonblocking]


def exit_code(report: Report, hook: bool = False, nonblocking: frozenset[str] = frozenset()) -> int:
    if not report.complete:
        return ExitCode.INCOMPLETE
    counted = blocking(report.findings, nonblocking) if hook else report.findings
    return ExitCode.FINDINGS if counted else ExitCode.CLEAN
