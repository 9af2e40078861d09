"""`keyguard baseline create|update|prune [PATH]`: write the known findings of a scan (or a
history audit) into a baseline, add new ones to it, or drop the entries nothing matches."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

from keyguard import baseline as baseline_mod
from keyguard.errors import ExitCode, UsageError
from keyguard.report.model import Report
from keyguard.sources import git


def _findings_report(path: Path, history: bool, config: Path | None, no_config: bool) -> Report:
    from keyguard.run import HistoryRequest, ScanRequest, history_report, scan_report

    if history:
        # show_secrets only so that cached findings get their values back: nothing is printed.
        return history_report(
            HistoryRequest(repo=path, config=config, no_config=no_config, show_secrets=True)
        )
    return scan_report(ScanRequest(targets=(str(path),), config=config, no_config=no_config))


def run_baseline(
    action: str,
    path: Path,
    *,
    output: Path | None,
    history: bool,
    force: bool,
    config: Path | None,
    no_config: bool,
) -> int:
    target = output or (path if path.is_dir() else path.parent) / baseline_mod.DEFAULT_NAME
    if action == "create":
        if target.exists() and not force:
            raise UsageError(f"{target}: a baseline is already there (update it, or --force)")
        known = baseline_mod.Baseline.new()
    elif action in ("update", "prune"):
        known = baseline_mod.load(target)
    else:
        raise UsageError(f"unknown baseline action {action!r} (create, update, prune)")
    report = _findings_report(path, history, config, no_config)
    if not report.complete:
        # A baseline from a scan that missed things would hide them later: refuse.
        print("\n".join(f"keyguard: error: {e}" for e in report.errors[:20]), file=sys.stderr)
        return ExitCode.INCOMPLETE
    current = baseline_mod.entries_for(report.findings, known)
    before = len(known.entries)
    if action == "prune":
        known = replace(known, entries=known.entries & current)
    else:
        known = replace(known, entries=known.entries | current)
    baseline_mod.save(target, known)
    change = len(known.entries) - before
    print(
        f"keyguard: {target}: {len(known.entries)} entries "
        f"({'+' if change >= 0 else ''}{change}); every entry is a keyed scrypt digest, never a value",
        file=sys.stderr,
    )
    top = git.toplevel(target.parent) if git.is_repository(target.parent) else None
    if action == "create" and top is not None:
        name = target.resolve().relative_to(top.resolve()).as_posix()
        if baseline_mod.mark_union_merge(top, name):
            print(f"keyguard: .gitattributes: {name} merges as a union of lines", file=sys.stderr)
    return ExitCode.CLEAN
