"""Git plumbing for history audits: commits with their changed blobs, objects in pack order, and a
bulk blob reader (one long-lived `git cat-file --batch` per worker, never one process per object).
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import tempfile
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import BinaryIO

from keyguard.errors import ScanError, UsageError
from keyguard.model import Blob

# Options for every git command keyguard runs, so that auditing an untrusted repository never
# runs a program its config names. Command-line `-c` wins over every config file and reaches
# the child processes git starts. What needs no option here: filters (clean/smudge/process)
# only run when content moves between the work tree and the object store, which no command
# below does; `uploadpack.packObjectsHook` is honoured only from protected (system, global,
# command-line) config and only by upload-pack, which runs only for a fetch, and
# `protocol.allow=never` forbids every fetch (git before 2.44 ignores GIT_NO_LAZY_FETCH: a
# partial clone's lazy fetch then fails at once instead of reaching the network).
# core.hooksPath is pointed nowhere, except where keyguard asks where hooks live (install).
# Not touched on purpose: system and global config (a server's `keyguard.*` settings and
# `safe.directory` live there), GIT_DIR / GIT_INDEX_FILE (a hook's git sets them).
SAFE_CONFIG = (
    "core.fsmonitor=false",
    "core.sshCommand=",
    "core.askPass=",
    "core.alternateRefsCommand=",
    f"core.hooksPath={os.devnull}",
    "credential.helper=",
    "diff.external=",
    "log.showSignature=false",  # would run gpg.program, which the repository may name
    "color.ui=never",  # colour codes would corrupt the output parsed here
    "protocol.allow=never",
)
SAFE_ENV = {
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_NO_REPLACE_OBJECTS": "1",  # a replace ref must not hide the object really stored
    "GIT_NO_LAZY_FETCH": "1",  # git >= 2.44: a partial clone's missing object stays missing
    "GIT_OPTIONAL_LOCKS": "0",  # read-only: never take index.lock to refresh the index
    "GIT_PAGER": "cat",
}
# Variables that name programs for git to run; dropped from the environment git inherits.
UNSAFE_ENV = ("GIT_EXTERNAL_DIFF", "GIT_SSH", "GIT_SSH_COMMAND", "GIT_ASKPASS", "SSH_ASKPASS")
# Diff options for every command that compares trees: no external diff, no textconv driver.
SAFE_DIFF = ("--no-ext-diff", "--no-textconv")

ZERO = "0" * 40  # the null id of a SHA-1 repository; SHA-256 ones use 64 zeros (see is_zero)
SUBMODULE_MODE = "160000"
_ID_LENGTHS = (40, 64)  # SHA-1 and SHA-256 object ids


def is_zero(sha: str) -> bool:
    """git's null object id, in either hash's length (a created or deleted ref, an added path)."""
    return len(sha) in _ID_LENGTHS and not sha.strip("0")


_HEX_ID = re.compile("|".join(f"[0-9a-f]{{{n}}}" for n in _ID_LENGTHS))
_HEX_ID_BYTES = re.compile(_HEX_ID.pattern.encode("ascii"))


def is_object_id(text: str | bytes) -> bool:
    """A full SHA-1 or SHA-256 object id in lowercase hex (called on every token of a log)."""
    if isinstance(text, bytes):
        return _HEX_ID_BYTES.fullmatch(text) is not None
    return _HEX_ID.fullmatch(text) is not None


@dataclass(frozen=True, slots=True)
class Change:
    """One path a commit changed (relative to its first parent): old and new blob ids."""

    old_mode: str
    new_mode: str
    old: str
    new: str
    status: str  # A, M, D, T
    path: str  # for display: non-UTF-8 bytes escaped
    raw_path: bytes = b""  # as git stores it


@dataclass(frozen=True, slots=True)
class CommitRecord:
    sha: str
    parents: tuple[str, ...]
    author: str
    date: str
    summary: str
    changes: tuple[Change, ...]
    # The whole message, for the message scan (history.messages); dropped once scanned, so
    # the records a long audit keeps do not hold every message of its history.
    message: bytes = b""  # as git wrote it (scanned as bytes, like a blob)


def command(repo: Path, *args: str | bytes, hooks_path: bool = False) -> list[str | bytes]:
    """The argv of a git command in `repo` with the safety options (see SAFE_CONFIG); every git
    process keyguard starts is built here. `hooks_path` keeps the repository's core.hooksPath
    (only to ask where hooks live, never to run a command that could run one)."""
    options: list[str | bytes] = ["git", "--no-pager"]
    for setting in SAFE_CONFIG:
        if hooks_path and setting.startswith("core.hooksPath="):
            continue
        options += ["-c", setting]
    return [*options, "-C", os.fsencode(repo), *args]


def environment() -> dict[str, str]:
    """The environment of every git process keyguard starts (see SAFE_ENV)."""
    env = {k: v for k, v in os.environ.items() if k not in UNSAFE_ENV}
    env.update(SAFE_ENV)
    return env


def run_git(
    repo: Path,
    *args: str | bytes,
    check: bool = True,
    stdin: bytes | None = None,
    hooks_path: bool = False,
) -> bytes:
    try:
        done = subprocess.run(
            command(repo, *args, hooks_path=hooks_path),
            capture_output=True,
            check=False,
            input=stdin,
            env=environment(),
        )
    except OSError as exc:
        raise ScanError(f"cannot run git: {exc}") from None
    if check and done.returncode != 0:
        raise git_failure(args, done.stderr, done.returncode)
    return done.stdout


def run_git_partial(repo: Path, *args: str, stdin: bytes | None = None) -> tuple[bytes, str | None]:
    """(output, None) or, when git fails, (what it wrote before failing, the error): for
    commands that write as they go, whose output up to a failure is still good."""
    try:
        done = subprocess.run(
            command(repo, *args), capture_output=True, check=False, input=stdin, env=environment()
        )
    except OSError as exc:
        raise ScanError(f"cannot run git: {exc}") from None
    if done.returncode == 0:
        return done.stdout, None
    failure = git_failure(args, done.stderr, done.returncode)
    if isinstance(failure, UsageError):
        raise failure
    return done.stdout, str(failure)


DUBIOUS = "detected dubious ownership"


def git_failure(args: Sequence[str | bytes], stderr: bytes, code: int) -> ScanError | UsageError:
    """The error a failed git command becomes; a repository git refuses to open because another
    user owns it is the user's to resolve, so that one says how (a usage error, exit 2)."""
    text = stderr.decode("utf-8", "replace")
    name = next((os.fsdecode(a) for a in args if not os.fsdecode(a).startswith("-")), "")
    if DUBIOUS in text:
        return refused(text)
    lines = text.strip().splitlines()
    return ScanError(f"git {name} failed: {lines[-1] if lines else code}")


def refused(stderr: str) -> UsageError:
    where = ""
    for line in stderr.splitlines():
        if DUBIOUS in line and "'" in line:
            where = line.split("'", 2)[1]
    shown = where or "the repository"
    return UsageError(
        f"git refuses to open {shown}: it is owned by another user (git's safe.directory "
        "protection). If you trust it, run: git config --global --add safe.directory "
        f"{where or 'PATH'}"
    )


def decode_path(raw: bytes) -> str:
    # Non-UTF-8 paths are reported with escapes rather than crashing a JSON writer.
    return raw.decode("utf-8", "backslashreplace")


def log_command(scope: Sequence[str]) -> list[str]:
    """`git log` over the scope with raw first-parent diffs (merges: against their first parent)."""
    return [
        "log",
        "--raw",
        "--no-abbrev",
        "--no-renames",
        "--diff-merges=first-parent",
        *SAFE_DIFF,
        "-z",
        "--format=%x00%H%x00%P%x00%an%x00%aI%x00%s%x00%B",
        *scope,
        "--",
    ]


def parse_log(data: bytes) -> Iterator[CommitRecord]:
    return parse_tokens(iter(data.split(b"\0")))


def parse_log_file(handle: BinaryIO) -> Iterator[CommitRecord]:
    """Parse `git log -z --raw` output from a file, a chunk at a time (memory stays flat)."""
    return parse_tokens(_split_stream(handle))


def _split_stream(handle: BinaryIO) -> Iterator[bytes]:
    rest = b""
    for chunk in iter(lambda: handle.read(1 << 20), b""):
        parts = (rest + chunk).split(b"\0")
        rest = parts.pop()
        yield from parts
    yield rest


def _change(meta: bytes, raw_path: bytes | None) -> Change | None:
    """One `--raw -z` entry: `:old_mode new_mode old new status` then the path."""
    # (one decode of the whole entry: ids and modes are ASCII; 280k entries in git.git's log)
    fields = meta.lstrip(b"\n")[1:].decode("ascii", "replace").split(" ")
    if len(fields) < 5 or raw_path is None:
        return None
    return Change(
        fields[0], fields[1], fields[2], fields[3], fields[4][:1], decode_path(raw_path), raw_path
    )


def parse_raw_diff(data: bytes) -> list[Change]:
    """The entries of `git diff-index --raw -z` (no commit headers)."""
    tokens = iter(data.split(b"\0"))
    changes: list[Change] = []
    for meta in tokens:
        if not meta.startswith(b":"):
            continue
        change = _change(meta, next(tokens, None))
        if change is not None:
            changes.append(change)
    return changes


def parse_tokens(tokens: Iterator[bytes]) -> Iterator[CommitRecord]:
    """Records from the NUL-separated tokens of `git log -z --raw --format=%x00%H%x00%P...`
    (see log_command: five header fields after the id, the message last)."""
    token = next(tokens, None)
    while token is not None:
        if not is_object_id(token):
            token = next(tokens, None)
            continue
        sha = token.decode()
        header = [next(tokens, None) for _ in range(5)]
        if any(h is None for h in header):
            return
        parents, author, date, summary, message = (h or b"" for h in header)
        changes: list[Change] = []
        token = next(tokens, None)
        while token is not None and token.lstrip(b"\n").startswith(b":"):
            change = _change(token, next(tokens, None))
            if change is None:
                break
            changes.append(change)
            token = next(tokens, None)
        yield CommitRecord(
            sha,
            tuple(parents.decode().split()),
            author.decode("utf-8", "replace"),
            date.decode(),
            summary.decode("utf-8", "replace"),
            tuple(changes),
            message,
        )


def blobs_in_pack_order(repo: Path) -> list[Blob]:
    """Every blob in the object store, in pack order (reading in this order is ~5x faster)."""
    out = run_git(
        repo,
        "cat-file",
        "--batch-all-objects",
        "--batch-check=%(objectname) %(objecttype) %(objectsize)",
        "--unordered",
    )
    blobs: list[Blob] = []
    for line in out.splitlines():
        parts = line.split(b" ")
        if len(parts) == 3 and parts[1] == b"blob":
            blobs.append(Blob(parts[0].decode(), None, int(parts[2])))
    return blobs


def with_sizes(repo: Path, blobs: Sequence[Blob]) -> list[Blob]:
    """The blobs with their sizes (`git cat-file --batch-check`), so the skip policy can pass
    over an over-size one unread; a missing object keeps size None, and the reader reports it."""
    if not blobs:
        return []
    out = run_git(
        repo,
        "cat-file",
        "--batch-check=%(objectname) %(objectsize)",
        stdin=("\n".join(b.id for b in blobs) + "\n").encode(),
        check=False,
    )
    sizes: dict[str, int] = {}
    for line in out.splitlines():
        parts = line.split(b" ")
        if len(parts) == 2 and parts[1].isdigit():
            sizes[parts[0].decode()] = int(parts[1])
    return [replace(b, size=sizes.get(b.id)) for b in blobs]


def _widen_pipe(stream: object) -> None:
    """A 1 MiB pipe instead of 64 KiB: far fewer context switches between git and us."""
    try:
        import fcntl

        fileno = stream.fileno()  # type: ignore[attr-defined]
        fcntl.fcntl(fileno, getattr(fcntl, "F_SETPIPE_SZ", 1031), 1 << 20)
    except (OSError, ImportError, AttributeError, ValueError):
        pass  # not Linux, or the limit is lower: the default pipe still works


def cat_file_batch(repo: Path, bufsize: int = -1) -> subprocess.Popen[bytes]:
    """One `git cat-file --batch` process (with the safety options), ids in, objects out; its
    errors are ours to report per object, so git's stderr is dropped."""
    return subprocess.Popen(
        command(repo, "cat-file", "--batch"),
        env=environment(),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        bufsize=bufsize,
    )


class BlobReader:
    """Streams blob contents for a list of ids through one `git cat-file --batch` process.

    A corrupt object can make git die mid-stream: that object is reported as unreadable (None)
    and a fresh process carries on with the rest, so one bad object loses nothing else.
    """

    def __init__(self, repo: Path, shas: Sequence[str]) -> None:
        self._repo = repo
        self._shas = shas
        self._start(0)

    def _start(self, offset: int) -> None:
        self._proc = cat_file_batch(self._repo, bufsize=1 << 20)
        _widen_pipe(self._proc.stdout)
        # Feed ids from a thread so git never blocks on a full stdout while we block on stdin.
        self._feeder = threading.Thread(target=self._feed, args=(offset,), daemon=True)
        self._feeder.start()

    def _feed(self, offset: int) -> None:
        stdin = self._proc.stdin
        assert stdin is not None
        try:
            for start in range(offset, len(self._shas), 4096):
                stdin.write(("\n".join(self._shas[start : start + 4096]) + "\n").encode())
            stdin.close()
        except (BrokenPipeError, ValueError, OSError):
            pass

    def __iter__(self) -> Iterator[tuple[str, bytes | None]]:
        """(sha, content) for each id in order; content None when it cannot be read."""
        index = 0
        while index < len(self._shas):
            stdout = self._proc.stdout
            assert stdout is not None
            header = stdout.readline()
            parts = header.split()
            if len(parts) == 2 and parts[1] in (b"missing", b"ambiguous"):
                yield self._shas[index], None
                index += 1
                continue
            content = b""
            if len(parts) == 3 and parts[2].isdigit():
                size = int(parts[2])
                content = stdout.read(size)
                if len(content) == size and stdout.read(1) == b"\n":
                    yield self._shas[index], content
                    index += 1
                    continue
            # git died or printed something unexpected: this object is unreadable; restart
            # git for the rest.
            yield self._shas[index], None
            index += 1
            self.close()
            if index < len(self._shas):
                self._start(index)

    def close(self) -> None:
        for stream in (self._proc.stdin, self._proc.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        self._proc.kill()
        self._proc.wait()


class ObjectReader:
    """Reads objects one at a time through one `git cat-file --batch` (it answers each request
    before the next is sent: for walks whose next ids depend on what was read). A corrupt
    object makes git die: that object reads as None and a fresh process serves the next."""

    def __init__(self, repo: Path) -> None:
        self._repo = repo
        self._proc: subprocess.Popen[bytes] | None = None

    def read(self, sha: str) -> tuple[str, bytes] | None:
        """(type, content) of an object, or None when it is missing or unreadable."""
        if not is_object_id(sha):
            return None
        if self._proc is None:
            self._proc = cat_file_batch(self._repo)
        stdin, stdout = self._proc.stdin, self._proc.stdout
        assert stdin is not None and stdout is not None
        try:
            stdin.write(sha.encode() + b"\n")
            stdin.flush()
            parts = stdout.readline().split()
            if len(parts) == 3 and parts[2].isdigit():
                size = int(parts[2])
                content = stdout.read(size)
                if len(content) == size and stdout.read(1) == b"\n":
                    return parts[1].decode(), content
            elif len(parts) == 2:
                return None  # missing: git carries on
        except OSError:
            pass
        self.close()  # git died (a corrupt object) or said something unexpected
        return None

    def close(self) -> None:
        if self._proc is None:
            return
        for stream in (self._proc.stdin, self._proc.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        self._proc.kill()
        self._proc.wait()
        self._proc = None


class GitStore:
    """Reads git objects by id: one `git cat-file --batch` for each list of blobs."""

    def __init__(self, repo: Path) -> None:
        self._repo = repo

    def read(self, blobs: Sequence[Blob]) -> Iterator[tuple[Blob, bytes | None, str]]:
        reader = BlobReader(self._repo, [b.id for b in blobs])
        try:
            for blob, (sha, data) in zip(blobs, reader, strict=False):
                yield blob, data, f"object {sha} is missing or corrupt" if data is None else ""
        finally:
            reader.close()


class Background:
    """A git command running while the caller does other work; its output goes to a temporary
    file, not memory, so a long history costs disk, not RAM."""

    def __init__(self, repo: Path, args: Sequence[str]) -> None:
        self._out: BinaryIO = tempfile.TemporaryFile()  # noqa: SIM115 - outlives this call
        self._err: BinaryIO = tempfile.TemporaryFile()  # noqa: SIM115 - outlives this call
        try:
            self._proc = subprocess.Popen(
                command(repo, *args), env=environment(), stdout=self._out, stderr=self._err
            )
        except OSError as exc:
            raise ScanError(f"cannot run git: {exc}") from None
        self._args = args

    def result(self) -> BinaryIO:
        """The finished command's output, positioned at its start (the caller closes it)."""
        if self._proc.wait() != 0:
            self._err.seek(0)
            stderr = self._err.read()
            self._out.close()
            self._err.close()
            raise git_failure(self._args, stderr, self._proc.returncode)
        self._err.close()
        self._out.seek(0)
        return self._out

    def cancel(self) -> None:
        self._proc.kill()
        self._proc.wait()
        self._out.close()
        self._err.close()


def is_repository(repo: Path) -> bool:
    try:
        common_dir(repo)
    except ScanError:
        return False
    return True


def common_dir(repo: Path) -> Path:
    """The git dir shared by all work trees of a repository."""
    out = run_git(repo, "rev-parse", "--git-common-dir").decode().strip()
    path = Path(out)
    return path if path.is_absolute() else (repo / path).resolve()


def ref_tips(repo: Path) -> list[str]:
    """What an audit of all refs starts from: `--all` (refs, every work tree's HEAD) plus the
    older stash entries, which live only in the stash's reflog."""
    out = set(run_git(repo, "rev-parse", "--all").decode().split())
    head = run_git(repo, "rev-parse", "--verify", "--quiet", "HEAD", check=False).decode().strip()
    listing = run_git(repo, "worktree", "list", "--porcelain", check=False).decode()
    worktree_heads = {line[5:].strip() for line in listing.splitlines() if line.startswith("HEAD ")}
    return sorted(out | set(stash_entries(repo)) | worktree_heads | ({head} if head else set()))


def stash_entries(repo: Path) -> list[str]:
    out = run_git(repo, "log", "-g", "--format=%H", "refs/stash", "--", check=False)
    return [line for line in out.decode().split() if is_object_id(line)]


def verify_revision(repo: Path, rev: str) -> str:
    """The commit a user-supplied revision names; never lets it be read as a git option."""
    if not rev or rev.startswith("-"):
        raise UsageError(f"not a revision: {rev!r}")
    out = run_git(
        repo,
        "rev-parse",
        "--verify",
        "--quiet",
        "--end-of-options",
        f"{rev}^{{commit}}",
        check=False,
    ).strip()
    if not out:
        raise UsageError(f"unknown revision: {rev!r}")
    return out.decode()


def tree_entry(repo: Path, commit: str, raw_path: bytes) -> str | None:
    """The blob id at a path in a commit, or None (paths passed as raw bytes, taken literally)."""
    try:
        out = run_git(
            repo, "--literal-pathspecs", "ls-tree", "-z", commit, "--", raw_path, check=False
        )
    except ScanError:
        return None
    entry = out.split(b"\0", 1)[0]
    meta, _, name = entry.partition(b"\t")
    fields = meta.split(b" ")
    if name == raw_path and len(fields) == 3 and fields[1] == b"blob":
        return fields[2].decode()
    return None


def all_reachable(repo: Path, old: Sequence[str], new: Sequence[str]) -> bool:
    """Is every commit reachable from `old` still reachable from `new` (no force push, no deletion)?"""
    revs = "\n".join([*old, *(f"^{sha}" for sha in new)]) + "\n"
    out = run_git(repo, "rev-list", "--count", "--stdin", check=False, stdin=revs.encode())
    return out.strip() == b"0"


def objects_of_type(repo: Path, kind: str) -> list[str]:
    """The ids of every object of one type in the object store (readable or not: a corrupt
    loose object is listed as missing and left out)."""
    out = run_git(
        repo,
        "cat-file",
        "--batch-all-objects",
        "--batch-check=%(objectname) %(objecttype)",
        "--unordered",
        check=False,
    )
    kind_bytes = kind.encode()
    return [
        p[0].decode()
        for p in (line.split(b" ") for line in out.splitlines())
        if len(p) == 2 and p[1] == kind_bytes
    ]


def is_partial_clone(repo: Path) -> bool:
    """Does the repository have a promisor remote (a `--filter` clone, objects left behind)?"""
    out = run_git(
        repo,
        "config",
        "--get-regexp",
        r"^(extensions\.partialclone|remote\..*\.promisor)$",
        check=False,
    )
    return any(
        line.split(b" ", 1)[-1].strip().lower() not in (b"", b"false") for line in out.splitlines()
    )


def is_shallow(repo: Path) -> bool:
    return run_git(repo, "rev-parse", "--is-shallow-repository").strip() == b"true"


def head_blobs(repo: Path) -> tuple[set[str], str | None]:
    """Blob ids in HEAD's tree (empty when HEAD is unborn), and the error if part of the tree
    is unreadable (the blobs listed before it are still returned)."""
    if not run_git(repo, "rev-parse", "--verify", "--quiet", "HEAD", check=False).strip():
        return set(), None
    out, failure = run_git_partial(repo, "ls-tree", "-r", "-z", "HEAD")
    if failure is not None:
        out = out.rpartition(b"\0")[0]  # the last entry may be cut short
    shas: set[str] = set()
    for entry in out.split(b"\0"):
        meta = entry.split(b"\t", 1)[0].split(b" ")
        if len(meta) == 3 and meta[1] == b"blob":
            shas.add(meta[2].decode())
    return shas, failure


def head(repo: Path) -> str | None:
    """The commit HEAD names, or None when it is unborn (a repository's first commit)."""
    out = run_git(repo, "rev-parse", "--verify", "--quiet", "HEAD^{commit}", check=False).strip()
    return out.decode() if out else None


def empty_tree(repo: Path) -> str:
    """The id of the empty tree in this repository's hash (SHA-1 or SHA-256)."""
    return run_git(repo, "hash-object", "-t", "tree", "--stdin", stdin=b"").decode().strip()


def toplevel(repo: Path) -> Path | None:
    """The root of the work tree, or None for a bare repository."""
    out = run_git(repo, "rev-parse", "--show-toplevel", check=False).strip()
    return Path(os.fsdecode(out)) if out else None


def git_path(repo: Path, name: str) -> Path:
    """`git rev-parse --git-path NAME`, absolute (honours core.hooksPath for `hooks`)."""
    out = os.fsdecode(run_git(repo, "rev-parse", "--git-path", name, hooks_path=True).strip())
    path = Path(out)
    return path if path.is_absolute() else (repo / path).resolve()


def merge_heads(repo: Path) -> list[str]:
    """The other parents of a merge in progress (MERGE_HEAD), if any."""
    try:
        text = git_path(repo, "MERGE_HEAD").read_text(encoding="ascii", errors="replace")
    except OSError:
        return []
    return [line for line in text.split() if is_object_id(line)]


def object_exists(repo: Path, sha: str) -> bool:
    if not is_object_id(sha):
        return False
    try:
        done = subprocess.run(
            command(repo, "cat-file", "-e", sha),
            capture_output=True,
            check=False,
            env=environment(),
        )
    except OSError:
        return False
    return done.returncode == 0


def config_value(repo: Path, key: str) -> str | None:
    out = run_git(repo, "config", "--get", key, check=False).strip()
    return out.decode("utf-8", "replace") if out else None


def has_any_ref(repo: Path) -> bool:
    return bool(run_git(repo, "for-each-ref", "--count=1").strip()) or bool(
        run_git(repo, "rev-parse", "--verify", "--quiet", "HEAD", check=False).strip()
    )


def work_tree_files(root: Path) -> list[str] | None:
    """Tracked and untracked-but-not-ignored files under root, or None outside a work tree (a
    repository git refuses to open for its owner raises the usage error that says how)."""
    try:
        inside = subprocess.run(
            command(root, "rev-parse", "--is-bare-repository", "--is-inside-work-tree"),
            capture_output=True,
            check=False,
            env=environment(),
        )
    except OSError:
        return None
    if DUBIOUS in inside.stderr.decode("utf-8", "replace"):
        raise refused(inside.stderr.decode("utf-8", "replace"))
    answers = inside.stdout.split()
    if inside.returncode == 0 and answers[:1] == [b"true"]:
        # Its files are compressed objects: a scan of them would pass whatever they hold.
        raise UsageError(
            f"{root} is a bare repository: it has no work tree to scan; "
            f"audit its history with `keyguard history {root}`"
        )
    if inside.returncode != 0 or answers[1:] != [b"true"]:
        return None
    try:
        listing = run_git(root, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    except ScanError:
        return None
    return sorted({os.fsdecode(n) for n in listing.split(b"\0") if n})


def ignored_files(root: Path) -> list[str]:
    """The untracked files under root that .gitignore (and .git/info/exclude, core.excludesFile)
    leaves out of a scan; [] when git cannot say."""
    try:
        listing = run_git(root, "ls-files", "-z", "--others", "--ignored", "--exclude-standard")
    except ScanError:
        return []
    return sorted({os.fsdecode(n) for n in listing.split(b"\0") if n})
