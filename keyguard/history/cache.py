"""The incremental re-audit cache: which blobs were scanned (and what they held) under a ruleset,
and, for whole-repository audits, the ref tips already audited with their leak events.

Stored as JSON (never pickle: the repository being audited may be hostile) with a SHA-256 over
the body; a file that fails any check is ignored and rebuilt, never trusted.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from keyguard import digest
from keyguard.controls import controls
from keyguard.model import Commit, Finding
from keyguard.signatures import Rule
from keyguard.sources.git import is_object_id

# /7: findings keep their archive member and notebook cell (keyguard.formats); a /6 cache
# holds archives as skipped binaries and notebooks as plain JSON text.
# /6: keyed digests (keyguard.digest), and UTF-16/32 blobs are text now (a /5 cache holds them
# as scanned binaries). /5: findings keep their key description.
# /8: findings keep their content context (a module's EXAMPLES string: context.py).
MAGIC = "keyguard.history-cache/8"

# One finding inside a blob, without its path and without its value (hash and preview only):
# enough to rebuild the Finding, never enough to use the credential.
Stored = list[Any]


def store_finding(f: Finding) -> Stored:
    return [
        f.rule_id,
        f.secret_hash,
        f.preview,
        f.line,
        f.column,
        f.end_line,
        f.end_column,
        f.confidence,
        f.decoded,
        f.paired_with,
        f.key_info,
        f.member,
        f.where,
        f.content_context,
    ]


def load_finding(entry: Sequence[Any], rules: Mapping[str, Rule], path: str) -> Finding | None:
    rule_id, hashed, preview, line, column, end_line, end_column, confidence, decoded, paired = (
        entry[:10]
    )
    key_info, member, where, content_context = entry[10:14]
    rule = rules.get(rule_id)
    if rule is None:
        return None
    return Finding(
        rule_id=rule.id,
        title=rule.title,
        category=rule.category,
        severity=rule.severity,
        confidence=str(confidence),
        path=path,
        line=int(line),
        column=int(column),
        end_line=int(end_line),
        end_column=int(end_column),
        secret="",
        known_hash=str(hashed),
        known_preview=str(preview),
        decoded=decoded,
        remediation=rule.remediation,
        tags=controls(rule),
        provider=rule.provider,
        paired_with=paired,
        key_info=key_info,
        member=member,
        where=where,
        content_context=str(content_context or ""),
    )


@dataclass
class CachedEvent:
    commit: Commit
    path: str
    findings: list[Stored]
    blob: str = ""  # the blob that introduced them: re-read when values are wanted


@dataclass
class HistoryCache:
    ruleset: str
    max_size: int
    scanned: set[str] = field(default_factory=set)  # blob ids scanned (with or without findings)
    blob_findings: dict[str, list[Stored]] = field(default_factory=dict)
    path_findings: dict[str, list[Stored]] = field(default_factory=dict)  # "sha\0path"
    tips: list[str] = field(default_factory=list)  # ref tips of the last complete --all audit
    commits: int = 0  # commits that audit covered
    events: list[CachedEvent] = field(default_factory=list)

    def to_json(self) -> bytes:
        body = {
            "ruleset": self.ruleset,
            "max_size": self.max_size,
            "scanned": sorted(self.scanned),
            "blob_findings": self.blob_findings,
            "path_findings": self.path_findings,
            "tips": self.tips,
            "commits": self.commits,
            "events": [
                [
                    e.commit.sha,
                    e.commit.author,
                    e.commit.date,
                    e.commit.summary,
                    e.path,
                    e.findings,
                    e.blob,
                ]
                for e in self.events
            ],
        }
        text = json.dumps(body, separators=(",", ":"), ensure_ascii=True).encode()
        # A JSON object whose unknown fields readers ignore: a field can join it later (such
        # as which key hashed the values) without a new MAGIC or a change to this layout.
        header = json.dumps(
            {
                "magic": MAGIC,
                "sha256": hashlib.sha256(text).hexdigest(),
                # the findings' digests compare only under the key that made them
                "digest_key": digest.current().id,
            }
        )
        return header.encode() + b"\n" + text

    @staticmethod
    def from_json(raw: bytes, ruleset: str, max_size: int) -> HistoryCache | None:
        try:
            header_line, text = raw.split(b"\n", 1)
            header = json.loads(header_line)
            if header.get("magic") != MAGIC:
                return None
            if hashlib.sha256(text).hexdigest() != header.get("sha256"):
                return None
            if header.get("digest_key") != digest.current().id:
                return None  # another KEYGUARD_DIGEST_KEY: rebuild rather than mismatch
            body = json.loads(text)
            if body["ruleset"] != ruleset or body["max_size"] != max_size:
                return None
            events = [
                CachedEvent(Commit(str(sha), str(a), str(d), str(s)), str(p), list(f), str(b))
                for sha, a, d, s, p, f, b in body["events"]
            ]
            stored = [
                *(e for found in body["blob_findings"].values() for e in found),
                *(e for found in body["path_findings"].values() for e in found),
                *(e for event in events for e in event.findings),
            ]
            if not all(_is_stored(e) for e in stored):
                return None
            if not all(isinstance(sha, str) and is_object_id(sha) for sha in body["scanned"]):
                return None
            return HistoryCache(
                ruleset=ruleset,
                max_size=max_size,
                scanned=set(body["scanned"]),
                blob_findings=dict(body["blob_findings"]),
                path_findings=dict(body["path_findings"]),
                tips=[str(t) for t in body["tips"]],
                commits=int(body.get("commits", 0)),
                events=events,
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            return None


def _is_stored(entry: object) -> bool:
    """One stored finding: [rule_id, secret_hash, preview, line, column, end_line, end_column, confidence,
    decoded, paired_with, key_info, member, where, content_context]."""
    if not isinstance(entry, list) or len(entry) != 14:
        return False
    if not all(e is None or isinstance(e, str) for e in entry[11:13]):
        return False
    if not isinstance(entry[13], str):
        return False
    rule_id, hashed, preview, line, column, end_line, end_column, confidence, decoded, paired = (
        entry[:10]
    )
    if not (entry[10] is None or isinstance(entry[10], str)):
        return False
    numbers = (line, column, end_line, end_column)
    return (
        isinstance(rule_id, str)
        and isinstance(hashed, str)
        and len(hashed) == 64
        and isinstance(preview, str)
        and all(isinstance(n, int) and not isinstance(n, bool) for n in numbers)
        and isinstance(confidence, str)
        and (decoded is None or isinstance(decoded, str))
        and (paired is None or isinstance(paired, str))
    )


def cache_path(git_dir: Path, repo_key: str) -> Path | None:
    """In the repository's git dir when writable, else in the user's cache dir."""
    if os.access(git_dir, os.W_OK):
        return git_dir / "keyguard" / "history-cache.json"
    from keyguard.cache import cache_dir

    folder = cache_dir()
    if folder is None:
        return None
    return folder / f"history-{hashlib.sha256(repo_key.encode()).hexdigest()[:24]}.json"


def load(path: Path | None, ruleset: str, max_size: int) -> HistoryCache:
    empty = HistoryCache(ruleset=ruleset, max_size=max_size)
    if path is None:
        return empty
    try:
        raw = path.read_bytes()
    except OSError:
        return empty
    return HistoryCache.from_json(raw, ruleset, max_size) or empty


def _say_warning(message: str) -> None:
    print(f"keyguard: warning: {message}", file=sys.stderr)


def save(
    path: Path | None, state: HistoryCache, warn: Callable[[str], None] = _say_warning
) -> bool:
    """Write the cache through a temporary file renamed over the old one, so a reader (another
    audit running at the same time) or an interruption (Ctrl-C, SIGTERM, a full disk) sees the
    old cache or the new one, never half of one; with two writers, the last rename wins and
    both are whole. No fsync: a file torn by a power cut fails its SHA-256 and is rebuilt.

    A cache that cannot be written costs only the next audit's time: `warn` says so and the
    audit goes on. True if the cache was stored."""
    if path is None:
        return False
    tmp = ""
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        with os.fdopen(fd, "wb") as handle:
            handle.write(state.to_json())
        os.replace(tmp, path)
        tmp = ""  # the name is free again: another writer's mkstemp may take it
        return True
    except OSError as exc:
        warn(
            f"could not store the history cache {path} ({exc.strerror or exc}); "
            "the report is not affected; the next audit scans again what this one did"
        )
        return False
    finally:
        if tmp:
            # Any failure, KeyboardInterrupt (Ctrl-C, SIGTERM) included, leaves no litter.
            with contextlib.suppress(OSError):
                os.unlink(tmp)
