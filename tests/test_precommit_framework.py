"""The real pre-commit framework running this repository's hooks (`.pre-commit-hooks.yaml`):
`pre-commit try-repo`, and hooks installed with `pre-commit install` run by real `git commit`
and `git push`. The framework installs keyguard from a snapshot of this checkout with a plain
`pip install`, as it does for users."""

from __future__ import annotations

import os
import random
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from keyguard.examples import generate_secret
from keyguard.signatures import load_builtin
from tests.conftest import GitRepo, copy_checkout

GITHUB_PAT = {r.id: r for r in load_builtin()}["github.pat"]
_RNG = random.Random("pre-commit framework")

pytestmark = pytest.mark.skipif(
    shutil.which("pre-commit") is None, reason="pre-commit not installed"
)


def token() -> str:
    return generate_secret(GITHUB_PAT, _RNG)


@pytest.fixture(scope="session")
def hook_repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, Path]:
    """A snapshot of this checkout as a git repository (the framework clones hooks from git),
    its commit, and a PRE_COMMIT_HOME shared by the tests so keyguard is installed once."""
    snapshot = tmp_path_factory.mktemp("keyguard-hooks")
    copy_checkout(snapshot)
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.invalid",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.invalid",
    }
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "--no-verify", "-m", "snapshot"]):
        subprocess.run(["git", *args], cwd=snapshot, env=env, check=True, capture_output=True)
    rev = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=snapshot, capture_output=True, text=True, check=True
    ).stdout.strip()
    return snapshot, rev, tmp_path_factory.mktemp("pre-commit-home")


def framework_env(repo: GitRepo, home: Path) -> dict[str, str]:
    return {**repo.env, "PRE_COMMIT_HOME": str(home), "PRE_COMMIT_COLOR": "never"}


def run(args: list[str], repo: GitRepo, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=repo.path, env=env, capture_output=True, text=True)


def use_hooks(repo: GitRepo, hook_repo: tuple[Path, str, Path], *hook_types: str) -> dict[str, str]:
    snapshot, rev, home = hook_repo
    repo.write(
        ".pre-commit-config.yaml",
        "repos:\n"
        f"  - repo: {snapshot}\n"
        f"    rev: {rev}\n"
        "    hooks:\n"
        "      - id: keyguard\n"
        "      - id: keyguard-push\n",
    )
    env = framework_env(repo, home)
    types = [a for t in hook_types for a in ("--hook-type", t)]
    installed = run(["pre-commit", "install", *types], repo, env)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    return env


def test_try_repo_all_files_is_a_real_scan(
    git_repo: Callable[..., GitRepo], hook_repo: tuple[Path, str, Path]
) -> None:
    snapshot, rev, home = hook_repo
    repo = git_repo()
    secret = token()
    repo.write("old/settings.env", f"GITHUB_TOKEN={secret}\n")
    repo.write("fine.txt", "fine\n")
    repo.commit("history that predates the hook")
    env = framework_env(repo, home)
    done = run(
        ["pre-commit", "try-repo", str(snapshot), "keyguard", "--ref", rev, "--all-files"],
        repo,
        env,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert "old/settings.env" in output and "github.pat" in output
    assert secret not in output
    (repo.path / "old" / "settings.env").unlink()
    repo.commit("removed")
    done = run(
        ["pre-commit", "try-repo", str(snapshot), "keyguard", "--ref", rev, "--all-files"],
        repo,
        env,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_installed_pre_commit_blocks_a_commit_adding_a_secret(
    git_repo: Callable[..., GitRepo], hook_repo: tuple[Path, str, Path]
) -> None:
    repo = git_repo()
    env = use_hooks(repo, hook_repo, "pre-commit")
    repo.write("app.env", f"GITHUB_TOKEN={token()}\n")
    subprocess.run(["git", "add", "-A"], cwd=repo.path, env=env, check=True)
    refused = run(["git", "commit", "-q", "-m", "first commit, with a secret"], repo, env)
    assert refused.returncode != 0
    assert "github.pat" in refused.stdout + refused.stderr
    assert run(["git", "rev-parse", "--verify", "-q", "HEAD"], repo, env).returncode != 0
    repo.write("app.env", "GITHUB_TOKEN=${GITHUB_TOKEN}\n")
    subprocess.run(["git", "add", "-A"], cwd=repo.path, env=env, check=True)
    accepted = run(["git", "commit", "-q", "-m", "clean"], repo, env)
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr


def test_installed_pre_push_blocks_pushed_secrets(
    git_repo: Callable[..., GitRepo], hook_repo: tuple[Path, str, Path], tmp_path: Path
) -> None:
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(remote)], check=True)
    repo = git_repo()
    repo.git("remote", "add", "origin", str(remote))
    env = use_hooks(repo, hook_repo, "pre-push")
    repo.commit("start")
    pushed = run(["git", "push", "-q", "origin", "main"], repo, env)
    assert pushed.returncode == 0, pushed.stdout + pushed.stderr
    repo.write("deploy.env", f"GITHUB_TOKEN={token()}\n")
    bad = repo.commit("secret, committed without the pre-commit stage")
    refused = run(["git", "push", "-q", "origin", "main"], repo, env)
    assert refused.returncode != 0
    assert bad[:12] in refused.stdout + refused.stderr
    repo.git("reset", "-q", "--hard", "HEAD~1")
    repo.write("ok.txt", "ok\n")
    repo.commit("clean")
    accepted = run(["git", "push", "-q", "origin", "main"], repo, env)
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
