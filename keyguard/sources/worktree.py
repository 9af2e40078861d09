"""Files and directories on disk (`keyguard scan`): honours .gitignore inside a git work tree."""

from __future__ import annotations

import os
import stat
import subprocess
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from keyguard.model import Blob, Skip, normalise_path

# Never follow a link when opening: a file swapped for a symlink after it was listed is not read.
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


@dataclass(slots=True)
class Listing:
    """What a source found to scan, and what it passed over before reading anything."""

    blobs: list[Blob] = field(default_factory=list)
    skipped: list[Skip] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


class FileStore:
    """Reads files on disk; a blob's id is its file system path."""

    def __init__(self, max_size: int) -> None:
        self._limit = max_size + 1  # one byte more than the cap tells the policy it is too large

    def read(self, blobs: Sequence[Blob]) -> Iterator[tuple[Blob, bytes | None, str]]:
        for blob in blobs:
            try:
                fd = os.open(blob.id, os.O_RDONLY | _NOFOLLOW)
                with os.fdopen(fd, "rb") as handle:
                    # read(n) allocates n bytes up front: cap only what may be over the cap.
                    grown = os.fstat(fd).st_size >= self._limit
                    data = handle.read(self._limit) if grown else handle.read()
            except OSError as exc:
                yield blob, None, f"{blob.name}: {exc.strerror or exc}"
                continue
            yield blob, data, ""


class MemoryStore:
    """Content already in memory (standard input)."""

    def __init__(self, contents: dict[str, bytes]) -> None:
        self._contents = contents

    def read(self, blobs: Sequence[Blob]) -> Iterator[tuple[Blob, bytes | None, str]]:
        for blob in blobs:
            yield blob, self._contents[blob.id], ""


def git_files(root: Path) -> list[str] | None:
    """Tracked and untracked-but-not-ignored files under root, or None outside a work tree."""
    try:
        inside = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--is-inside-work-tree"],
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError:
        return None
    if inside.returncode != 0 or inside.stdout.strip() != "true":
        return None
    listing = subprocess.run(
        ["git", "-C", str(root), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        capture_output=True,
        check=False,
    )
    if listing.returncode != 0:
        return None
    names = listing.stdout.split(b"\0")
    return sorted({os.fsdecode(n) for n in names if n})


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
            out.errors.append(f"{root}: {exc.strerror or exc}")
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


def _walk_all(root: Path, prefix: str, errors: list[str]) -> Iterator[str]:
    def on_error(exc: OSError) -> None:
        # A directory that cannot be listed makes the scan incomplete; it must not pass silently.
        where = os.path.relpath(exc.filename, root) if exc.filename else "."
        errors.append(f"{_display(prefix + Path(where).as_posix())}: {exc.strerror or exc}")

    for dirpath, dirnames, filenames in os.walk(root, onerror=on_error, followlinks=False):
        # os.walk lists a symlink to a directory among the directories (and does not descend);
        # hand it to _add like any other entry so it is counted as a skipped symlink.
        links = [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]
        dirnames[:] = sorted(d for d in dirnames if d != ".git" and d not in links)
        rel = os.path.relpath(dirpath, root)
        for name in sorted([*filenames, *links]):
            yield name if rel == "." else f"{Path(rel).as_posix()}/{name}"


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
        out.skipped.append(Skip(display, "symlink"))
        return
    if not stat.S_ISREG(info.st_mode):
        if not stat.S_ISDIR(info.st_mode):  # submodule directories are listed by git
            out.skipped.append(Skip(display, "special file"))
        return
    out.blobs.append(Blob(str(path), display, info.st_size))
