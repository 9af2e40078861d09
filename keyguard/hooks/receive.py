"""The server boundary: `keyguard pre-receive` rejects a push that brings new secrets.

It reads every `<old> <new> <ref>` line, skips deletions, and scans exactly the commits new to
the repository (`<new tips> --not --all`: refs are not updated yet while the hook runs), so a
force push or a new branch neither skips nor rescans history; an annotated tag brings the
commits it points to. Objects are read through the git CLI, so git's quarantine
(`GIT_QUARANTINE_PATH`, alternate object directories) works, and nothing is written into the
repository: no cache. Settings come from the server (flags of the hook command or the
repository's git config `keyguard.*`), never from the pushed content.
"""

from __future__ import annotations

import datetime
import json
import multiprocessing
import os
import sys
import threading
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from keyguard.errors import ConfigError, ExitCode, UsageError
from keyguard.hooks.updates import new_commits, parse_receive, refs_by_commit
from keyguard.model import Finding, Skip
from keyguard.report.hook import GITLAB_PREFIX, finding_line, rejection_lines
from keyguard.scope import RefUpdate, Revisions
from keyguard.sources import git

BYPASS_OPTION = "keyguard-bypass"
DEFAULT_BUDGET = 4.5
WATCHDOG_GRACE = 0.5  # seconds past the budget before a stuck scan is cut off outright


@dataclass(frozen=True, slots=True)
class ReceiveSettings:
    config: Path | None = None  # rules and allowlists; never the pushed .keyguard.toml
    time_budget: float = DEFAULT_BUDGET
    overrun: Literal["fail", "pass"] = "fail"
    max_blob_size: str | None = None  # default: the config's max_file_size (10MB)
    max_findings: int = 20
    allow_bypass: bool = False
    bypass_log: Path | None = None  # default: <git dir>/keyguard/bypass.log
    matcher: str = "auto"
    jobs: int = 0
    baseline: Path | None = None  # the server's baseline file (never the pushed one)


@dataclass(frozen=True, slots=True)
class ReceiveFlags:
    """What the hook command line says; None means "take the server's git config"."""

    config: Path | None = None
    time_budget: float | None = None
    overrun: str | None = None
    max_blob_size: str | None = None
    max_findings: int | None = None
    allow_bypass: bool | None = None
    bypass_log: Path | None = None
    matcher: str = "auto"
    jobs: int = 0
    baseline: Path | None = None


def settings(repo: Path, flags: ReceiveFlags) -> ReceiveSettings:
    """Flags first, then `git config keyguard.<key>` of the receiving repository."""

    def value(key: str) -> str | None:
        return git.config_value(repo, f"keyguard.{key}")

    budget = flags.time_budget if flags.time_budget is not None else _number(value("timeBudget"))
    overrun = flags.overrun or value("overrun") or "fail"
    if overrun not in ("fail", "pass"):
        raise ConfigError(f"keyguard.overrun must be 'fail' or 'pass' (got {overrun!r})")
    limit = flags.max_findings
    if limit is None:
        raw = value("maxFindings")
        limit = int(_number(raw, "maxFindings") or 20) if raw else 20
    config = flags.config or _path(value("config"))
    bypass = flags.allow_bypass
    if bypass is None:
        bypass = (value("allowBypass") or "false").lower() in ("true", "yes", "on", "1")
    return ReceiveSettings(
        config=config,
        time_budget=DEFAULT_BUDGET if budget is None else budget,
        overrun="pass" if overrun == "pass" else "fail",
        max_blob_size=flags.max_blob_size or value("maxBlobSize"),
        max_findings=limit,
        allow_bypass=bypass,
        bypass_log=flags.bypass_log or _path(value("bypassLog")),
        matcher=flags.matcher,
        jobs=flags.jobs,
        baseline=flags.baseline or _path(value("baseline")),
    )


def _number(raw: str | None, key: str = "timeBudget") -> float | None:
    if raw is None:
        return None
    try:
        number = float(raw)
    except ValueError:
        raise ConfigError(f"keyguard.{key} must be a number (got {raw!r})") from None
    if number < 0:
        raise ConfigError(f"keyguard.{key} must not be negative (got {raw!r})")
    return number


def _path(raw: str | None) -> Path | None:
    return Path(raw).expanduser() if raw else None


def push_options(env: Mapping[str, str]) -> list[str]:
    """`git push -o` values (the server must set receive.advertisePushOptions)."""
    try:
        count = int(env.get("GIT_PUSH_OPTION_COUNT", "0"))
    except ValueError:
        return []
    return [env.get(f"GIT_PUSH_OPTION_{i}", "") for i in range(count)]


class Say:
    """The hook's voice: stderr, which git relays to the pusher as `remote:` lines."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self._prefix = GITLAB_PREFIX if "GL_ID" in env or "GL_REPOSITORY" in env else ""

    def __call__(self, *lines: str) -> None:
        text = "".join(f"{self._prefix}{line}\n" for line in lines)
        sys.stderr.write(text)
        sys.stderr.flush()


def run_pre_receive(
    repo: Path, flags: ReceiveFlags, stdin: str, env: Mapping[str, str], started: float
) -> int:
    from keyguard.driver import default_jobs
    from keyguard.history import AuditOptions, audit
    from keyguard.run import blocking, finish, prepare

    say = Say(env)
    if not git.is_repository(repo):
        raise UsageError(f"{repo}: not a git repository")
    chosen = settings(repo, flags)
    updates = parse_receive(stdin)
    deadline = started + chosen.time_budget
    log = _OverrunLog(_log_path(repo, chosen), updates, env)
    watchdog = _Watchdog(deadline + WATCHDOG_GRACE, chosen, say, log)
    try:
        ready = prepare(
            chosen.config,
            chosen.config is None,
            repo,
            chosen.matcher,
            chosen.max_blob_size,
            chosen.baseline,
        )
        cfg = ready.cfg
        exclude = Revisions(exclude_refs=("--all",))
        scope = new_commits(updates, exclude)
        if scope.is_empty:
            return ExitCode.CLEAN  # only deletions: nothing new to scan
        result = audit(
            repo,
            ready.compiled,
            scope,
            AuditOptions(
                jobs=chosen.jobs or default_jobs(),
                max_size=ready.max_size,
                use_cache=False,
                need_values=cfg.has_value_allowlists or ready.baseline is not None,
                deadline=deadline,
            ),
        )
        findings = finish(result.findings, ready).findings
        refs = refs_by_commit(repo, updates, exclude) if findings else {}
    finally:
        watchdog.cancel()
    _note_skips(result.stats.skipped, say)
    overran = any(e.startswith("time budget exceeded") for e in result.stats.errors)
    other_errors = [e for e in result.stats.errors if not e.startswith("time budget exceeded")]
    if BYPASS_OPTION in push_options(env):
        if chosen.allow_bypass:
            _log_bypass(repo, chosen, updates, findings, env, say)
            return ExitCode.CLEAN
        say(f"keyguard: push option {BYPASS_OPTION} is not allowed on this server; scanning.")
    stopping = blocking(findings, cfg.nonblocking_contexts)
    notes = [f for f in findings if f not in stopping]
    if notes:
        passed = sorted(cfg.nonblocking_contexts)
        if passed:
            say(
                f"keyguard: note: {len(notes)} finding(s) not blocking (key hygiene, or in a "
                f"{'/'.join(passed)} context):"
            )
        else:
            say(f"keyguard: note: {len(notes)} key-hygiene finding(s), not blocking:")
        say(*(f"  {finding_line(f, refs)}" for f in notes[: chosen.max_findings]))
    if stopping:
        say(*rejection_lines(stopping, refs, limit=chosen.max_findings))
        if overran:
            say("keyguard: (the scan also ran out of time: there may be more)")
        return ExitCode.FINDINGS
    if other_errors:
        say("keyguard: push rejected: the scan could not complete:", *other_errors[:10])
        return ExitCode.INCOMPLETE
    if overran:
        return _overrun(chosen, say, log)
    return ExitCode.CLEAN


def _note_skips(skipped: Sequence[Skip], say: Say) -> None:
    """Blobs passed over by policy are said, never left out unseen."""
    if not skipped:
        return
    counts = Counter(s.reason for s in skipped)
    large = [s.name for s in skipped if s.reason == "too large"]
    text = ", ".join(f"{n} {why}" for why, n in sorted(counts.items()))
    say(f"keyguard: note: {len(skipped)} blob(s) not scanned ({text})")
    if large:
        say(
            f"keyguard: note: over the size cap: {', '.join(large[:5])}"
            + (" ..." if len(large) > 5 else "")
        )


@dataclass(frozen=True)
class _OverrunLog:
    """Where a push accepted unscanned (keyguard.overrun = pass) is recorded on the server, in
    the bypass log: an administrator must be able to find every push nobody fully scanned."""

    where: Path
    updates: Sequence[RefUpdate]
    env: Mapping[str, str]

    def write(self, budget: float) -> str:
        entry = {**_log_entry(self.updates, self.env), "event": "overrun-pass"}
        entry["budget_seconds"] = budget
        try:
            _append_log(self.where, entry)
        except OSError as exc:
            return f"; NOT logged ({self.where}: {exc.strerror or exc})"
        return f"; logged to {self.where}"


def _log_path(repo: Path, chosen: ReceiveSettings) -> Path:
    return chosen.bypass_log or git.common_dir(repo) / "keyguard" / "bypass.log"


def _pusher(env: Mapping[str, str]) -> str:
    return env.get("GL_USERNAME") or env.get("REMOTE_USER") or env.get("USER") or "unknown"


def _log_entry(updates: Sequence[RefUpdate], env: Mapping[str, str]) -> dict[str, object]:
    return {
        "time": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "user": _pusher(env),
        "refs": [{"ref": u.ref, "old": u.old, "new": u.new} for u in updates],
    }


def _append_log(where: Path, entry: Mapping[str, object]) -> None:
    """One JSON line appended to the server's bypass log (bypasses and unscanned pushes)."""
    where.parent.mkdir(parents=True, exist_ok=True)
    with open(where, "a", encoding="utf-8") as out:
        out.write(json.dumps(entry, ensure_ascii=False) + "\n")


def _overrun(chosen: ReceiveSettings, say: Say, log: _OverrunLog | None = None) -> int:
    if chosen.overrun == "pass":
        logged = log.write(chosen.time_budget) if log is not None else ""
        say(
            f"keyguard: WARNING: the scan did not finish within its {chosen.time_budget:g} s "
            f"budget; push accepted without a complete scan (keyguard.overrun = pass){logged}"
        )
        return ExitCode.CLEAN
    say(
        f"keyguard: push rejected: the scan did not finish within its {chosen.time_budget:g} s "
        "budget (keyguard.overrun = fail). Push fewer commits at a time, or ask the server's "
        "administrators to raise keyguard.timeBudget."
    )
    return ExitCode.INCOMPLETE


class _Watchdog:
    """The last resort when git itself is slow (a huge push): past the budget and its grace,
    apply the overrun policy and end the process, whatever is still running."""

    def __init__(self, at: float, chosen: ReceiveSettings, say: Say, log: _OverrunLog) -> None:
        self._timer = threading.Timer(
            max(at - time.monotonic(), 0.0), self._fire, (chosen, say, log)
        )
        self._timer.daemon = True
        self._timer.start()

    @staticmethod
    def _fire(chosen: ReceiveSettings, say: Say, log: _OverrunLog) -> None:
        code = _overrun(chosen, say, log)
        for child in multiprocessing.active_children():
            child.kill()  # a worker holding our stderr open would keep git waiting
        os._exit(code)

    def cancel(self) -> None:
        self._timer.cancel()


def _log_bypass(
    repo: Path,
    chosen: ReceiveSettings,
    updates: Sequence[RefUpdate],
    findings: Sequence[Finding],
    env: Mapping[str, str],
    say: Say,
) -> None:
    user = _pusher(env)
    where = _log_path(repo, chosen)
    entry = {
        **_log_entry(updates, env),
        "findings": [
            {
                "rule_id": f.rule_id,
                "path": f.location,
                "line": f.line,
                "commit": f.commit.sha if f.commit else None,
                "preview": f.preview,
                "fingerprint": f.fingerprint,
            }
            for f in findings
        ],
    }
    try:
        _append_log(where, entry)
    except OSError as exc:
        # The log is the condition of a bypass: without it, the push is scanned as usual.
        raise ConfigError(f"{where}: cannot write the bypass log: {exc.strerror or exc}") from None
    say(
        f"keyguard: BYPASS by {user}: push accepted without blocking "
        f"({len(findings)} finding{'s' * (len(findings) != 1)} logged to {where})",
        *(f"  {finding_line(f, {})}" for f in findings[: chosen.max_findings]),
    )
