"""Run the engine over a source's files, on every core; collect findings and statistics."""

from __future__ import annotations

import multiprocessing
import os
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from keyguard.engine import CompiledRuleset, scan
from keyguard.model import Finding
from keyguard.sources.worktree import FileRef, Walk, is_binary, read

PARALLEL_MIN_BYTES = (
    96 << 20
)  # below this, forking (and compiling patterns per worker) costs more than it saves


@dataclass(slots=True)
class Stats:
    files: int = 0
    bytes: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def complete(self) -> bool:
        return not self.errors


@dataclass(slots=True)
class Outcome:
    findings: list[Finding]
    stats: Stats


_COMPILED: CompiledRuleset | None = None  # set in the parent before forking workers


def _scan_chunk(refs: Sequence[FileRef]) -> tuple[list[Finding], Stats]:
    assert _COMPILED is not None
    compiled = _COMPILED
    findings: list[Finding] = []
    stats = Stats()
    for ref in refs:
        try:
            data = read(ref)
        except OSError as exc:
            stats.errors.append(f"{ref.display}: {exc.strerror or exc}")
            continue
        findings.extend(scan_content(data, ref.display, ref.display, compiled, stats))
    return findings, stats


def scan_content(
    data: bytes, path: str | None, label: str, compiled: CompiledRuleset, stats: Stats
) -> list[Finding]:
    """One file's or blob's findings; binary content is skipped, everything counted in stats."""
    if is_binary(data):
        stats.skipped["binary"] += 1
        return []
    stats.files += 1
    stats.bytes += len(data)
    result = scan(data, path, compiled)
    stats.errors.extend(f"{label}: {e}" for e in result.errors)
    return result.findings


def _chunks(refs: list[FileRef], parts: int) -> list[list[FileRef]]:
    size = max(1, min(256, len(refs) // (parts * 8) or 1))
    return [refs[i : i + size] for i in range(0, len(refs), size)]


def scan_files(walk: Walk, compiled: CompiledRuleset, jobs: int) -> Outcome:
    global _COMPILED
    started = time.perf_counter()
    _COMPILED = compiled
    total = Stats(skipped=Counter(walk.skipped), errors=list(walk.errors))
    findings: list[Finding] = []
    estimated = sum(_size(r) for r in walk.files[:64]) * max(1, len(walk.files) // 64 or 1)
    if (
        jobs > 1
        and estimated >= PARALLEL_MIN_BYTES
        and "fork" in multiprocessing.get_all_start_methods()
    ):
        context = multiprocessing.get_context("fork")
        with context.Pool(jobs) as pool:
            results = list(pool.imap_unordered(_scan_chunk, _chunks(walk.files, jobs)))
    else:
        results = [_scan_chunk(walk.files)]
    for chunk_findings, stats in results:
        findings.extend(chunk_findings)
        total.files += stats.files
        total.bytes += stats.bytes
        total.skipped.update(stats.skipped)
        total.errors.extend(stats.errors)
    findings.sort(key=lambda f: (f.path, f.line, f.column, f.rule_id))
    total.seconds = time.perf_counter() - started
    return Outcome(findings, total)


def scan_bytes(data: bytes, display: str, compiled: CompiledRuleset) -> Outcome:
    started = time.perf_counter()
    stats = Stats(files=1, bytes=len(data))
    result = scan(data, display, compiled)
    stats.errors.extend(result.errors)
    stats.seconds = time.perf_counter() - started
    return Outcome(result.findings, stats)


def _size(ref: FileRef) -> int:
    try:
        return os.stat(ref.path).st_size
    except OSError:
        return 0


def default_jobs() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
