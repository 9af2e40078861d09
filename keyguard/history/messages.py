"""Commit and annotated tag messages: scanned as text, each finding attributed to its commit or
tag (people paste tokens into messages: a curl command, an HTTP trace, a "temporary" password).

Messages are not blobs: they have no path and no later version, so each one that holds a secret
is its own leak event, placed at a pseudo-path (`<commit message>`, `<tag v1.2>`) that says what
it is in every report, and that purge-plan knows to rewrite with `--replace-message`. The
`git log` that lists the commits' changes brings their messages too (one walk, not two); they
are batched into buffers of about a megabyte, so the engine is entered once per batch and not
once per commit, and no message outlives its batch.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from keyguard.engine import CompiledRuleset, scan
from keyguard.history.events import Event
from keyguard.history.salvage import parse_person
from keyguard.model import LEAK_CATEGORIES, Finding
from keyguard.sources import git

MESSAGE_PATH = "<commit message>"
BATCH_BYTES = 1 << 20


def tag_path(name: str) -> str:
    return f"<tag {name}>"


def is_message_path(path: str) -> bool:
    """Whether a finding's path is a message's pseudo-path (not a file in any tree)."""
    return path == MESSAGE_PATH or (path.startswith("<tag ") and path.endswith(">"))


# A message's commit or tag (sha, parents, author, date, summary, path), held as a tuple of
# strings until its batch is scanned: such tuples are untracked by the garbage collector, where
# a batch of records (each with its tuple of changes) made every collection walk them again
# (git.git: 1.2 s of a history audit).
_Owner = tuple[str, tuple[str, ...], str, str, str, str]


@dataclass(slots=True)
class _Batch:
    parts: list[bytes] = field(default_factory=list)
    starts: list[int] = field(default_factory=list)  # first line of each message (1-based)
    owners: list[_Owner] = field(default_factory=list)
    size: int = 0
    lines: int = 0


@dataclass(slots=True)
class MessageScanner:
    """Collects messages as the log streams past and scans them a batch at a time."""

    compiled: CompiledRuleset
    events: list[Event] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    messages: int = 0
    _batch: _Batch = field(default_factory=_Batch)

    def add(self, record: git.CommitRecord, path: str = MESSAGE_PATH) -> None:
        text = record.message
        if not text or text.isspace():
            return
        self.messages += 1
        if not text.endswith(b"\n"):
            text += b"\n"
        batch = self._batch
        batch.starts.append(batch.lines + 1)
        batch.owners.append(
            (record.sha, record.parents, record.author, record.date, record.summary, path)
        )
        batch.parts.append(text)
        batch.size += len(text)
        batch.lines += text.count(b"\n")
        if batch.size >= BATCH_BYTES:
            self._flush()

    def finish(self) -> list[Event]:
        self._flush()
        return self.events

    def _flush(self) -> None:
        batch, self._batch = self._batch, _Batch()
        if not batch.parts:
            return
        # Every message ends with a newline, so no line holds the end of one message and the
        # start of the next; a match may still run on over a message's end (a private key
        # block cut short), and is then given to the message it starts in.
        result = scan(b"".join(batch.parts), MESSAGE_PATH, self.compiled)
        self.errors.extend(f"commit messages: {e}" for e in result.errors)
        found: dict[int, list[Finding]] = {}
        for finding in result.findings:
            if finding.category not in LEAK_CATEGORIES:
                # Hygiene rules read code and configuration; a message's `sslVerify=false`
                # is prose about it (git.git's history has several).
                continue
            index = bisect.bisect_right(batch.starts, finding.line) - 1
            offset = batch.starts[index] - 1
            found.setdefault(index, []).append(
                replace(
                    finding,
                    path=batch.owners[index][5],
                    line=finding.line - offset,
                    end_line=finding.end_line - offset,
                )
            )
        for index, findings in sorted(found.items()):
            sha, parents, author, date, summary, path = batch.owners[index]
            # Without its message and changes: only its header is reported.
            record = git.CommitRecord(sha, parents, author, date, summary, ())
            change = git.Change("", "", git.ZERO, record.sha, "A", path)
            self.events.append(Event(record, change, tuple(findings)))


# One annotated tag a record: object id, type, name, tagger, date, subject, body (NUL-separated,
# for-each-ref ends each record with a newline). A lightweight tag names a commit: no message.
_TAG_FORMAT = (
    "%(objectname)%00%(objecttype)%00%(refname:strip=2)%00%(taggername)%00"
    "%(taggerdate:iso-strict)%00%(contents:subject)%00%(contents:body)%00"
)


def tag_records(repo: Path) -> list[tuple[git.CommitRecord, str]]:
    """Each annotated tag as a record (its object id, tagger, date, subject and message) with
    its pseudo-path; the signature of a signed tag is not part of the message. Raises
    ScanError when git cannot list the tags (the caller names it: the audit is incomplete)."""
    out = git.run_git(repo, "for-each-ref", f"--format={_TAG_FORMAT}", "refs/tags")
    fields = out.split(b"\0")
    records: list[tuple[git.CommitRecord, str]] = []
    for i in range(0, len(fields) - 7, 7):
        sha, kind, name, tagger, date, subject, body = (f.strip(b"\n") for f in fields[i : i + 7])
        if kind != b"tag" or not git.is_object_id(sha):
            continue
        message = subject + (b"\n\n" + body if body.strip() else b"")
        record = git.CommitRecord(
            sha.decode(),
            (),
            tagger.decode("utf-8", "replace"),
            date.decode() or "1970-01-01T00:00:00+00:00",
            subject.decode("utf-8", "replace"),
            (),
            message,
        )
        records.append((record, tag_path(git.decode_path(name))))
    return records


_SIGNATURE = b"\n-----BEGIN PGP SIGNATURE-----"


def tag_objects(repo: Path, shas: Sequence[str]) -> list[tuple[git.CommitRecord, str]]:
    """The annotated tags among `shas` (a push's or a range's tips), read from their objects:
    in a pre-receive hook the pushed tag's ref does not exist yet, but its object names it."""
    reader = git.ObjectReader(repo)
    out: list[tuple[git.CommitRecord, str]] = []
    try:
        for sha in dict.fromkeys(shas):
            got = reader.read(sha)
            if got is not None and got[0] == "tag":
                parsed = parse_tag(sha, got[1])
                if parsed is not None:
                    out.append(parsed)
    finally:
        reader.close()
    return out


def parse_tag(sha: str, data: bytes) -> tuple[git.CommitRecord, str] | None:
    """A raw tag object as a record (tagger, date, subject, message without its signature)."""
    head, sep, message = data.partition(b"\n\n")
    if not sep:
        return None
    name, tagger, date = b"", "", "1970-01-01T00:00:00+00:00"
    for line in head.split(b"\n"):
        key, _, value = line.partition(b" ")
        if key == b"tag":
            name = value
        elif key == b"tagger":
            tagger, date = parse_person(value)
    cut = message.find(_SIGNATURE)
    if cut >= 0:
        message = message[: cut + 1]
    subject = message.split(b"\n\n", 1)[0].strip().replace(b"\n", b" ")
    record = git.CommitRecord(
        sha, (), tagger, date, subject.decode("utf-8", "replace"), (), message
    )
    return record, tag_path(git.decode_path(name))
