"""Files and directories on disk (`keyguard scan`): honours .gitignore inside a git work tree."""

from __future__ import annotations

import errno
import os
import re
import stat
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from keyguard.model import Blob, Skip, normalise_path

# Never follow a link when opening: a file swapped for a symlink after it was listed is not read.
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
# Nor block: a file swapped for a FIFO after it was listed would hang open() until a writer
# came. Opening a regular file without blocking changes nothing.
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)


@dataclass(slots=True)
class Listing:
    """What a source found to scan, and what it passed over before reading anything."""

    blobs: list[Blob] = field(default_factory=list)
    skipped: list[Skip] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)  # left out by .gitignore (as displayed)


class FileStore:
    """Reads files on disk; a blob's id is its file system path."""

    def __init__(self, max_size: int) -> None:
        self._limit = max_size + 1  # one byte more than the cap tells the policy it is too large

    def read(self, blobs: Sequence[Blob]) -> Iterator[tuple[Blob, bytes | None, str]]:
        for blob in blobs:
            try:
                fd = os.open(blob.id, os.O_RDONLY | _NOFOLLOW | _NONBLOCK)
                with os.fdopen(fd, "rb") as handle:
                    info = os.fstat(fd)
                    if not stat.S_ISREG(info.st_mode):
                        raise OSError(0, "no longer a regular file (changed during the scan)")
                    # read(n) allocates n bytes up front: cap only what may be over the cap.
                    grown = info.st_size >= self._limit
                    data = handle.read(self._limit) if grown else handle.read()
            except OSError as exc:
                why = exc.strerror or str(exc)
                if exc.errno == errno.ELOOP and _NOFOLLOW:
                    # What O_NOFOLLOW says of a link; "too many levels of links" would mislead.
                    why = "now a symlink (changed during the scan; not followed)"
                yield blob, None, f"{blob.name}: {why}"
                continue
            yield blob, data, ""


class MemoryStore:
    """Content already in memory (standard input)."""

    def __init__(self, contents: dict[str, bytes]) -> None:
        self._contents = contents

    def read(self, blobs: Sequence[Blob]) -> Iterator[tuple[Blob, bytes | None, str]]:
        for blob in blobs:
            yield blob, self._contents[blob.id], ""


def git_ignored(root: Path) -> list[str]:
    from keyguard.sources import git

    return git.ignored_files(root)


def git_files(root: Path) -> list[str] | None:
    """Tracked and untracked-but-not-ignored files under root, or None outside a work tree."""
    # Through sources.git, which runs every git command with options that keep an untrusted
    # repository's config from running programs (core.fsmonitor would run on ls-files).
    from keyguard.sources import git

    return git.work_tree_files(root)


def walk(paths: list[Path], *, all_files: bool) -> Listing:
    """The files under the given paths (a file named itself is taken as it is)."""
    out = Listing()
    single_root = len(paths) == 1
    for root in paths:
        try:
            mode = root.lstat().st_mode
            if stat.S_ISLNK(mode):
                # A link the user names on the command line is their choice of root: follow
                # it (only links found inside a root are never followed).
                mode = root.stat().st_mode
        except OSError as exc:
            out.errors.append(f"{_display(str(root))}: {exc.strerror or exc}")
            continue
        if stat.S_ISDIR(mode):
            prefix = "" if single_root else root.as_posix().rstrip("/") + "/"
            _walk_dir(root, prefix, all_files, out)
        else:
            target = root.resolve() if root.is_symlink() else root
            _add(target, root.as_posix(), out)
    return out


def _display(name: str) -> str:
    """How a path is reported: forward slashes, no leading './', and valid UTF-8.

    A file name that is not valid UTF-8 comes back from the OS with surrogate escapes, which no
    report can encode; they are shown as U+FFFD (the file itself is still read by its real name).
    """
    name = normalise_path(name)
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _walk_dir(root: Path, prefix: str, all_files: bool, out: Listing) -> None:
    listed = None if all_files else git_files(root)
    names = listed if listed is not None else _walk_all(root, prefix, out.errors)
    for name in names:
        _add(root / name, prefix + name, out)
    if listed is not None:
        # Honouring .gitignore is what users expect, but never in silence: what it left out
        # is counted, and credential-like names among it are named (see ignored_notes).
        out.ignored.extend(_display(prefix + name) for name in git_ignored(root))
    if (root / ".git" / "config").is_file() and not (root / ".git" / "config").is_symlink():
        # The one file under .git/ a scan reads: remote URLs with a password or token in them
        # (`git clone https://user:token@host/...` keeps it there).
        _add(root / ".git" / "config", prefix + ".git/config", out)


# Names of files that usually hold credentials: an ignored one is named, not only counted
# (a .env is ignored precisely because it holds secrets, and it still leaks in backups,
# images and archives built from the work tree).
_CREDENTIAL_NAME = re.compile(
    r"(?:^|/)(?:\.env(?:\.[^/]*)?|[^/]*\.env|[^/]*\.(?:pem|key|p12|pfx|jks|keystore|tfstate|"
    r"ppk|kdbx|ovpn)|id_(?:rsa|dsa|ecdsa|ed25519)[^/]*|credentials[^/]*|secrets?\.[^/]*|"
    r"\.(?:netrc|pgpass|npmrc|pypirc|git-credentials|my\.cnf|s3cfg)|kubeconfig[^/]*)$",
    re.IGNORECASE,
)
MAX_NAMED_IGNORED = 20


def ignored_notes(ignored: Sequence[str]) -> list[str]:
    """What a scan that honoured .gitignore says about it: how many files it left out, and the
    ones named like credential files."""
    if not ignored:
        return []
    notes = [
        f"{len(ignored)} file{'s' * (len(ignored) != 1)} ignored by .gitignore not scanned "
        "(--all-files scans them)"
    ]
    risky = [name for name in ignored if _CREDENTIAL_NAME.search(name)]
    if risky:
        shown = ", ".join(risky[:MAX_NAMED_IGNORED])
        more = (
            f" and {len(risky) - MAX_NAMED_IGNORED} more" if len(risky) > MAX_NAMED_IGNORED else ""
        )
        notes.append(
            f"ignored by .gitignore and not scanned, but named like credential files: {shown}{more}"
        )
    return notes


def _walk_all(root: Path, prefix: str, errors: list[str]) -> Iterator[str]:
    """Every entry under root but directories (relative, forward slashes), each directory's
    entries sorted and listed before its subdirectories are entered.

    Walked with a stack, not recursion (os.walk recurses in Python 3.11): a hostile tree a
    thousand directories deep must not end the scan in a RecursionError. Links are entries,
    never entered, so a loop of links is one skipped symlink, not an endless walk.
    """
    stack = [""]
    while stack:
        rel = stack.pop()
        try:
            with os.scandir(root / rel if rel else root) as listing:
                entries = [(e.name, e.is_dir(follow_symlinks=False)) for e in listing]
        except OSError as exc:
            # A directory that cannot be listed makes the scan incomplete; it must not pass
            # silently.
            where = _display(prefix + (rel.rstrip("/") or "."))
            errors.append(f"{where}: {exc.strerror or exc}")
            continue
        entries.sort()
        yield from (f"{rel}{name}" for name, is_dir in entries if not is_dir)
        # Reversed onto the stack, so subdirectories are entered in sorted order.
        subdirs = [name for name, is_dir in entries if is_dir and name != ".git"]
        stack.extend(f"{rel}{name}/" for name in reversed(subdirs))


def _add(path: Path, display: str, out: Listing) -> None:
    display = _display(display)
    try:
        info = path.lstat()
    except FileNotFoundError:
        return  # tracked but deleted in the work tree
    except OSError as exc:
        out.errors.append(f"{display}: {exc.strerror or exc}")
        return
    if stat.S_ISLNK(info.st_mode):
        # Never follow a link: a target inside the root is scanned at its own path, and one
        # outside the root is not ours to read.
        out.skipped.append(Skip(display, "symlink", "a symlink (never followed)"))
        return
    if not stat.S_ISREG(info.st_mode):
        if not stat.S_ISDIR(info.st_mode):  # submodule directories are listed by git
            # Listed, never opened: opening a FIFO blocks until a writer comes, a device may
            # never end, and a socket cannot be opened at all.
            out.skipped.append(Skip(display, "special file", f"not a regular file ({_kind(info)})"))
        return
    out.blobs.append(Blob(str(path), display, info.st_size))


def _kind(info: os.stat_result) -> str:
    mode = info.st_mode
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "of another kind"


# What a user named may pass it by: how to ask for it anyway.
_HINTS = {"too large": " (use --max-file-size)"}


def not_scanned(targets: Sequence[str], skipped: Sequence[Skip]) -> list[str]:
    """A line for each file the user named on the command line that the scan passed over.

    A skip inside a directory is policy, counted in the summary; a file asked for by name and
    not scanned, with a clean exit, would read as "no secrets in it". (A directory named is
    not a file named: a file of the same name inside it is not meant.)
    """
    named = {
        "<stdin>" if t == "-" else _display(Path(t).as_posix())
        for t in targets
        if t == "-" or not os.path.isdir(t)
    }
    return [
        f"{s.name} not scanned: {s.detail or s.reason}{_HINTS.get(s.reason, '')}"
        for s in skipped
        if s.name in named
    ]
