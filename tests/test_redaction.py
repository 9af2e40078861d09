"""Redaction end to end: no output, on a terminal or through a pipe, no cache file, log or error
message holds more of a secret than its preview (or a fast digest of it) unless --show-secrets.

Each secret is generated at test time; the repository under test holds it in a file, in a
commit subject, in the author's name and in a config's allowlist pattern.
"""

from __future__ import annotations

import hashlib
import os
import pty
import random
import select
import subprocess
import sys
from pathlib import Path

import pytest

from keyguard.examples import generate_secret
from keyguard.signatures import load_builtin
from tests.conftest import GitRepo

RULES = {r.id: r for r in load_builtin()}
KINDS = ("github.pat", "aws.access-key-id", "slack.bot-token", "stripe.secret-key")


def _values(seed: int) -> list[str]:
    rng = random.Random(seed)
    return [generate_secret(RULES[k], rng) for k in KINDS if k in RULES]


def _fast_digests(value: str) -> list[str]:
    data = value.encode()
    return [hashlib.new(a, data).hexdigest()[:16] for a in ("md5", "sha1", "sha256", "sha512")]


def _leaks(text: str, values: list[str]) -> list[str]:
    found = []
    for value in values:
        if value in text:
            found.append(f"value {value[:4]}…")
        # more than the preview: any 8 characters of the value past its first four
        found += [
            f"part of {value[:4]}…" for i in range(4, len(value) - 7) if value[i : i + 8] in text
        ][:1]
        found += [f"digest of {value[:4]}…" for d in _fast_digests(value) if d in text]
    return found


def _env(home: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "XDG_CACHE_HOME": str(home / "cache"),
        "XDG_CONFIG_HOME": str(home / "config"),
    }
    env.pop("NO_COLOR", None)
    return env


def _pipe(args: list[str], cwd: Path, env: dict[str, str]) -> tuple[int, str]:
    done = subprocess.run(
        [sys.executable, "-m", "keyguard", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    return done.returncode, done.stdout + done.stderr


def _terminal(args: list[str], cwd: Path, env: dict[str, str]) -> tuple[int, str]:
    """The command on a pseudo-terminal: colour, progress bars, rich's line wrapping."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "keyguard", *args],
        cwd=cwd,
        env={**env, "COLUMNS": "100", "TERM": "xterm-256color"},
        stdin=follower,
        stdout=follower,
        stderr=follower,
    )
    os.close(follower)
    out = bytearray()
    while True:
        ready, _, _ = select.select([leader], [], [], 180)
        if not ready:
            proc.kill()
            break
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        out += chunk
    os.close(leader)
    return proc.wait(timeout=60), out.decode("utf-8", "replace")


@pytest.fixture
def leaky(git_repo: object, tmp_path: Path) -> tuple[GitRepo, list[str]]:
    values = _values(int(tmp_path.stat().st_ino) % 1000)
    make = git_repo
    repo: GitRepo = make()  # type: ignore[operator]
    repo.write("config/app.env", "".join(f"KEY_{i}={v}\n" for i, v in enumerate(values)))
    repo.env["GIT_AUTHOR_NAME"] = f"ci {values[0]}"
    repo.commit(f"add credentials {values[1]}")
    repo.write("notes.txt", f"later: {values[-1]}\n")  # in the work tree only
    repo.write("deploy.env", f"TOKEN={values[2]}\n")
    repo.git("add", "deploy.env")  # staged, for the pre-commit hook
    return repo, values


FORMATS = ["text", "json", "jsonl", "sarif", "github", "html"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_no_command_leaks_through_a_pipe(
    leaky: tuple[GitRepo, list[str]], tmp_path: Path, fmt: str
) -> None:
    repo, values = leaky
    env = _env(tmp_path)
    for args in (["scan", "."], ["history", "."], ["staged"]):
        code, out = _pipe([*args, "--format", fmt], repo.path, env)
        assert code in (0, 1), out
        assert not _leaks(out, values), (args, fmt)
    # the files the runs left behind: report, history cache, user cache, digest key
    report = tmp_path / f"report.{fmt}"
    code, out = _pipe(["history", ".", "--format", fmt, "--output", str(report)], repo.path, env)
    assert code == 1, out
    written = [report, *(repo.path / ".git").rglob("keyguard/*"), *(tmp_path / "cache").rglob("*")]
    for path in written:
        if path.is_file():
            text = path.read_bytes().decode("utf-8", "replace")
            assert not _leaks(text, values), path


def test_no_command_leaks_on_a_terminal(leaky: tuple[GitRepo, list[str]], tmp_path: Path) -> None:
    repo, values = leaky
    env = _env(tmp_path)
    for args in (["scan", "."], ["history", ".", "--no-cache"], ["staged"]):
        code, out = _terminal(args, repo.path, env)
        assert code == 1, out
        assert "\x1b[" in out  # a real terminal session: colour is on
        assert not _leaks(out, values), args


def test_show_secrets_is_the_only_way_to_see_them(
    leaky: tuple[GitRepo, list[str]], tmp_path: Path
) -> None:
    repo, values = leaky
    code, out = _pipe(
        ["scan", ".", "--format", "json", "--show-secrets"], repo.path, _env(tmp_path)
    )
    assert code == 1
    assert all(v in out for v in values)


def test_error_messages_do_not_quote_a_secret(
    leaky: tuple[GitRepo, list[str]], tmp_path: Path
) -> None:
    repo, values = leaky
    (repo.path / ".keyguard.toml").write_text(
        f'[allow]\nvalues = ["({values[0]}"]\n', encoding="utf-8"
    )
    code, out = _pipe(["scan", "."], repo.path, _env(tmp_path))
    assert code == 2 and "does not compile" in out
    assert not _leaks(out, values)
