"""Mirrors of the audited repositories in the work directory: `git ls-remote` to see whether
anything changed, `git clone --mirror` the first time, `git fetch --prune` after, each within
the repository's time and size budget.

These are the only git commands keyguard runs with the network allowed, so they are built
here and not by `sources.git.command` (whose `protocol.allow=never` forbids every fetch). What
stays forbidden: hooks, the fsmonitor and `ext::` URLs (which run a command). The user's own
credential helper and ssh settings are kept (a private organisation needs them), but git never
prompts: a repository that asks for a password fails instead of hanging a worker. The audit
itself then reads the mirror through `sources.git` with every safety option.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from keyguard.fleet.repolist import display_url
from keyguard.sources import git

_FETCH_CONFIG = (
    "core.fsmonitor=false",
    f"core.hooksPath={os.devnull}",
    "protocol.ext.allow=never",
    "color.ui=never",
    "gc.auto=0",  # a mirror is repacked by nobody mid-audit
)
_POLL = 0.2  # seconds between size checks of a clone in progress


class MirrorError(Exception):
    """Why a repository could not be mirrored (the reason is what the report says)."""


@dataclass(frozen=True, slots=True)
class Budget:
    deadline: float | None = None  # time.monotonic() by which the task must be done
    max_bytes: int | None = None  # the mirror's size on disk

    def remaining(self) -> float | None:
        return None if self.deadline is None else self.deadline - time.monotonic()


def _command(*args: str) -> list[str]:
    options = [item for setting in _FETCH_CONFIG for item in ("-c", setting)]
    return ["git", "--no-pager", *options, *args]


def _environment() -> dict[str, str]:
    env = git.environment()
    env["GIT_TERMINAL_PROMPT"] = "0"
    env.pop("GIT_NO_LAZY_FETCH", None)  # fetching is the point here
    # ssh must not ask either (an unknown host key, a passphrase): fail instead.
    env.setdefault("GIT_SSH_COMMAND", "ssh -o BatchMode=yes")
    return env


def remote_refs(url: str, budget: Budget) -> dict[str, str]:
    """The repository's refs (`git ls-remote`): name -> object id, without HEAD and the peeled
    `^{}` entries, so they compare equal to a mirror's own refs."""
    out = _run(_command("ls-remote", "--", url), budget, None, "cannot list its refs", url)
    refs: dict[str, str] = {}
    for line in out.decode("utf-8", "surrogateescape").splitlines():
        sha, _, name = line.partition("\t")
        if name and name != "HEAD" and not name.endswith("^{}"):
            refs[name] = sha
    return refs


def mirror_refs(mirror: Path) -> dict[str, str]:
    out = git.run_git(mirror, "for-each-ref", "--format=%(objectname)%09%(refname)")
    refs: dict[str, str] = {}
    for line in out.decode("utf-8", "surrogateescape").splitlines():
        sha, _, name = line.partition("\t")
        refs[name] = sha
    return refs


def update(url: str, mirror: Path, budget: Budget) -> None:
    """Make `mirror` a current mirror of `url`: fetched if it is one already, else cloned.

    A clone goes into a temporary directory renamed into place when it is whole, so a worker
    killed mid-clone leaves no half mirror behind. A mirror whose fetch fails (a worker died
    mid-fetch and left a lock, a disk error) is cloned again once, from scratch."""
    if _is_mirror_of(mirror, url):
        try:
            _run(
                _command("-C", str(mirror), "fetch", "--prune", "--quiet", "origin"),
                budget,
                mirror,
                "cannot fetch",
                url,
            )
            _check_size(mirror, budget)
            return
        except MirrorError as problem:
            if "time budget" in str(problem) or "size cap" in str(problem):
                raise
        shutil.rmtree(mirror, ignore_errors=True)
    elif mirror.exists():
        shutil.rmtree(mirror, ignore_errors=True)
    mirror.parent.mkdir(parents=True, exist_ok=True)
    for stale in mirror.parent.glob(f".{mirror.name}.*"):
        # A clone a dead worker left (the caller holds the mirror's lock: nobody else's).
        if stale.is_dir():
            shutil.rmtree(stale, ignore_errors=True)
    temporary = Path(tempfile.mkdtemp(prefix=f".{mirror.name}.", dir=mirror.parent))
    try:
        _run(
            # --no-local: a local path is read through git's transport, which checks every
            # object (a corrupt repository fails here) and hard-links nothing into the mirror.
            _command("clone", "--mirror", "--no-local", "--quiet", "--", url, str(temporary)),
            budget,
            temporary,
            "cannot clone",
            url,
        )
        _check_size(temporary, budget)
        os.replace(temporary, mirror)
    finally:
        shutil.rmtree(temporary, ignore_errors=True)


def _check_size(mirror: Path, budget: Budget) -> None:
    """The size cap holds for what a clone or fetch left, however fast it was."""
    if budget.max_bytes is None:
        return
    size = size_of(mirror)
    if size > budget.max_bytes:
        shutil.rmtree(mirror, ignore_errors=True)  # an oversized mirror is not kept
        raise MirrorError(f"over the size cap (--max-repo-size {budget.max_bytes} bytes): {size}")


def _is_mirror_of(mirror: Path, url: str) -> bool:
    if not (mirror / "HEAD").is_file():
        return False
    done = subprocess.run(
        [*git.command(mirror, "config", "--get", "remote.origin.url")],
        capture_output=True,
        env=git.environment(),
        check=False,
    )
    return done.returncode == 0 and done.stdout.decode("utf-8", "surrogateescape").strip() == url


def size_of(folder: Path) -> int:
    """Bytes of the files under `folder` (a mirror is a bare repository: no work tree)."""
    total = 0
    for root, _dirs, files in os.walk(folder):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(root, name)).st_size
    return total


def _run(argv: Sequence[str], budget: Budget, watch: Path | None, what: str, url: str) -> bytes:
    """Run git within the budget: killed past the deadline, or when `watch` grows past the
    size cap (checked as the objects arrive, so an oversized repository is never whole on
    disk). Failure raises MirrorError with git's last line of complaint."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        process = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            env=_environment(),
            start_new_session=True,  # killed with its children (ssh, remote helpers)
        )
        try:
            problem = _watch(process, budget, watch)
        finally:
            if process.poll() is None:
                _kill(process)
        if problem is not None:
            raise MirrorError(problem)
        if process.returncode != 0:
            err.seek(0)
            raise MirrorError(f"{what}: {_hide(_last_line(err.read()), url)}")
        out.seek(0)
        return out.read()


def _watch(process: subprocess.Popen[bytes], budget: Budget, watch: Path | None) -> str | None:
    while True:
        remaining = budget.remaining()
        wait = _POLL if remaining is None else max(min(_POLL, remaining), 0.0)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(wait)
            return None
        if remaining is not None and remaining <= 0:
            return "over the time budget (--repo-timeout) while fetching"
        cap = budget.max_bytes
        if cap is not None and watch is not None and size_of(watch) > cap:
            return f"over the size cap (--max-repo-size {cap} bytes) while fetching"


def _kill(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, 9)
    process.wait()


def _last_line(stderr: bytes) -> str:
    """git's own words: its first fatal or error line (the lines after it are advice)."""
    lines = [ln.strip() for ln in stderr.decode("utf-8", "replace").splitlines() if ln.strip()]
    chosen = next((ln for ln in lines if ln.startswith(("fatal:", "error:"))), None)
    text = chosen or (lines[-1] if lines else "git failed")
    return text.removeprefix("fatal: ").removeprefix("error: ")[:300]


def _hide(text: str, url: str) -> str:
    """git's message may quote the URL it was given: never with its credentials."""
    text = text.replace(url, display_url(url))
    password = urlsplit(url).password if "://" in url else None
    return text.replace(password, "***") if password else text


@contextlib.contextmanager
def locked(mirror: Path) -> Iterator[None]:
    """One task at a time per mirror: a task retried after its worker died, or a second run
    on the same work directory, waits for the first instead of fetching into it at once."""
    import fcntl

    mirror.parent.mkdir(parents=True, exist_ok=True)
    with open(mirror.parent / f".{mirror.name}.lock", "a") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
