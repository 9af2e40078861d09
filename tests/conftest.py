"""Shared fixtures: compiled rulesets for both matcher backends and a git repository factory."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from keyguard.engine import CompiledRuleset, compile_default

# hypothesis profiles: `ci` (the default: hypothesis's usual 100 examples, so other property
# tests keep their strength; tests/test_fuzz.py spends a share of it per test and runs in under a
# minute on two cores) and `nightly` (HYPOTHESIS_PROFILE=nightly: 200 times as many examples).
settings.register_profile(
    "ci",
    max_examples=100,
    deadline=None,  # shared CI machines stall; a slow example is not a failure
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "nightly",
    max_examples=20000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

_GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test Author",
    "GIT_AUTHOR_EMAIL": "author@example.invalid",
    "GIT_COMMITTER_NAME": "Test Committer",
    "GIT_COMMITTER_EMAIL": "committer@example.invalid",
    "GIT_AUTHOR_DATE": "2024-01-02T03:04:05+00:00",
    "GIT_COMMITTER_DATE": "2024-01-02T03:04:05+00:00",
    "GIT_CONFIG_NOSYSTEM": "1",
    "HOME": "",
}


ROOT = Path(__file__).resolve().parent.parent


def copy_checkout(dest: Path) -> None:
    """This checkout's files as they are now (tracked and untracked, not ignored), without .git:
    how GitHub downloads an action, and what a snapshot for the pre-commit framework holds."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout
    for name in filter(None, listed.decode().split("\0")):
        source, target = ROOT / name, dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_symlink():
            target.symlink_to(os.readlink(source))
        elif source.is_file():
            shutil.copy2(source, target)


@pytest.fixture(scope="session")
def compiled() -> CompiledRuleset:
    return compile_default()


@pytest.fixture(scope="session", params=["pyahocorasick", "hyperscan"])
def compiled_any(request: pytest.FixtureRequest) -> CompiledRuleset:
    return compile_default(request.param)


class GitRepo:
    def __init__(self, path: Path, home: Path) -> None:
        self.path = path
        self.env = {**os.environ, **_GIT_ENV, "HOME": str(home)}

    def git(self, *args: str) -> str:
        done = subprocess.run(
            ["git", *args], cwd=self.path, env=self.env, capture_output=True, text=True, check=True
        )
        return done.stdout

    def write(self, name: str, content: str | bytes) -> Path:
        target = self.path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content, encoding="utf-8")
        return target

    def commit(self, message: str, *, date: str | None = None) -> str:
        env_date = {"GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date} if date else {}
        self.git("add", "-A")
        subprocess.run(
            ["git", "commit", "-q", "--allow-empty", "-m", message],
            cwd=self.path,
            env={**self.env, **env_date},
            check=True,
        )
        return self.git("rev-parse", "HEAD").strip()


@pytest.fixture
def git_repo(tmp_path: Path) -> Iterator[Callable[..., GitRepo]]:
    def make(name: str = "repo") -> GitRepo:
        path = tmp_path / name
        path.mkdir()
        home = tmp_path / "home"
        home.mkdir(exist_ok=True)
        repo = GitRepo(path, home)
        repo.git("init", "-q", "-b", "main")
        return repo

    yield make


@pytest.fixture
def repo(git_repo: Callable[..., GitRepo]) -> GitRepo:
    return git_repo()


@pytest.fixture
def new_secret(request: pytest.FixtureRequest) -> Callable[[], str]:
    """Fresh GitHub classic tokens (ghp_ + 30 random + CRC32 checksum), deterministic per test."""
    import random

    from keyguard.examples import generate_secret
    from keyguard.signatures import load_builtin

    rule = {r.id: r for r in load_builtin()}["github.pat"]
    rng = random.Random(request.node.nodeid)
    return lambda: generate_secret(rule, rng)
