"""The audit log: one JSON line per repository audit, appended as each one finishes, so an
interrupted fleet audit resumes where it stopped and a rerun skips what has not changed.

A line is written whole with one `write` on a file opened for appending and synced at once: a
crash leaves at most a truncated last line, which loading passes over. The newest line of a
repository is what counts. Lines never hold a secret value (not even under --show-secrets):
findings keep their keyed digest and preview, as the history cache does.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from keyguard.errors import UsageError
from keyguard.fleet.task import AUDITED, INTERRUPTED, UNCHANGED, RepoResult

SCHEMA = "keyguard.fleet-log/1"


def entry(result: RepoResult) -> dict[str, Any]:
    data = asdict(result)
    data["findings"] = [{k: v for k, v in f.items() if k != "secret"} for f in result.findings]
    return {"schema": SCHEMA, "at": datetime.now(UTC).isoformat(timespec="seconds"), **data}


def _open(path: Path) -> int:
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_CLOEXEC", 0)
    try:
        # 0600: the findings' previews and digests are the audit's business alone.
        return os.open(path, flags, 0o600)
    except OSError as exc:
        raise UsageError(f"{path}: cannot write the audit log: {exc.strerror}") from None


def check(path: Path) -> None:
    """Fail before the first task, not after it: a log that cannot be written loses results."""
    os.close(_open(path))


def append(path: Path, result: RepoResult) -> None:
    """Add one repository's result. An interrupted audit is not one (it is redone); an
    unchanged repository's audit is the line already there."""
    if result.reason == INTERRUPTED or result.status == UNCHANGED:
        return
    line = json.dumps(entry(result), ensure_ascii=False, separators=(",", ":")) + "\n"
    fd = _open(path)
    try:
        os.write(fd, line.encode("utf-8", "surrogateescape"))
        os.fsync(fd)
    finally:
        os.close(fd)


def load(path: Path) -> dict[str, RepoResult]:
    """The newest result of each repository in the log (none if there is no log yet)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise UsageError(f"{path}: cannot read the audit log: {exc.strerror}") from None
    out: dict[str, RepoResult] = {}
    for raw in data.splitlines():
        result = _parse(raw)
        if result is not None:
            out[result.name] = result
    return out


def _parse(raw: bytes) -> RepoResult | None:
    try:
        data = json.loads(raw)
    except ValueError:
        return None  # a line cut short by a crash
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        return None
    try:
        return RepoResult(
            name=str(data["name"]),
            status=str(data["status"]),
            reason=str(data.get("reason", "")),
            refs=_strings(data.get("refs", {})),
            scan=dict(data.get("scan", {})),
            findings=[dict(f) for f in data.get("findings", [])],
            ruleset=str(data.get("ruleset", "")),
            digest_key=str(data.get("digest_key", "")),
            seconds=float(data.get("seconds", 0.0)),
            worker=str(data.get("worker", "")),
        )
    except (KeyError, TypeError, ValueError):
        return None


def _strings(value: Mapping[str, Any]) -> dict[str, str]:
    return {str(k): str(v) for k, v in value.items()}


def reusable(previous: RepoResult | None, ruleset: str, key: str) -> dict[str, str] | None:
    """The refs a rerun may compare against: only a complete audit's, under the same rules and
    digest key (another ruleset would find other things; other digests could not be matched
    across repositories)."""
    if previous is None or previous.status != AUDITED:
        return None
    if previous.ruleset != ruleset or previous.digest_key != key:
        return None
    return previous.refs
