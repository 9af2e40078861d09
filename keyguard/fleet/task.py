"""One repository's audit, as a Dask task runs it on a worker: list its refs, skip it if they
are what the audit log already holds, mirror it, and run the `keyguard history` pipeline on the
mirror (the rules, the audit of every ref, the stage after the engine, the report's findings).

The task never raises: whatever goes wrong is the repository's `reason`, and one repository
failing never stops the others. What it returns crosses the network and lands in the audit log,
so its findings are the report's JSON entries without their values (only a keyed digest and a
preview), unless the user asked for --show-secrets.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from keyguard import digest
from keyguard.errors import KeyguardError
from keyguard.fleet.mirror import Budget, MirrorError, locked, mirror_refs, remote_refs, update
from keyguard.fleet.repolist import Source
from keyguard.report.model import finding_dict, scan_dict

AUDITED = "audited"  # the whole history, complete
INCOMPLETE = "incomplete"  # audited, but something could not be read (as history's exit 3)
FAILED = "failed"  # not audited: the reason says why
UNCHANGED = "unchanged"  # its refs are those of its last complete audit in the log
INTERRUPTED = "interrupted"

# The scan driver keeps its job in a module global: two audits in one process at once (a Dask
# worker with several threads) would mix them up. Mirroring still runs in parallel.
_AUDIT = threading.Lock()


@dataclass(frozen=True, slots=True)
class TaskSpec:
    """Everything a worker needs (plain values: it is pickled to the worker)."""

    url: str
    workdir: str
    previous_refs: dict[str, str] | None = None  # refs of its last complete audit, if any
    config: str | None = None  # a config file (the same path on every worker), else none
    matcher: str = "auto"
    max_file_size: str | None = None
    max_repo_size: int | None = None
    timeout: float | None = None  # seconds for the whole task
    show_secrets: bool = False


@dataclass(frozen=True, slots=True)
class RepoResult:
    """What one task returns, and what the audit log keeps of it."""

    name: str  # the URL without credentials
    status: str
    reason: str = ""
    refs: dict[str, str] = field(default_factory=dict)
    scan: dict[str, Any] = field(default_factory=dict)  # the history report's `scan` object
    findings: list[dict[str, Any]] = field(default_factory=list)  # without `remediation` steps
    ruleset: str = ""
    digest_key: str = ""
    seconds: float = 0.0
    worker: str = ""

    @property
    def is_audited(self) -> bool:
        return self.status in (AUDITED, INCOMPLETE, UNCHANGED)


def audit_repository(spec: TaskSpec) -> RepoResult:
    """The task: never raises (a failure is a result with its reason)."""
    started = time.monotonic()
    source = Source(spec.url)
    budget = Budget(
        started + spec.timeout if spec.timeout else None,
        spec.max_repo_size,
    )
    where = f"{socket.gethostname()}:{os.getpid()}"
    try:
        result = _audit(spec, source, budget)
    except (MirrorError, KeyguardError) as problem:
        result = RepoResult(source.name, FAILED, str(problem))
    except Exception as exc:  # one repository's bug must not stop the fleet
        # Only the type: the message of an internal error could quote scanned content.
        result = RepoResult(source.name, FAILED, f"internal error ({type(exc).__name__})")
    return _finished(result, time.monotonic() - started, where)


def _finished(result: RepoResult, seconds: float, worker: str) -> RepoResult:
    key = result.digest_key or digest.current().id
    return replace(result, digest_key=key, seconds=seconds, worker=worker)


def _audit(spec: TaskSpec, source: Source, budget: Budget) -> RepoResult:
    mirror = Path(spec.workdir) / source.mirror_name
    with locked(mirror):
        listed = remote_refs(spec.url, budget)
        if spec.previous_refs is not None and listed == spec.previous_refs:
            return RepoResult(source.name, UNCHANGED, refs=listed)
        update(spec.url, mirror, budget)
        refs = mirror_refs(mirror)
        with _AUDIT:
            return _history(spec, source, mirror, refs, budget)


def _history(
    spec: TaskSpec, source: Source, mirror: Path, refs: dict[str, str], budget: Budget
) -> RepoResult:
    """`keyguard history` on the mirror, as run.history_report composes it, with the task's
    deadline and no progress bar (the fleet has its own)."""
    from keyguard import scope
    from keyguard.history import AuditOptions, audit
    from keyguard.run import finish, history_raw_paths, make_report, prepare

    config = Path(spec.config) if spec.config else None
    # Never a configuration from the audited repository itself: it could switch rules off.
    ready = prepare(config, config is None, mirror, spec.matcher, spec.max_file_size)
    cfg, compiled = ready.cfg, ready.compiled
    result = audit(
        mirror,
        compiled,
        scope.AllRefs(),
        AuditOptions(
            jobs=1,  # the fleet's parallelism is its workers
            max_size=ready.max_size,
            need_values=spec.show_secrets or cfg.has_value_allowlists,
            deadline=budget.deadline,
        ),
    )
    stats = result.stats
    finished = finish(result.findings, ready)
    report = make_report(
        "history",
        (source.name,),
        finished,
        stats,
        ready,
        extra={"commits": stats.commits, "blobs": stats.files, "notes": list(stats.notes)},
        raw_paths=history_raw_paths(mirror, finished.findings),
    )
    findings = []
    for finding in report.findings:
        entry = finding_dict(finding, spec.show_secrets, (), report.raw_paths)
        del entry["remediation"]  # the playbook's steps: the report adds them back
        findings.append(entry)
    status, reason = AUDITED, ""
    if any(e.startswith("interrupted") for e in report.errors):
        # Ctrl-C reached the audit (the sync scheduler runs it in the command's process).
        status, reason = FAILED, INTERRUPTED
    elif report.errors:
        timed_out = any("time budget" in e for e in report.errors)
        status = FAILED if timed_out else INCOMPLETE
        reason = (
            "over the time budget (--repo-timeout) while auditing"
            if timed_out
            else "; ".join(report.errors[:3])
        )
    return RepoResult(
        source.name,
        status,
        reason,
        refs,
        scan_dict(report),
        findings,
        compiled.ruleset.digest,
    )
