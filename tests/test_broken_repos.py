"""Broken and unusual repositories through the real command line: every readable object is still
scanned and reported, what could not be read is named, and the exit code says incomplete (3);
states a user can be in (mid-rebase, index.lock, linked work trees, partial and shallow clones,
a repository owned by someone else, no commits, bare) each get a report or a clear message.
"""

from __future__ import annotations

import glob
import json
import os
import random
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from keyguard.cli import main
from keyguard.examples import generate_secret
from keyguard.model import secret_hash
from keyguard.signatures import load_builtin
from tests.conftest import GitRepo

GITHUB_PAT = next(r for r in load_builtin() if r.id == "github.pat")


@dataclass
class Run:
    code: int
    out: str
    err: str

    @property
    def doc(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.out)
        return parsed

    @property
    def scan(self) -> dict[str, Any]:
        scan: dict[str, Any] = self.doc["scan"]
        return scan

    def found(self) -> set[tuple[str, str]]:
        """(path, secret hash) of every finding."""
        return {(f["path"], f["secret_hash"]) for f in self.doc["findings"]}

    def problems(self) -> str:
        return "\n".join(self.scan["errors"])


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> Run:
    capsys.readouterr()
    code = main(list(argv))
    out, err = capsys.readouterr()
    return Run(code, out, err)


def history(capsys: pytest.CaptureFixture[str], repo: Path, *extra: str) -> Run:
    return cli(capsys, "history", str(repo), "--format", "json", "--jobs", "1", *extra)


def keyguard(cwd: Path, env: dict[str, str], *args: str, stdin: str = "") -> Run:
    done = subprocess.run(
        [sys.executable, "-m", "keyguard", *args],
        cwd=cwd,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
    )
    return Run(done.returncode, done.stdout, done.stderr)


@dataclass
class Built:
    repo: GitRepo
    commits: list[str]  # c1..c4, oldest first
    secrets: list[str]  # the token each commit added, in d<n>/f.txt

    def expected(self, *numbers: int) -> set[tuple[str, str]]:
        return {(f"d{n}/f.txt", secret_hash(self.secrets[n - 1])) for n in numbers}

    def object_path(self, sha: str) -> Path:
        path = self.repo.path / ".git" / "objects" / sha[:2] / sha[2:]
        path.chmod(0o644)
        return path

    def rev(self, name: str) -> str:
        return self.repo.git("rev-parse", name).strip()


def build(repo: GitRepo, seed: str, count: int = 4) -> Built:
    """Commit n adds d<n>/f.txt holding a fresh token (each in its own directory: its own tree)."""
    rng = random.Random(seed)
    commits, secrets = [], []
    for n in range(1, count + 1):
        secret = generate_secret(GITHUB_PAT, rng)
        repo.write(f"d{n}/f.txt", f"TOKEN={secret}\n" + "filler line\n" * 40)
        commits.append(repo.commit(f"c{n}", date=f"2024-03-{n:02d}T12:00:00+00:00"))
        secrets.append(secret)
    return Built(repo, commits, secrets)


@pytest.fixture
def built(git_repo: Callable[..., GitRepo], request: pytest.FixtureRequest) -> Built:
    return build(git_repo(), request.node.nodeid)


def assert_incomplete(run: Run, *named: str) -> None:
    assert run.code == 3, run.err
    assert run.scan["complete"] is False
    for sha in named:
        assert sha in run.problems(), run.problems()
    assert "Traceback" not in run.err


# --- unreadable objects in history -------------------------------------------------------------


def _garbage(path: Path) -> None:
    path.write_bytes(b"this is not zlib data at all")


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


@pytest.mark.parametrize(
    "damage", [_garbage, _truncate, Path.unlink], ids=["corrupt", "truncated", "missing"]
)
@pytest.mark.parametrize("cache", [["--no-cache"], []], ids=["no-cache", "cache"])
def test_unreadable_commit(
    capsys: pytest.CaptureFixture[str],
    built: Built,
    damage: Callable[[Path], None],
    cache: list[str],
) -> None:
    victim = built.commits[1]
    damage(built.object_path(victim))
    run = history(capsys, built.repo.path, *cache)
    assert_incomplete(run, victim)
    # c3 and c4 are walked to; c1, behind the broken commit, is found in the object store; c3,
    # which cannot be compared with its parent, holds d2's token (readable) as if it added it.
    assert run.found() == built.expected(1, 2, 3, 4)
    by_path = {f["path"]: f["commit"] for f in run.doc["findings"]}
    assert by_path["d2/f.txt"] == built.commits[2]
    assert by_path["d1/f.txt"] == built.commits[0]
    assert "object store" in "\n".join(run.scan["notes"])
    assert "unreadable" in run.problems()


@pytest.mark.parametrize(
    "damage", [_garbage, _truncate, Path.unlink], ids=["corrupt", "truncated", "missing"]
)
def test_unreadable_tree(
    capsys: pytest.CaptureFixture[str], built: Built, damage: Callable[[Path], None]
) -> None:
    victim = built.rev("HEAD~2:d2")  # the tree c2 added
    damage(built.object_path(victim))
    for extra in (["--no-cache"], ["--branch", "main"]):
        run = history(capsys, built.repo.path, *extra)
        assert_incomplete(run, victim, built.commits[1])
        assert run.found() == built.expected(1, 3, 4)


@pytest.mark.parametrize(
    "damage", [_garbage, _truncate, Path.unlink], ids=["corrupt", "truncated", "missing"]
)
def test_unreadable_blob(
    capsys: pytest.CaptureFixture[str], built: Built, damage: Callable[[Path], None]
) -> None:
    victim = built.rev("HEAD~2:d2/f.txt")
    damage(built.object_path(victim))
    for extra in (["--no-cache"], ["--branch", "main"]):
        run = history(capsys, built.repo.path, *extra)
        assert_incomplete(run, victim)
        assert run.problems().count(victim) == 1, run.problems()
        assert run.found() == built.expected(1, 3, 4)


def test_corrupt_pack(capsys: pytest.CaptureFixture[str], built: Built) -> None:
    """Bytes flipped inside one packed blob: the rest of the pack is still read."""
    built.repo.git("repack", "-adq", "--window=0")  # no deltas: one blob, one damaged object
    (index,) = glob.glob(str(built.repo.path / ".git" / "objects" / "pack" / "*.idx"))
    pack = Path(index).with_suffix(".pack")
    victim = built.rev("HEAD:d2/f.txt")
    listed = subprocess.run(
        ["git", "show-index"], input=Path(index).read_bytes(), capture_output=True, check=True
    ).stdout.decode()
    offset = next(int(line.split()[0]) for line in listed.splitlines() if victim in line)
    pack.chmod(0o644)
    data = bytearray(pack.read_bytes())
    for i in range(offset + 4, offset + 12):
        data[i] ^= 0xFF
    pack.write_bytes(bytes(data))
    for extra in (["--no-cache"], ["--branch", "main"]):
        run = history(capsys, built.repo.path, *extra)
        assert_incomplete(run, victim)
        assert "missing or corrupt" in run.problems()
        assert run.found() == built.expected(1, 3, 4)


def test_unreadable_commit_in_a_push(built: Built, tmp_path: Path) -> None:
    """pre-push over a range with a broken commit: what is readable is still checked."""
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    built.repo.git("remote", "add", "origin", str(remote))
    victim = built.commits[2]
    _garbage(built.object_path(victim))
    line = f"refs/heads/main {built.commits[3]} refs/heads/main {'0' * 40}\n"
    run = keyguard(
        built.repo.path, built.repo.env, "pre-push", "origin", "--format", "json", stdin=line
    )
    assert_incomplete(run, victim)
    # c4 cannot be compared with its broken parent: all it holds is checked as if it added it.
    assert run.found() == built.expected(1, 2, 3, 4)
    assert {f["commit"] for f in run.doc["findings"]} == {built.commits[3]}


# --- repository states -------------------------------------------------------------------------


def test_mid_rebase_with_a_conflict(
    capsys: pytest.CaptureFixture[str], git_repo: Callable[..., GitRepo]
) -> None:
    repo = git_repo()
    b = build(repo, "rebase", count=2)
    repo.git("checkout", "-q", "-b", "side", b.commits[0])
    repo.write("d2/f.txt", "a different version\n")
    repo.commit("side edit")
    rng = random.Random("rebase-staged")
    staged = generate_secret(GITHUB_PAT, rng)
    done = subprocess.run(
        ["git", "rebase", "main"], cwd=repo.path, env=repo.env, capture_output=True, text=True
    )
    assert done.returncode != 0 and (repo.path / ".git" / "rebase-merge").is_dir()
    repo.write("d2/f.txt", f"TOKEN={staged}\n")
    repo.git("add", "d2/f.txt")
    run = history(capsys, repo.path, "--no-cache")
    assert run.code == 1, run.err
    assert run.found() == b.expected(1, 2)
    run = cli(capsys, "staged", "--repo", str(repo.path), "--format", "json")
    assert run.code == 1, run.err
    assert run.found() == {("d2/f.txt", secret_hash(staged))}
    run = cli(capsys, "scan", str(repo.path), "--format", "json")
    assert run.code == 1, run.err
    assert ("d2/f.txt", secret_hash(staged)) in run.found()


def test_index_lock_present(capsys: pytest.CaptureFixture[str], built: Built) -> None:
    repo = built.repo
    rng = random.Random("index-lock")
    staged = generate_secret(GITHUB_PAT, rng)
    repo.write("new.env", f"TOKEN={staged}\n")
    repo.git("add", "new.env")
    lock = repo.path / ".git" / "index.lock"
    lock.write_bytes(b"")  # another git command is (or was, and crashed) writing the index
    run = cli(capsys, "staged", "--repo", str(repo.path), "--format", "json")
    assert run.code == 1, run.err
    assert run.found() == {("new.env", secret_hash(staged))}
    run = cli(capsys, "scan", str(repo.path), "--format", "json")
    assert run.code == 1, run.err
    assert ("new.env", secret_hash(staged)) in run.found()
    run = history(capsys, repo.path)
    assert run.code == 1 and run.found() == built.expected(1, 2, 3, 4)
    assert lock.exists() and lock.read_bytes() == b""  # read-only: the lock is not touched


def test_linked_worktree(capsys: pytest.CaptureFixture[str], built: Built, tmp_path: Path) -> None:
    repo = built.repo
    linked = tmp_path / "linked"
    repo.git("worktree", "add", "-q", "-b", "side", str(linked))
    rng = random.Random("linked")
    mine, staged = generate_secret(GITHUB_PAT, rng), generate_secret(GITHUB_PAT, rng)
    wt = GitRepo(linked, tmp_path / "home")
    wt.write("side.env", f"TOKEN={mine}\n")
    wt.commit("side commit")
    wt.write("staged.env", f"TOKEN={staged}\n")
    wt.git("add", "staged.env")
    run = cli(capsys, "scan", str(linked), "--format", "json")
    assert run.code == 1, run.err
    assert ("side.env", secret_hash(mine)) in run.found()
    run = history(capsys, linked)
    assert run.code == 1, run.err
    assert run.found() == built.expected(1, 2, 3, 4) | {("side.env", secret_hash(mine))}
    run = cli(capsys, "staged", "--repo", str(linked), "--format", "json")
    assert run.code == 1, run.err
    assert run.found() == {("staged.env", secret_hash(staged))}
    # The main work tree sees the linked one's HEAD, and its own index is not the linked one's.
    run = cli(capsys, "staged", "--repo", str(repo.path), "--format", "json")
    assert run.code == 0 and run.found() == set()


def test_partial_clone_never_fetches(
    capsys: pytest.CaptureFixture[str], built: Built, tmp_path: Path
) -> None:
    source = built.repo
    source.git("rm", "-q", "-r", "d1", "d2", "d3")
    source.commit("only d4 is left at the tip")
    source.git("config", "uploadpack.allowFilter", "true")
    clone = tmp_path / "partial"
    source.git(
        "clone",
        "-q",
        "--filter=blob:none",
        "--no-local",
        "--no-checkout",
        f"file://{source.path}",
        str(clone),
    )
    partial = GitRepo(clone, tmp_path / "home")
    # Only the tip's blobs are fetched (by the checkout); the older three stay on the remote.
    partial.git("checkout", "-q", "main")
    before = partial.git("count-objects", "-v")
    for extra in (["--no-cache"], ["--branch", "main"], []):
        run = history(capsys, clone, *extra)
        assert run.code == 3, run.err
        assert run.found() == built.expected(4)
        skipped = [s for s in run.scan["skipped_items"] if "partial clone" in s["reason"]]
        assert len(skipped) == 3, run.scan["skipped_items"]
        assert "partial clone: 3 blob(s)" in run.problems()
        assert "Traceback" not in run.err
    assert partial.git("count-objects", "-v") == before  # nothing was fetched
    # With the promisor remote gone, the answer is the same (and nothing hangs or asks).
    shutil.move(str(source.path), str(tmp_path / "gone"))
    run = history(capsys, clone, "--no-cache")
    assert run.code == 3 and run.found() == built.expected(4)


def test_repository_owned_by_another_user(
    capsys: pytest.CaptureFixture[str], built: Built, tmp_path: Path
) -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root to give the repository to another user")
    repo = built.repo
    env = {**repo.env, "HOME": str(tmp_path / "home")}
    os.chown(repo.path, 65534, 65534)
    try:
        for args in (
            ["history", str(repo.path)],
            ["scan", str(repo.path)],
            ["staged", "--repo", str(repo.path)],
        ):
            run = keyguard(tmp_path, env, *args)
            assert run.code == 2, (args, run.err)
            assert "safe.directory" in run.err and str(repo.path) in run.err
            assert "git config --global --add safe.directory" in run.err
            assert "Traceback" not in run.err
        line = f"refs/heads/main {built.commits[3]} refs/heads/main {'0' * 40}\n"
        run = keyguard(repo.path, env, "pre-push", "origin", stdin=line)
        assert run.code == 2 and "safe.directory" in run.err
    finally:
        os.chown(repo.path, 0, 0)


def test_empty_repository(
    capsys: pytest.CaptureFixture[str], git_repo: Callable[..., GitRepo]
) -> None:
    repo = git_repo()
    run = history(capsys, repo.path)
    assert run.code == 0 and run.doc["findings"] == []
    assert "no commits" in "\n".join(run.scan["notes"])
    run = cli(capsys, "staged", "--repo", str(repo.path), "--format", "json")
    assert run.code == 0 and run.found() == set()
    run = cli(capsys, "scan", str(repo.path), "--format", "json")
    assert run.code == 0


def test_unborn_head_with_staged_files(
    capsys: pytest.CaptureFixture[str], git_repo: Callable[..., GitRepo]
) -> None:
    repo = git_repo()
    secret = generate_secret(GITHUB_PAT, random.Random("unborn"))
    repo.write("first.env", f"TOKEN={secret}\n")
    repo.git("add", "first.env")
    run = cli(capsys, "staged", "--repo", str(repo.path), "--format", "json")
    assert run.code == 1 and run.found() == {("first.env", secret_hash(secret))}
    run = history(capsys, repo.path)
    assert run.code == 0 and "no commits" in "\n".join(run.scan["notes"])


def test_bare_repository_for_scan(
    capsys: pytest.CaptureFixture[str], built: Built, tmp_path: Path
) -> None:
    bare = tmp_path / "bare.git"
    built.repo.git("clone", "-q", "--bare", str(built.repo.path), str(bare))
    run = cli(capsys, "scan", str(bare))
    assert run.code == 2, run.err
    assert "bare repository" in run.err and "keyguard history" in run.err
    run = history(capsys, bare)
    assert run.code == 1 and run.found() == built.expected(1, 2, 3, 4)


def test_shallow_clone(capsys: pytest.CaptureFixture[str], built: Built, tmp_path: Path) -> None:
    shallow = tmp_path / "shallow"
    built.repo.git("clone", "-q", "--depth", "2", f"file://{built.repo.path}", str(shallow))
    run = history(capsys, shallow)
    assert run.code == 1, run.err
    assert "shallow" in "\n".join(run.scan["notes"])
    assert "shallow" in run.err
    # The boundary commit (c3) holds all earlier files as if it added them.
    assert run.found() == built.expected(1, 2, 3, 4)


# --- SHA-256 repositories ----------------------------------------------------------------------


@pytest.fixture
def sha256_repo(tmp_path: Path) -> GitRepo:
    path = tmp_path / "sha256"
    subprocess.run(
        ["git", "init", "-q", "--object-format=sha256", "-b", "main", str(path)], check=True
    )
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    return GitRepo(path, home)


def test_sha256_staged_first_commit_and_after(
    capsys: pytest.CaptureFixture[str], sha256_repo: GitRepo
) -> None:
    repo = sha256_repo
    rng = random.Random("sha256-staged")
    first, second = generate_secret(GITHUB_PAT, rng), generate_secret(GITHUB_PAT, rng)
    repo.write("a.env", f"TOKEN={first}\n")
    repo.git("add", "a.env")
    run = cli(capsys, "staged", "--repo", str(repo.path), "--format", "json")
    assert run.code == 1 and run.found() == {
        ("a.env", secret_hash(first))
    }  # against the empty tree
    repo.commit("one")
    repo.write("a.env", f"# above\nTOKEN={first}\n")
    repo.write("b.env", f"TOKEN={second}\n")
    repo.git("add", "-A")
    run = cli(capsys, "staged", "--repo", str(repo.path), "--format", "json")
    assert run.code == 1 and run.found() == {("b.env", secret_hash(second))}
    run = cli(
        capsys, "staged", "--repo", str(repo.path), "--format", "json", str(repo.path / "a.env")
    )
    assert run.code == 0, run.err


def test_sha256_pre_push(sha256_repo: GitRepo, tmp_path: Path) -> None:
    repo = sha256_repo
    remote = tmp_path / "remote.git"
    subprocess.run(
        ["git", "init", "-q", "--bare", "--object-format=sha256", str(remote)], check=True
    )
    repo.git("remote", "add", "origin", str(remote))
    b = build(repo, "sha256-push", count=2)
    assert all(len(c) == 64 for c in b.commits)
    zero = "0" * 64
    line = f"refs/heads/main {b.commits[1]} refs/heads/main {zero}\n"
    run = keyguard(repo.path, repo.env, "pre-push", "origin", "--format", "json", stdin=line)
    assert run.code == 1, run.err
    assert run.found() == b.expected(1, 2)
    line = f"refs/heads/main {b.commits[1]} refs/heads/main {b.commits[0]}\n"
    run = keyguard(repo.path, repo.env, "pre-push", "origin", "--format", "json", stdin=line)
    assert run.code == 1 and run.found() == b.expected(2)
    line = f"(delete) {zero} refs/heads/old {b.commits[0]}\n"
    run = keyguard(repo.path, repo.env, "pre-push", "origin", stdin=line)
    assert run.code == 0, run.err


def test_sha256_broken_history(capsys: pytest.CaptureFixture[str], sha256_repo: GitRepo) -> None:
    b = build(sha256_repo, "sha256-broken")
    victim = b.commits[1]
    _garbage(b.object_path(victim))
    run = history(capsys, sha256_repo.path, "--no-cache")
    assert_incomplete(run, victim)
    assert run.found() == b.expected(1, 2, 3, 4)
