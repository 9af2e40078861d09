"""Git on an untrusted repository: no command keyguard runs may start a program that the
repository's own config names (fsmonitor, external diff, textconv, filters, ssh, hooks, gpg,
credential helpers, pagers).

Every test here plants a script that leaves a marker file behind when run, points every such
setting of the repository at it, checks that plain git does run it (so the trap is armed), and
then runs keyguard's commands through the real command line: the marker must never appear.
"""

from __future__ import annotations

import os
import random
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from keyguard.examples import generate_secret
from keyguard.signatures import load_builtin
from tests.conftest import GitRepo

GITHUB_PAT = next(r for r in load_builtin() if r.id == "github.pat")
HOOKS = ("pre-commit", "pre-push", "post-checkout", "reference-transaction", "post-index-change")


def keyguard(
    repo: GitRepo, *args: str, stdin: str = "", cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "keyguard", *args],
        cwd=cwd or repo.path,
        env=repo.env,
        input=stdin,
        capture_output=True,
        text=True,
    )


def arm(repo: GitRepo, tmp_path: Path) -> Path:
    """Points every program-running setting of the repository at a script that touches a
    marker; returns the marker's path."""
    marker = tmp_path / "ran"
    script = tmp_path / "evil.sh"
    script.write_text(f'#!/bin/sh\necho "$0 $*" >> "{marker}"\ncat\n', encoding="utf-8")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    hooks = tmp_path / "evil-hooks"
    hooks.mkdir()
    for name in HOOKS:
        (hooks / name).symlink_to(script)
    settings = {
        "core.fsmonitor": str(script),
        "core.sshCommand": str(script),
        "core.pager": str(script),
        "core.askPass": str(script),
        "core.hooksPath": str(hooks),
        "core.alternateRefsCommand": str(script),
        "diff.external": str(script),
        "diff.evil.textconv": str(script),
        "filter.evil.clean": str(script),
        "filter.evil.smudge": str(script),
        "filter.evil.process": str(script),
        "credential.helper": f"!{script}",
        "uploadpack.packObjectsHook": str(script),
        "log.showSignature": "true",
        "gpg.program": str(script),
        "color.ui": "always",
    }
    for key, value in settings.items():
        repo.git("config", key, value)
    return marker


@pytest.fixture
def armed(git_repo: Callable[..., GitRepo], tmp_path: Path) -> tuple[GitRepo, Path, str]:
    """A repository with a committed secret, a staged one, and every trap armed."""
    rng = random.Random("git-safety")
    repo = git_repo()
    committed, staged = generate_secret(GITHUB_PAT, rng), generate_secret(GITHUB_PAT, rng)
    repo.write(".gitattributes", "* filter=evil diff=evil\n")
    repo.write("old.env", f"GITHUB_TOKEN={committed}\n")
    repo.commit("one")
    repo.write("old.env", f"# note\nGITHUB_TOKEN={committed}\n")
    repo.commit("two")
    repo.write("new.env", f"GITHUB_TOKEN={staged}\n")
    repo.git("add", "new.env")
    marker = arm(repo, tmp_path)
    # The trap is armed: plain git runs the repository's programs.
    subprocess.run(["git", "diff", "HEAD~1"], cwd=repo.path, env=repo.env, capture_output=True)
    assert marker.exists()
    marker.unlink()
    return repo, marker, committed


def test_scan_runs_nothing_from_the_repository(armed: tuple[GitRepo, Path, str]) -> None:
    repo, marker, _ = armed
    done = keyguard(repo, "scan", ".")
    assert done.returncode == 1, done.stderr
    assert "github.pat" in done.stdout
    assert not marker.exists(), marker.read_text()


def test_history_runs_nothing_from_the_repository(armed: tuple[GitRepo, Path, str]) -> None:
    repo, marker, _ = armed
    # (the range's commit only edits above the old secret: nothing new, but both versions read)
    runs = [
        (["--no-cache"], 1),
        ([], 1),
        (["--range", "HEAD~1..HEAD"], 0),
        (["--branch", "main"], 1),
    ]
    for extra, code in runs:
        done = keyguard(repo, "history", ".", "--format", "json", *extra)
        assert done.returncode == code, done.stderr
        assert ('"github.pat"' in done.stdout) == (code == 1)
        assert not marker.exists(), marker.read_text()


def test_staged_runs_nothing_from_the_repository(armed: tuple[GitRepo, Path, str]) -> None:
    repo, marker, _ = armed
    done = keyguard(repo, "staged")
    assert done.returncode == 1, done.stderr
    assert "new.env" in done.stdout + done.stderr
    assert not marker.exists(), marker.read_text()
    done = keyguard(repo, "staged", "new.env", "old.env")
    assert done.returncode == 1, done.stderr
    assert not marker.exists(), marker.read_text()


def test_pre_push_runs_nothing_from_the_repository(
    armed: tuple[GitRepo, Path, str], tmp_path: Path
) -> None:
    repo, marker, _ = armed
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True, capture_output=True)
    repo.git("remote", "add", "origin", f"ssh://example.invalid/{remote}")
    tip = repo.git("rev-parse", "HEAD").strip()
    line = f"refs/heads/main {tip} refs/heads/main {'0' * 40}\n"
    done = keyguard(repo, "pre-push", "origin", stdin=line)
    assert done.returncode == 1, done.stderr
    assert "github.pat" in done.stderr
    assert not marker.exists(), marker.read_text()


def test_pre_receive_runs_nothing_from_the_repository(armed: tuple[GitRepo, Path, str]) -> None:
    repo, marker, _ = armed
    # As on a server whose hook runs before the refs move: the new tip is not yet on a ref.
    tip = repo.git("rev-parse", "HEAD").strip()
    repo.git("-c", f"core.hooksPath={os.devnull}", "update-ref", "-d", "refs/heads/main")
    done = keyguard(repo, "pre-receive", stdin=f"{'0' * 40} {tip} refs/heads/main\n")
    assert done.returncode == 1, done.stderr
    assert "github.pat" in done.stderr
    assert not marker.exists(), marker.read_text()


def test_worktree_scan_and_history_from_a_linked_worktree(
    armed: tuple[GitRepo, Path, str], tmp_path: Path
) -> None:
    repo, marker, _ = armed
    linked = tmp_path / "linked"
    env = {**repo.env, "GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "core.hooksPath"}
    env["GIT_CONFIG_VALUE_0"] = os.devnull  # adding the work tree must not set the trap off
    subprocess.run(
        [
            "git",
            "-c",
            "filter.evil.smudge=cat",
            "-c",
            "filter.evil.process=",
            "worktree",
            "add",
            "-q",
            "--detach",
            str(linked),
        ],
        cwd=repo.path,
        env=env,
        check=True,
        capture_output=True,
    )
    marker.unlink(missing_ok=True)
    for args in (["scan", "."], ["history", ".", "--no-cache"], ["staged"]):
        done = keyguard(repo, *args, cwd=linked)
        assert done.returncode in (0, 1), done.stderr
        assert not marker.exists(), (args, marker.read_text())
