"""Ref updates as git hands them to hooks: parsing, the commits they bring, and which ref
brought which commit (so a rejection can name the ref)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from keyguard.errors import UsageError
from keyguard.scope import RefUpdate, Revisions
from keyguard.sources import git


def _lines(text: str) -> list[str]:
    """Lines as git writes them: LF-separated (CRLF tolerated). Not str.splitlines(), which also
    breaks at U+0085, U+2028 and U+2029: characters a ref name may hold."""
    return [line.removesuffix("\r") for line in text.split("\n")]


def parse_receive(text: str) -> list[RefUpdate]:
    """pre-receive input: one `<old> <new> <ref>` line per updated ref (every line, not the
    first only). A malformed line rejects the push rather than letting it through unscanned."""
    updates: list[RefUpdate] = []
    for number, line in enumerate(_lines(text), 1):
        if not line.strip():
            continue
        parts = line.split(" ", 2)
        if (
            len(parts) != 3
            or not all(git.is_object_id(p) for p in parts[:2])
            or len(parts[0]) != len(parts[1])  # one repository has one hash length
            or not parts[2]
        ):
            raise UsageError(f"pre-receive input line {number} is not '<old> <new> <ref>'")
        updates.append(RefUpdate(parts[0], parts[1], parts[2]))
    return updates


@dataclass(frozen=True, slots=True)
class PushLine:
    """pre-push input: `<local ref> <local id> <remote ref> <remote id>`."""

    local_ref: str
    local: str
    remote_ref: str
    remote: str

    def as_update(self) -> RefUpdate:
        return RefUpdate(self.remote, self.local, self.remote_ref)


def parse_push(text: str) -> list[PushLine]:
    lines: list[PushLine] = []
    for number, line in enumerate(_lines(text), 1):
        if not line.strip():
            continue
        parts = line.rsplit(" ", 3)
        if len(parts) != 4 or not (git.is_object_id(parts[1]) and git.is_object_id(parts[3])):
            raise UsageError(
                f"pre-push input line {number} is not "
                "'<local ref> <local id> <remote ref> <remote id>'"
            )
        lines.append(PushLine(*parts))
    return lines


def new_commits(updates: Sequence[RefUpdate], exclude: Revisions) -> Revisions:
    """The commits the updates bring that `exclude` (what the other side has) does not hold."""
    tips = tuple(dict.fromkeys(u.new for u in updates if not u.is_deletion))
    return Revisions(include=tips, exclude=exclude.exclude, exclude_refs=exclude.exclude_refs)


def refs_by_commit(
    repo: Path, updates: Sequence[RefUpdate], exclude: Revisions
) -> dict[str, list[str]]:
    """commit id -> the refs of the push that bring it (a commit may come with several)."""
    out: dict[str, list[str]] = {}
    for update in updates:
        if update.is_deletion:
            continue
        revs = Revisions(
            include=(update.new,), exclude=exclude.exclude, exclude_refs=exclude.exclude_refs
        )
        listed = git.run_git(repo, "rev-list", *revs.log_args(), "--", check=False)
        for sha in listed.decode().split():
            out.setdefault(sha, []).append(update.ref)
    return out
