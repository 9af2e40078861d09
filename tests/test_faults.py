"""Faults during `keyguard history`: SIGINT and SIGTERM mid-audit, two audits of one repository
at once, a full disk while the cache is stored. Whatever happens, the report file is absent or
whole (marked incomplete when the audit was cut short) and the history cache is absent, the old
one, or a valid new one that the next audit trusts and that gives the --no-cache findings.

Real CLI processes on a real history of a few thousand commits (written with `git fast-import`,
so an audit lasts about a second and a signal can land in the middle of it)."""

from __future__ import annotations

import json
import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from keyguard.config import DEFAULT_MAX_SIZE
from keyguard.examples import generate_secret
from keyguard.history import cache as history_cache
from keyguard.history.cache import HistoryCache, cache_path
from keyguard.signatures import load_builtin
from tests.conftest import _GIT_ENV

GITHUB_PAT = next(r for r in load_builtin() if r.id == "github.pat")
COMMITS = 2000
FILES_PER_COMMIT = 8
MORE_COMMITS = 400  # appended before a re-audit, so that audit is incremental
SECRET_EVERY = 250  # a generated token in every 250th commit

FindingKey = tuple[str, str, int, str, str]
DIED = {-signal.SIGINT, 128 + signal.SIGINT, -signal.SIGTERM, 128 + signal.SIGTERM}


@dataclass(frozen=True)
class Audited:
    code: int
    err: str
    report: dict[str, Any] | None  # None: no report file was written

    @property
    def findings(self) -> list[FindingKey]:
        assert self.report is not None
        return keys(self.report)


def keys(report: dict[str, Any]) -> list[FindingKey]:
    # Not the age (it depends on today) nor the value (cached findings keep only its hash).
    return sorted(
        (f["rule_id"], f["path"], f["line"], f["commit"], f["secret_hash"])
        for f in report["findings"]
    )


def fast_import(repo: Path, env: dict[str, str], first: int, count: int, seed: str) -> None:
    """`count` commits on main, each rewriting FILES_PER_COMMIT files, in one fast-import."""
    rng = random.Random(seed)
    out = bytearray()

    def data(body: bytes) -> None:
        out.extend(b"data %d\n%s\n" % (len(body), body))

    for n in range(first, first + count):
        out.extend(b"commit refs/heads/main\n")
        out.extend(b"committer Test <test@example.invalid> %d +0000\n" % (1_700_000_000 + 60 * n))
        data(b"change %d" % n)
        if n == first and first > 1:
            out.extend(b"from refs/heads/main^0\n")
        for f in range(FILES_PER_COMMIT):
            body = "".join(
                f"line {i} of module {f} at change {n}: value={rng.getrandbits(64):x}\n"
                for i in range(20)
            )
            if n % SECRET_EVERY == 0 and f == 0:
                body += f"GITHUB_TOKEN={generate_secret(GITHUB_PAT, rng)}\n"
            out.extend(b"M 100644 inline src/pkg%d/mod%d.py\n" % (f % 3, f))
            data(body.encode())
    subprocess.run(
        ["git", "fast-import", "--quiet"], cwd=repo, input=bytes(out), env=env, check=True
    )


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    home = tmp_path_factory.mktemp("home")
    out = {**os.environ, **_GIT_ENV, "HOME": str(home)}
    out["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("user-cache"))  # warm compiled rules
    out.pop("KEYGUARD_NO_CACHE", None)
    return out


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory, env: dict[str, str]) -> Path:
    repo = tmp_path_factory.mktemp("template") / "repo"
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], env=env, check=True)
    fast_import(repo, env, 1, COMMITS, "faults")
    return repo


class Repo:
    """A copy of the template history, audited through the CLI."""

    def __init__(self, path: Path, env: dict[str, str]) -> None:
        self.path = path
        self.env = env
        where = cache_path(path / ".git", str(path.resolve()))
        assert where is not None and where.is_relative_to(path / ".git")
        self.cache = where
        self.ruleset = ""  # the digest of the rules the audits run, from their reports

    def command(self, out: Path, *extra: str) -> list[str]:
        report = ["--format", "json", "--output", str(out), "--no-config"]
        return [sys.executable, "-m", "keyguard", "history", str(self.path), *report, *extra]

    def start(self, out: Path, *extra: str, **popen: Any) -> subprocess.Popen[str]:
        return subprocess.Popen(
            self.command(out, *extra),
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            **popen,
        )

    def audit(self, out: Path, *extra: str, **popen: Any) -> Audited:
        out.unlink(missing_ok=True)
        process = self.start(out, *extra, **popen)
        _, err = process.communicate(timeout=600)
        return finished(process, err, out)

    def more_history(self) -> None:
        fast_import(self.path, self.env, COMMITS + 1, MORE_COMMITS, "faults-more")

    def cache_state(self) -> HistoryCache | None:
        """The cache file as the next audit would load it: None if there is none; a file that
        audit would reject (torn, wrong checksum, another ruleset) fails the test."""
        if not self.cache.exists():
            return None
        assert self.ruleset, "run `reference` first: it tells the ruleset digest"
        raw = self.cache.read_bytes()
        parsed = HistoryCache.from_json(raw, self.ruleset, DEFAULT_MAX_SIZE)
        assert parsed is not None, "a cache file the next audit would not accept"
        return parsed

    def litter(self) -> list[str]:
        folder = self.cache.parent
        return sorted(p.name for p in folder.glob(".tmp-*")) if folder.exists() else []


def finished(process: subprocess.Popen[str], err: str, out: Path) -> Audited:
    """The report file is absent or whole, and says whether the audit completed."""
    report = None
    if out.exists():
        text = out.read_text(encoding="utf-8")
        report = json.loads(text)  # a truncated file fails here
        assert isinstance(report, dict)
    done = Audited(process.returncode, err, report)
    if done.code in DIED:
        # The signal came before keyguard's main ran (Python still starting: nothing written)
        # or after it had written its report (whole and complete): the process dies of it.
        assert report is None or report["scan"]["complete"] is True, err
        return done
    assert done.code in (1, 3), err
    if report is not None:
        assert report["scan"]["complete"] is (done.code != 3), err
    return done


@pytest.fixture
def repo(tmp_path: Path, template: Path, env: dict[str, str]) -> Iterator[Repo]:
    path = tmp_path / "repo"
    shutil.copytree(template, path, symlinks=True)
    yield Repo(path, env)


def reference(repo: Repo, tmp_path: Path) -> list[FindingKey]:
    """The findings of an audit that trusts no cache."""
    done = repo.audit(tmp_path / "reference.json", "--no-cache")
    assert done.code == 1 and done.report is not None, done.err
    repo.ruleset = done.report["scan"]["ruleset"]
    return done.findings


def assert_next_audit_agrees(repo: Repo, tmp_path: Path, expected: list[FindingKey]) -> Audited:
    assert not repo.litter(), "temporary cache files left behind"
    repo.cache_state()
    again = repo.audit(tmp_path / "again.json")
    assert again.code == 1 and again.report is not None, again.err
    assert again.findings == expected
    assert repo.cache_state() is not None
    return again


def descendants(pid: int) -> dict[int, list[str]]:
    """The command lines of `pid`'s living children, grandchildren... (Linux /proc)."""
    parents: dict[int, int] = {}
    argvs: dict[int, list[str]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if fields[0] == "Z":
                continue
            # Both or neither: a process that exits between the two reads is skipped whole.
            argv = (entry / "cmdline").read_bytes().decode().split("\0")
            parents[int(entry.name)] = int(fields[1])
            argvs[int(entry.name)] = argv
        except (OSError, ValueError, IndexError):
            continue  # gone meanwhile
    out: dict[int, list[str]] = {}
    todo = [pid]
    while todo:
        parent = todo.pop()
        for child, of in parents.items():
            if of == parent and child not in out:
                out[child] = argvs[child]
                todo.append(child)
    return out


def is_reading_blobs(argv: list[str]) -> bool:
    return "cat-file" in argv and "--batch" in argv


def wait_for_blob_reading(process: subprocess.Popen[str]) -> bool:
    """Until the audit reads blobs (a `git cat-file --batch` runs): then it is mid-scan."""
    while process.poll() is None:
        if any(is_reading_blobs(argv) for argv in descendants(process.pid).values()):
            return True
        time.sleep(0.005)
    return False


def is_running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


SIGNALS = [pytest.param(signal.SIGINT, id="SIGINT"), pytest.param(signal.SIGTERM, id="SIGTERM")]


@pytest.mark.parametrize("signum", SIGNALS)
def test_signal_mid_scan_writes_a_partial_report_and_a_valid_cache(
    repo: Repo, tmp_path: Path, signum: signal.Signals
) -> None:
    expected = reference(repo, tmp_path)
    assert len(expected) >= COMMITS // SECRET_EVERY
    out = tmp_path / "report.json"
    process = repo.start(out)
    assert wait_for_blob_reading(process), "the audit ended before it read any blob"
    process.send_signal(signum)
    _, err = process.communicate(timeout=600)
    done = finished(process, err, out)
    assert done.code == 3, err
    assert done.report is not None, f"no partial report: {err}"
    assert any(e.startswith("interrupted:") for e in done.report["scan"]["errors"])
    assert set(done.findings) <= set(expected)
    assert "Traceback" not in err
    again = assert_next_audit_agrees(repo, tmp_path, expected)
    if done.report["scan"]["files"]:  # what the interrupted audit scanned is not read again
        assert again.report is not None
        assert again.report["scan"]["files"] < COMMITS * FILES_PER_COMMIT


@pytest.mark.parametrize("signum", SIGNALS)
def test_signal_at_any_moment_keeps_report_and_cache_consistent(
    repo: Repo, tmp_path: Path, signum: signal.Signals
) -> None:
    """An old cache, more history, and the signal at moments spread over a whole re-audit:
    before the scan, during it, while the report or the cache is written, or too late."""
    first = repo.audit(tmp_path / "first.json")
    assert first.code == 1, first.err
    old = repo.cache.read_bytes()
    repo.more_history()
    expected = reference(repo, tmp_path)
    out = tmp_path / "report.json"
    started = time.monotonic()
    whole = repo.audit(out)  # how long one takes here, to spread the signals over it
    length = time.monotonic() - started
    assert whole.code == 1 and whole.findings == expected
    for fraction in (0.1, 0.3, 0.5, 0.7, 0.9, 1.1):
        repo.cache.write_bytes(old)
        out.unlink(missing_ok=True)
        process = repo.start(out)
        time.sleep(length * fraction)
        if process.poll() is None:
            process.send_signal(signum)
        _, err = process.communicate(timeout=600)
        done = finished(process, err, out)
        if done.report is not None:
            assert set(done.findings) <= set(expected)
            if done.report["scan"]["complete"]:
                assert done.findings == expected
        state = repo.cache_state()
        assert state is not None, "the old cache is never removed"
        assert not repo.litter(), "temporary cache files left behind"
    assert_next_audit_agrees(repo, tmp_path, expected)


def test_two_audits_at_once_never_corrupt_the_cache(repo: Repo, tmp_path: Path) -> None:
    expected = reference(repo, tmp_path)
    for round_ in range(4):
        if round_ == 2:
            repo.more_history()  # both audits incremental from the same cache
            expected = reference(repo, tmp_path)
        if round_ == 3:
            repo.cache.unlink()  # both full again
        outs = [tmp_path / f"round{round_}-{n}.json" for n in range(2)]
        processes = [repo.start(out) for out in outs]
        results = [
            finished(p, p.communicate(timeout=600)[1], o)
            for p, o in zip(processes, outs, strict=True)
        ]
        for done in results:
            assert done.code == 1 and done.findings == expected, done.err
        assert repo.cache_state() is not None
        assert not repo.litter()
    assert_next_audit_agrees(repo, tmp_path, expected)


def _full_disk(limit: int) -> Callable[[], None]:
    def limit_file_size() -> None:
        # A write past the limit fails with EFBIG (instead of killing the process), as a full
        # disk fails with ENOSPC: both are an OSError halfway through the file.
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return limit_file_size


def test_full_disk_while_storing_the_cache_costs_only_the_cache(repo: Repo, tmp_path: Path) -> None:
    first = repo.audit(tmp_path / "first.json")
    assert first.code == 1, first.err
    old = repo.cache.read_bytes()
    repo.more_history()
    expected = reference(repo, tmp_path)
    out = tmp_path / "report.json"
    # Room for the report (tens of KB), not for the new cache (hundreds of KB).
    limit = 256 << 10
    assert len(old) > 2 * limit
    done = repo.audit(out, preexec_fn=_full_disk(limit))
    assert done.code == 1, done.err  # what the same audit exits with when the disk has room
    assert done.report is not None and done.report["scan"]["complete"] is True
    assert done.findings == expected
    assert "warning" in done.err and "history cache" in done.err, done.err
    assert "Traceback" not in done.err and "internal error" not in done.err
    assert repo.cache.read_bytes() == old, "the old cache stays as it was"
    again = assert_next_audit_agrees(repo, tmp_path, expected)
    assert "incremental" in again.err, "the old cache is still used"


# The CLI with the scan driver's process pool forced on (it starts at 96 MB of blobs).
POOLED_CLI = (
    "import sys\n"
    "from keyguard import driver\n"
    "driver.PARALLEL_MIN_BYTES = 0\n"
    "from keyguard.cli import main\n"
    "raise SystemExit(main(sys.argv[1:]))\n"
)


def test_sigterm_stops_the_worker_pool_too(repo: Repo, tmp_path: Path) -> None:
    """The workers inherit the SIGTERM handler and are stopped with SIGTERM by the pool: each
    must die (not raise), or the pool would never join."""
    expected = reference(repo, tmp_path)
    out = tmp_path / "report.json"
    command = repo.command(out, "--jobs", "2")
    process = subprocess.Popen(
        [sys.executable, "-c", POOLED_CLI, *command[3:]],
        env=repo.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert wait_for_blob_reading(process), "the audit ended before it read any blob"
    workers = [
        pid
        for pid, argv in descendants(process.pid).items()
        if argv and Path(argv[0]).name.startswith("python")
    ]
    assert workers, "no worker processes"
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=600)
    done = finished(process, err, out)
    assert done.code == 3 and done.report is not None, err
    assert any(e.startswith("interrupted:") for e in done.report["scan"]["errors"])
    assert not [pid for pid in workers if is_running(pid)], "workers outlived the audit"
    assert_next_audit_agrees(repo, tmp_path, expected)


def test_save_that_fails_warns_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    where = tmp_path / "keyguard" / "history-cache.json"
    state = HistoryCache(ruleset="rules", max_size=1000, scanned={"a" * 40})
    warnings: list[str] = []
    assert history_cache.save(where, state, warnings.append)
    old = where.read_bytes()

    class Interrupted(HistoryCache):
        def to_json(self) -> bytes:
            raise KeyboardInterrupt  # Ctrl-C or SIGTERM while the body is serialised

    with pytest.raises(KeyboardInterrupt):
        history_cache.save(where, Interrupted(ruleset="rules", max_size=1000), warnings.append)
    assert where.read_bytes() == old and not list(where.parent.glob(".tmp-*"))
    assert not warnings

    blocker = tmp_path / "file"
    blocker.write_text("not a directory", encoding="utf-8")
    assert not history_cache.save(blocker / "history-cache.json", state, warnings.append)
    assert len(warnings) == 1 and "could not store the history cache" in warnings[0]
