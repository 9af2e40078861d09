"""Listing a broken history: when `git log` dies (a corrupt commit, a missing tree), list every
commit that can still be read, so the audit reports what it can and names what it could not.

git stops at the first unreadable object. Here the commits are found with `git rev-list` or,
when a commit itself is unreadable, by walking the commit graph one object at a time; their
changes are listed with `git log --no-walk`, restarted after each commit git cannot diff, and
such a commit is listed against the empty tree instead (all its files as added, as git does
at a shallow clone's boundary). Only a commit whose own tree is unreadable is lost.

Behind an unreadable commit its ancestors cannot be found by walking. For an audit of all refs,
the commits in the object store that no readable commit reaches are audited too: they hold
the lost ancestors (and any unreachable commits, which git keeps for a while).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from keyguard.errors import ScanError
from keyguard.sources import git


@dataclass(frozen=True, slots=True)
class RawCommit:
    tree: str
    parents: tuple[str, ...]
    author: str
    date: str
    summary: str
    message: bytes = b""


@dataclass(slots=True)
class Salvaged:
    records: list[git.CommitRecord] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def parse_commit(data: bytes) -> RawCommit | None:
    """A raw commit object's tree, parents, author, author date (ISO 8601) and subject."""
    head, _, message = data.partition(b"\n\n")
    tree = ""
    parents: list[str] = []
    author, date = "", ""
    for line in head.split(b"\n"):
        key, _, value = line.partition(b" ")
        if key == b"tree":
            tree = value.decode("ascii", "replace")
        elif key == b"parent":
            parents.append(value.decode("ascii", "replace"))
        elif key == b"author" and not author:
            author, date = parse_person(value)
    if not git.is_object_id(tree):
        return None
    subject = message.split(b"\n\n", 1)[0].strip().replace(b"\n", b" ")
    return RawCommit(
        tree,
        tuple(parents),
        author,
        date,
        subject.decode("utf-8", "replace"),
        message,
    )


def parse_person(value: bytes) -> tuple[str, str]:
    """`Name <email> 1700000000 +0100` -> (name, 2023-11-14T23:13:20+01:00)."""
    name, _, rest = value.partition(b" <")
    fields = rest.rpartition(b">")[2].split()
    date = "1970-01-01T00:00:00+00:00"
    try:
        seconds, offset = int(fields[0]), fields[1].decode()
        sign = -1 if offset.startswith("-") else 1
        zone = timezone(sign * timedelta(hours=int(offset[1:3]), minutes=int(offset[3:5])))
        date = datetime.fromtimestamp(seconds, zone).isoformat()
    except (IndexError, ValueError, OverflowError, OSError):
        pass  # a malformed date is no reason to lose the commit
    return name.decode("utf-8", "replace"), date


def salvage(repo: Path, revisions: Sequence[str], stdin: bytes | None, *, whole: bool) -> Salvaged:
    """The commits of `revisions` (git log's revision arguments, `--stdin` reading `stdin`)
    that can be read, with their changes; errors name each commit that could not be."""
    out = Salvaged()
    reader = git.ObjectReader(repo)
    try:
        commits = _rev_list(repo, revisions, stdin)
        if commits is None:
            commits = _walk_graph(repo, reader, revisions, stdin, whole, out)
        _list_changes(repo, reader, commits, out)
    finally:
        reader.close()
    return out


def _rev_list(repo: Path, revisions: Sequence[str], stdin: bytes | None) -> list[str] | None:
    """The commits in scope when every one of them can be parsed, else None."""
    try:
        listed = git.run_git(repo, "rev-list", *revisions, "--", stdin=stdin)
    except ScanError:
        return None
    return listed.decode().split()


def _ends(repo: Path, revisions: Sequence[str], stdin: bytes | None) -> tuple[list[str], list[str]]:
    """(include, exclude): the ids the revision arguments name (`^id` excludes)."""
    args = [r for r in revisions if r != "--stdin"]
    named = git.run_git(repo, "rev-parse", *args, check=False).decode().split() if args else []
    if "--stdin" in revisions and stdin:
        named += stdin.decode("ascii", "replace").split()
    include = [n for n in named if git.is_object_id(n)]
    exclude = [n[1:] for n in named if n.startswith("^") and git.is_object_id(n[1:])]
    return include, exclude


def _walk_graph(
    repo: Path,
    reader: git.ObjectReader,
    revisions: Sequence[str],
    stdin: bytes | None,
    whole: bool,
    out: Salvaged,
) -> list[str]:
    """The readable commits in scope, found by reading commit objects one by one; each
    unreadable one is named in `out.errors`."""
    include, exclude = _ends(repo, revisions, stdin)
    excluded: set[str] = set()
    _reach(reader, exclude, set(), excluded, [])
    found: set[str] = set()
    order: list[str] = []
    lost = _reach(reader, include, excluded, found, order)
    for sha in lost:
        out.errors.append(
            f"commit {sha} is unreadable (missing or corrupt): it and the ancestors only it "
            "leads to could not be listed"
        )
    if lost and whole:
        known = found | excluded
        strays = [sha for sha in git.objects_of_type(repo, "commit") if sha not in known]
        if strays:
            before = len(order)
            _reach(reader, strays, excluded, found, order)
            out.notes.append(
                f"{len(order) - before} commit(s) in the object store that no readable ref "
                "reaches were audited too (they include the ancestors of the unreadable "
                "commit(s), which git cannot walk to)"
            )
    return order


def _reach(
    reader: git.ObjectReader,
    starts: Iterable[str],
    stop: set[str],
    seen: set[str],
    order: list[str],
) -> list[str]:
    """Adds to `seen` and `order` the commits reachable from `starts` (tags peeled) and not
    from `stop`; returns the unreadable ones."""
    lost: list[str] = []
    stack = list(starts)
    while stack:
        sha = stack.pop()
        if sha in seen or sha in stop:
            continue
        got = reader.read(sha)
        if got is not None and got[0] == "tag":
            target = got[1].split(b"\n", 1)[0].partition(b" ")[2].decode("ascii", "replace")
            stack.append(target)
            continue
        parsed = parse_commit(got[1]) if got is not None and got[0] == "commit" else None
        if got is not None and got[0] in ("tree", "blob"):
            continue  # a ref to a tree or a blob: no commit to list
        seen.add(sha)
        if parsed is None:
            lost.append(sha)
            continue
        order.append(sha)
        stack.extend(reversed(parsed.parents))
    return lost


def _list_changes(repo: Path, reader: git.ObjectReader, commits: list[str], out: Salvaged) -> None:
    """Each commit's changes: `git log --no-walk` over the list, restarted past each commit it
    dies on (git writes out every commit before the one it cannot diff)."""
    args = git.log_command(["--no-walk=unsorted", "--stdin"])
    todo = commits
    while todo:
        log, failure = git.run_git_partial(repo, *args, stdin=("\n".join(todo) + "\n").encode())
        records = list(git.parse_log(log))
        if failure is None:
            out.records.extend(records)
            return
        # Only whole records of the list, in its order, count as listed.
        done = 0
        while done < min(len(records), len(todo) - 1) and records[done].sha == todo[done]:
            done += 1
        out.records.extend(records[:done])
        record = _against_empty_tree(repo, reader, todo[done], out)
        if record is not None:
            out.records.append(record)
        todo = todo[done + 1 :]


def _against_empty_tree(
    repo: Path, reader: git.ObjectReader, sha: str, out: Salvaged
) -> git.CommitRecord | None:
    got = reader.read(sha)
    parsed = parse_commit(got[1]) if got is not None and got[0] == "commit" else None
    if parsed is None:
        out.errors.append(f"commit {sha} is unreadable (missing or corrupt)")
        return None
    try:
        raw = git.run_git(
            repo,
            "diff-tree",
            "-r",
            "--raw",
            "-z",
            "--no-abbrev",
            "--no-renames",
            *git.SAFE_DIFF,
            git.empty_tree(repo),
            parsed.tree,
        )
    except ScanError as exc:
        out.errors.append(f"commit {sha}: its files could not be listed ({exc})")
        return None
    # Not an error of its own: what made the diff fail (its parent) is named as unreadable.
    out.notes.append(
        f"commit {sha[:12]} could not be compared with its parent (unreadable): every file it "
        "holds was taken as added by it"
    )
    changes = tuple(git.parse_raw_diff(raw))
    return git.CommitRecord(
        sha, parsed.parents, parsed.author, parsed.date, parsed.summary, changes, parsed.message
    )
