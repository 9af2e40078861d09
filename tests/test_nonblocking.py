"""`nonblocking_contexts`: a team may let hooks pass leaks in tests or documentation (still
reported, never silently), through a real commit with the installed pre-commit hook and a real
push into a bare repository with the pre-receive hook."""

from __future__ import annotations

import random
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from keyguard.cli import main
from keyguard.examples import generate_secret
from keyguard.signatures import load_builtin
from tests.conftest import GitRepo
from tests.test_hook_receive import Server

GITHUB_PAT = {r.id: r for r in load_builtin()}["github.pat"]
CONFIG = 'nonblocking_contexts = ["test", "documentation"]\n'


def token(seed: object) -> str:
    return generate_secret(GITHUB_PAT, random.Random(seed))


def hook(repo: Path, kind: str) -> None:
    done = subprocess.run(
        ["keyguard", "install-hook", kind, "--repo", str(repo)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def try_commit(repo: GitRepo, message: str) -> subprocess.CompletedProcess[str]:
    repo.git("add", "-A")
    return subprocess.run(
        ["git", "commit", "-q", "-m", message],
        cwd=repo.path,
        env=repo.env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_a_commit_passes_with_a_test_token_and_stops_on_a_code_token(
    git_repo: Callable[..., GitRepo],
) -> None:
    repo = git_repo()
    repo.write(".keyguard.toml", CONFIG)
    repo.commit("config")
    hook(repo.path, "pre-commit")
    repo.write("tests/test_client.py", f'TOKEN = "{token("t")}"\n')
    repo.write("docs/setup.md", f"export GITHUB_TOKEN={token('d')}\n")
    done = try_commit(repo, "tests")
    assert done.returncode == 0, done.stderr
    assert "tests/test_client.py" in done.stdout + done.stderr  # reported, not silent
    repo.write("src/client.py", f'TOKEN = "{token("c")}"\n')
    done = try_commit(repo, "code")
    assert done.returncode != 0
    assert "src/client.py" in done.stdout + done.stderr


def test_without_the_setting_every_leak_blocks(git_repo: Callable[..., GitRepo]) -> None:
    repo = git_repo()
    hook(repo.path, "pre-commit")
    repo.write("tests/test_client.py", f'TOKEN = "{token("t2")}"\n')
    assert try_commit(repo, "tests").returncode != 0


def test_a_push_passes_with_a_test_token_and_the_server_says_so(tmp_path: Path) -> None:
    server = Server(tmp_path, "sha1", tmp_path / "cache")
    (tmp_path / "k.toml").write_text(CONFIG, encoding="utf-8")
    server.server_git("config", "keyguard.config", str(tmp_path / "k.toml"))
    server.commit("tests/test_client.py", f'TOKEN = "{token("p")}"\n', "tests")
    pushed = server.push("main")
    assert pushed.accepted, pushed.err
    assert "not blocking" in pushed.err and "tests/test_client.py" in pushed.err
    server.commit("src/client.py", f'TOKEN = "{token("q")}"\n', "code")
    pushed = server.push("main")
    assert not pushed.accepted and "src/client.py" in pushed.err


def test_an_unknown_context_is_a_configuration_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / ".keyguard.toml").write_text('nonblocking_contexts = ["tests"]\n')
    code = main(["scan", str(tmp_path)])
    assert code == 2
    assert "nonblocking_contexts" in capsys.readouterr().err
