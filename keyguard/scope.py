"""What a scan covers, as data: the working tree, the index, all refs, a revision set, a push.

Each boundary (a command, a hook, the GitHub Action) turns its input into one of these; the
history audit, the staged scan and the worktree scan take them as they are. Every revision a
user typed is verified to name a commit before it becomes part of a scope, so no value can reach
git as an option.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from keyguard.errors import UsageError
from keyguard.sources import git


@dataclass(frozen=True, slots=True)
class Worktree:
    targets: tuple[str, ...]
    all_files: bool = False


@dataclass(frozen=True, slots=True)
class Index:
    """The staged content; `paths` limits it to the named files (empty: every staged change)."""

    paths: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class AllRefs:
    """Every commit of every ref, the stash's entries and every work tree's HEAD."""


@dataclass(frozen=True, slots=True)
class Revisions:
    """The commits reachable from `include` and from none of `exclude`.

    `include_refs` / `exclude_refs` are ref selectors git expands itself (`--all`,
    `--remotes=origin`); they are chosen by keyguard, never taken from a user.
    """

    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    include_refs: tuple[str, ...] = ()
    exclude_refs: tuple[str, ...] = ()

    def log_args(self) -> list[str]:
        args = [*self.include_refs, *self.include]
        if self.exclude or self.exclude_refs:
            args += ["--not", *self.exclude_refs, *self.exclude]
        return args

    @property
    def is_empty(self) -> bool:
        return not (self.include or self.include_refs)


HistoryScope = AllRefs | Revisions


@dataclass(frozen=True, slots=True)
class RefUpdate:
    """One line of a pre-receive (or pre-push) hook's input."""

    old: str
    new: str
    ref: str

    @property
    def is_deletion(self) -> bool:
        return git.is_zero(self.new)

    @property
    def is_creation(self) -> bool:
        return git.is_zero(self.old)


def from_options(
    repo: Path, branch: str | None, rev_range: str | None, since: str | None
) -> HistoryScope:
    """The scope `keyguard history --branch/--range/--since` asks for (all refs by default)."""
    chosen = [x for x in (branch, rev_range, since) if x is not None]
    if len(chosen) > 1:
        raise UsageError("use only one of --branch, --range and --since")
    if branch is not None:
        return Revisions(include=(git.verify_revision(repo, branch),))
    if since is not None:
        return Revisions(
            include=tuple(git.stash_entries(repo)),
            include_refs=("--all",),
            exclude=(git.verify_revision(repo, since),),
        )
    if rev_range is not None:
        return revision_range(repo, rev_range)
    return AllRefs()


def revision_range(repo: Path, value: str) -> Revisions:
    """`A..B` (what B has that A has not) or `A...B` (what either has that their bases have not)."""
    separator = "..." if "..." in value else ".."
    if separator not in value:
        raise UsageError(f"--range takes A..B (got {value!r})")
    left, _, right = value.partition(separator)
    ends = tuple(git.verify_revision(repo, end or "HEAD") for end in (left, right))
    if separator == "...":
        bases = git.run_git(repo, "merge-base", "--all", *ends, check=False).decode().split()
        return Revisions(include=ends, exclude=tuple(bases))
    return Revisions(include=(ends[1],), exclude=(ends[0],))
