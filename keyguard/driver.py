"""The one scan driver: blobs from any source, read through their store, judged by one skip
policy, scanned by the engine on every core.

Every source (working tree, index, revision range, all refs, a push) hands this module a list of
`Blob`s and the `BlobStore` that reads them; what comes back is the same `Scanned` for all of
them: findings per blob, the blobs read, statistics that name every skip, and why the scan
stopped early, if it did (Ctrl-C, a time budget).
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from itertools import chain
from typing import TYPE_CHECKING, Protocol

from keyguard import formats, textcodec
from keyguard.engine import CompiledRuleset, scan
from keyguard.errors import ScanError
from keyguard.model import Blob, Finding, Skip

if TYPE_CHECKING:
    from keyguard.formats.archive import Limits

BINARY_SNIFF = textcodec.SNIFF
# Below this many bytes, forking workers (each compiling the patterns it meets) costs more than
# it saves; module-level so tests can force the parallel path on small inputs.
PARALLEL_MIN_BYTES = 96 << 20

Progress = Callable[[int, int], None]  # (blobs done, bytes done)


class BlobStore(Protocol):
    """Reads blobs' bytes, in the order given (stores batch their reads: one `git cat-file`)."""

    def read(self, blobs: Sequence[Blob]) -> Iterator[tuple[Blob, bytes | None, str]]:
        """Each blob with its bytes, or with None and a message saying why it is unreadable."""
        ...


def is_binary(head: bytes) -> bool:
    """Whether content is binary: not text in any encoding keyguard reads (keyguard.textcodec:
    a stray NUL in clear text, or UTF-16, is not binary)."""
    return textcodec.encoding_of(head) is None


def format_size(size: int) -> str:
    """A size as a user would write it back in --max-file-size: 10 MB, 512 KB, 1500 bytes."""
    for unit, scale in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if size >= scale and size % scale == 0:
            return f"{size // scale} {unit}"
    return f"{size} bytes"


@dataclass(frozen=True, slots=True)
class SkipPolicy:
    """What a scan passes over on purpose; the same everywhere, and always named in the stats."""

    max_size: int

    def before_read(self, blob: Blob) -> str | None:
        if blob.size is not None and blob.size > self.max_size:
            return "too large"
        return None

    def after_read(self, data: bytes) -> str | None:
        if len(data) > self.max_size:
            return "too large"
        if is_binary(data):
            return "binary"
        return None

    @property
    def archive_limits(self) -> Limits:
        """An archive member is held to the size cap of a file."""
        from keyguard.formats.archive import Limits

        return Limits(max_member=self.max_size)

    def skip(self, blob: Blob, reason: str) -> Skip:
        """The named skip, with the words a user who asked for this blob is told."""
        detail = {
            "too large": f"over the {format_size(self.max_size)} size cap",
            "binary": "binary content (not text in UTF-8, UTF-16 or UTF-32)",
        }.get(reason, "")
        return Skip(blob.name, reason, detail)


@dataclass(slots=True)
class Stats:
    """What a scan did: blobs and bytes scanned, what it skipped (named), what went wrong."""

    files: int = 0  # blobs scanned (files, index entries or git objects)
    bytes: int = 0
    skipped: list[Skip] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # any error makes the scan incomplete
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def complete(self) -> bool:
        return not self.errors

    @property
    def skip_counts(self) -> dict[str, int]:
        return dict(Counter(s.reason for s in self.skipped))

    def add(self, other: Stats) -> None:
        self.files += other.files
        self.bytes += other.bytes
        self.skipped.extend(other.skipped)
        self.errors.extend(other.errors)
        self.notes.extend(other.notes)


@dataclass(slots=True)
class Scanned:
    findings: dict[Blob, list[Finding]]  # only blobs with findings
    done: set[Blob]  # read and judged (scanned or skipped by policy), not failed
    stats: Stats
    stopped: str | None = None  # "interrupted" or "time budget exceeded"

    @property
    def by_id(self) -> dict[str, list[Finding]]:
        return {blob.id: found for blob, found in self.findings.items()}

    @property
    def done_ids(self) -> set[str]:
        return {blob.id for blob in self.done}


@dataclass(frozen=True, slots=True)
class _Job:
    store: BlobStore
    compiled: CompiledRuleset
    policy: SkipPolicy
    deadline: float | None
    chunks: list[list[Blob]]


# Set in the parent before forking: workers inherit it, so only chunk numbers go to them and
# only positions come back (pickling 165k blob records each way costs a second on git.git).
_JOB: _Job | None = None


@dataclass(slots=True)
class _Part:
    chunk: int
    done: list[int]  # positions in the chunk
    findings: dict[int, list[Finding]]
    stats: Stats
    stopped: str | None = None


def _worker_init() -> None:
    # Ctrl-C is the parent's to handle: it stops the pool and keeps what finished.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _scan_chunk(number: int) -> _Part:
    assert _JOB is not None
    job = _JOB
    out = _Part(number, [], {}, Stats())
    try:
        for position, (blob, data, problem) in enumerate(job.store.read(job.chunks[number])):
            if job.deadline is not None and time.monotonic() > job.deadline:
                out.stopped = "time budget exceeded"
                break
            if data is None:
                out.stats.errors.append(problem)
                continue
            out.done.append(position)
            found = scan_one(blob, data, job.compiled, job.policy, out.stats)
            if found:
                out.findings[position] = found
    except KeyboardInterrupt:  # only in the parent (workers ignore SIGINT): keep what finished
        out.stopped = "interrupted"
    except ScanError as exc:
        out.stats.errors.append(str(exc))
    return out


def scan_one(
    blob: Blob, data: bytes, compiled: CompiledRuleset, policy: SkipPolicy, stats: Stats
) -> list[Finding]:
    """One blob's findings, or none if the policy skips it; either way counted in `stats`."""
    # Archives and notebooks first: an archive is binary to the policy, and a notebook's text
    # is inside its JSON. kind_of reads a few bytes at fixed offsets (and the path's suffix),
    # so a tree with neither pays nothing measurable for them.
    kind = formats.kind_of(data, blob.path) if len(data) <= policy.max_size else None
    if kind is not None:
        if kind == "notebook":
            found = _scan_notebook(data, blob.path, blob.name, compiled, stats)
        else:
            found = _scan_archive(blob, data, compiled, policy, stats)
        if found is not None:
            stats.files += 1
            stats.bytes += len(data)
            return found
        # Not what its first bytes promised (a broken zip, JSON that is no notebook): a file.
    reason = policy.after_read(data)
    text = textcodec.decode(data) if reason is None else None
    if text is None:
        stats.skipped.append(policy.skip(blob, reason or "binary"))
        return []
    stats.files += 1
    stats.bytes += len(data)  # as read: what the size cap and the user's disk count
    # The engine sees UTF-8 (or ASCII-compatible bytes): UTF-16 and UTF-32 are decoded here,
    # at the edge, so line numbers and columns are counted in the text, not in its bytes.
    result = scan(text, blob.path, compiled)
    stats.errors.extend(f"{blob.name}: {e}" for e in result.errors)
    return result.findings


def _scan_notebook(
    data: bytes, path: str | None, name: str, compiled: CompiledRuleset, stats: Stats
) -> list[Finding] | None:
    """A notebook's findings, placed at their lines in the file and their cells; None if it is
    not a notebook after all."""
    from keyguard.formats import notebook  # on first use, as archive below

    book = notebook.parse(data)
    if book is None:
        return None
    result = scan(book.text, path, compiled)
    stats.errors.extend(f"{name}: {e}" for e in result.errors)
    return book.place(result.findings)


def _scan_archive(
    blob: Blob, data: bytes, compiled: CompiledRuleset, policy: SkipPolicy, stats: Stats
) -> list[Finding] | None:
    """Every member's findings, each naming its member; None if `data` is no archive after all.

    A member is scanned at its own path inside the archive (a `.env` in a zip meets the `.env`
    rules), and its findings sit at the blob's path: a history audit fills in the tree path
    later, so `release.zip!config/.env` is joined only when reported (Finding.location).
    """
    # Imported on first use: tarfile and zipfile are start-up time (a hook runs on every
    # commit) that a scan without archives need not pay.
    from keyguard.formats import archive

    items = archive.members(data, policy.archive_limits)
    first = next(items, None)
    if isinstance(first, archive.Passed) and not first.name and first.reason == archive.UNREADABLE:
        return None
    shown = "" if blob.path is None else blob.path
    found: list[Finding] = []
    for item in chain([first] if first is not None else [], items):
        if isinstance(item, archive.Passed):
            name = f"{blob.name}!{item.name}" if item.name else blob.name
            stats.skipped.append(Skip(name, item.reason, item.detail))
            continue
        named = f"{blob.name}!{item.name}"
        inner = (
            _scan_notebook(item.data, item.path, named, compiled, stats)
            if formats.is_notebook(item.data, item.path)
            else None
        )
        if inner is None:
            text = textcodec.decode(item.data)
            if text is None:
                # Named one by one, as binary files are: a jar's class files are each a skip.
                stats.skipped.append(Skip(named, "binary", "binary content in an archive"))
                continue
            result = scan(text, item.path, compiled)
            stats.errors.extend(f"{named}: {e}" for e in result.errors)
            inner = result.findings
        found.extend(replace(f, path=shown, member=item.name) for f in inner)
    return found


def _chunks(blobs: Sequence[Blob], parts: int) -> list[list[Blob]]:
    """Contiguous runs of the given order (git's pack order reads fastest), about equal in bytes."""
    total = sum(b.size or 1 for b in blobs) or 1
    target = max(total // parts, 1)
    chunks: list[list[Blob]] = [[]]
    size = 0
    for blob in blobs:
        if size >= target and len(chunks) < parts:
            chunks.append([])
            size = 0
        chunks[-1].append(blob)
        size += blob.size or 1
    return [c for c in chunks if c]


def scan_blobs(
    store: BlobStore,
    blobs: Sequence[Blob],
    compiled: CompiledRuleset,
    policy: SkipPolicy,
    *,
    jobs: int = 1,
    progress: Progress | None = None,
    deadline: float | None = None,
) -> Scanned:
    """Scan every blob once (in parallel when there is enough to scan), skips named in stats."""
    global _JOB
    started = time.perf_counter()
    out = Scanned({}, set(), Stats())
    todo: list[Blob] = []
    for blob in blobs:
        reason = policy.before_read(blob)
        if reason is None:
            todo.append(blob)
        else:
            out.stats.skipped.append(policy.skip(blob, reason))
            out.done.add(blob)
    chunks = _chunks(todo, max(jobs * 4, min(128, len(todo) // 2000)))
    _JOB = _Job(store, compiled, policy, deadline, chunks)
    parallel = (
        jobs > 1
        and len(chunks) > 1
        and sum(b.size or 0 for b in todo) >= PARALLEL_MIN_BYTES
        and "fork" in multiprocessing.get_all_start_methods()
    )
    pool = multiprocessing.get_context("fork").Pool(jobs, _worker_init) if parallel else None
    try:
        for part in _results(pool, len(chunks), deadline):
            blobs_of = chunks[part.chunk]
            out.findings.update((blobs_of[i], found) for i, found in part.findings.items())
            out.done.update(blobs_of[i] for i in part.done)
            out.stats.add(part.stats)
            if progress is not None:
                progress(len(out.done), out.stats.bytes)
            if part.stopped:
                out.stopped = part.stopped
                break
    except KeyboardInterrupt:
        out.stopped = "interrupted"
    except multiprocessing.TimeoutError:
        out.stopped = "time budget exceeded"
    finally:
        if pool is not None:
            pool.terminate()
            pool.join()
        _JOB = None
    if out.stopped:
        left = len(blobs) - len(out.done)
        out.stats.errors.append(
            f"{out.stopped}: {len(out.done)} of {len(blobs)} blobs scanned ({left} not); "
            "findings so far are reported"
        )
    out.stats.seconds = time.perf_counter() - started
    return out


def _results(
    pool: multiprocessing.pool.Pool | None, count: int, deadline: float | None
) -> Iterator[_Part]:
    if pool is None:
        yield from (_scan_chunk(n) for n in range(count))
        return
    pending = pool.imap_unordered(_scan_chunk, range(count))
    for _ in range(count):
        remaining = None if deadline is None else max(deadline - time.monotonic(), 0.0)
        yield pending.next(remaining)


def default_jobs() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
