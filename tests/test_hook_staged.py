"""`keyguard staged` (pre-commit) and `keyguard pre-push` on real repositories: through the CLI,
and as plain git hooks installed by `keyguard install-hook` and run by real `git commit` and
`git push`."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from keyguard.cli import main
from keyguard.examples import generate_secret
from keyguard.signatures import load_builtin
from tests.conftest import GitRepo

GITHUB_PAT = {r.id: r for r in load_builtin()}["github.pat"]
_RNG = random.Random("staged")


def token() -> str:
    return generate_secret(GITHUB_PAT, _RNG)


def staged(
    capsys: pytest.CaptureFixture[str], repo: GitRepo, *names: str, expect: int | None = None
) -> dict[str, Any]:
    code = main(["staged", "--repo", str(repo.path), "--format", "json", *names])
    out, err = capsys.readouterr()
    if expect is not None:
        assert code == expect, err
    document: dict[str, Any] = json.loads(out) if out.strip() else {}
    document["exit"] = code
    return document


def paths(document: dict[str, Any]) -> list[str]:
    return sorted(f["path"] for f in document["findings"])


@pytest.fixture
def repo(git_repo: Callable[..., GitRepo], monkeypatch: pytest.MonkeyPatch) -> GitRepo:
    made = git_repo()
    monkeypatch.chdir(made.path)  # named files are relative to where the hook runs
    return made


def test_first_commit_of_a_repository(capsys: pytest.CaptureFixture[str], repo: GitRepo) -> None:
    repo.write("app.env", f"GITHUB_TOKEN={token()}\n")
    repo.git("add", "app.env")
    document = staged(capsys, repo, expect=1)
    assert paths(document) == ["app.env"]
    assert document["scan"]["kind"] == "staged"


def test_the_index_not_the_working_copy(capsys: pytest.CaptureFixture[str], repo: GitRepo) -> None:
    repo.write("a.txt", "clean\n")
    repo.commit("one")
    repo.write("a.txt", f"GITHUB_TOKEN={token()}\n")  # modified, not staged
    assert staged(capsys, repo, expect=0)["findings"] == []
    repo.git("add", "a.txt")
    repo.write("a.txt", "clean again\n")  # staged a secret, then cleaned only the working copy
    assert paths(staged(capsys, repo, expect=1)) == ["a.txt"]


def test_only_what_the_commit_introduces(capsys: pytest.CaptureFixture[str], repo: GitRepo) -> None:
    secret = token()
    repo.write("settings.env", f"# settings\nGITHUB_TOKEN={secret}\n")
    repo.commit("old secret")
    # An edit that only moves the old secret's line is clean.
    repo.write("settings.env", f"# settings\n# more\nGITHUB_TOKEN={secret}\n")
    repo.git("add", "-A")
    assert staged(capsys, repo, expect=0)["findings"] == []
    # So is a rename of the file that holds it.
    repo.git("mv", "settings.env", "renamed.env")
    assert staged(capsys, repo, expect=0)["findings"] == []
    repo.commit("moved")
    # A copy to a new path spreads it: that is new.
    repo.write("copy.env", f"GITHUB_TOKEN={secret}\n")
    repo.git("add", "copy.env")
    assert paths(staged(capsys, repo, expect=1)) == ["copy.env"]
    repo.git("rm", "-q", "--cached", "copy.env")
    # A rename and a copy in one change: the unchanged blob at its new path is the rename,
    # whatever the names' order.
    repo.git("mv", "renamed.env", "zz-renamed.env")
    repo.write("aa-copy.env", f"# copied\nGITHUB_TOKEN={secret}\n")
    repo.git("add", "aa-copy.env")
    assert paths(staged(capsys, repo, expect=1)) == ["aa-copy.env"]


def test_named_files_without_a_staged_change_are_scanned_whole(
    capsys: pytest.CaptureFixture[str], repo: GitRepo
) -> None:
    repo.write("old.env", f"GITHUB_TOKEN={token()}\n")
    repo.write("fine.txt", "nothing here\n")
    repo.commit("history")
    # As under `pre-commit run --all-files`: every tracked file named, nothing staged.
    document = staged(capsys, repo, "old.env", "fine.txt", expect=1)
    assert paths(document) == ["old.env"]
    assert document["scan"]["files"] == 2
    # A named file with a staged change is judged by the change: a moved line is clean.
    repo.write("old.env", "# header\n" + (repo.path / "old.env").read_text())
    repo.git("add", "old.env")
    assert staged(capsys, repo, "old.env", expect=0)["findings"] == []


def test_named_paths_from_a_subdirectory(
    capsys: pytest.CaptureFixture[str], repo: GitRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo.write("sub/dir/key.env", f"GITHUB_TOKEN={token()}\n")
    repo.git("add", "-A")
    monkeypatch.chdir(repo.path / "sub")
    assert paths(staged(capsys, repo, "dir/key.env", expect=1)) == ["sub/dir/key.env"]


def test_skips_are_named_and_nothing_staged_is_clean(
    capsys: pytest.CaptureFixture[str], repo: GitRepo
) -> None:
    repo.write("image.png", b"\x89PNG\r\n\x1a\n\0\0" + b"x" * 100)
    repo.git("add", "image.png")
    document = staged(capsys, repo, expect=0)
    assert document["scan"]["skipped_items"] == [{"name": "image.png", "reason": "binary"}]
    repo.commit("image")
    assert staged(capsys, repo, expect=0)["scan"]["files"] == 0


def test_a_named_file_not_in_the_index_is_an_error(
    capsys: pytest.CaptureFixture[str], repo: GitRepo
) -> None:
    repo.write("untracked.env", f"GITHUB_TOKEN={token()}\n")
    code = main(["staged", "untracked.env"])
    _, err = capsys.readouterr()
    assert code == 2
    assert "not in the index" in err and "untracked.env" in err


def test_merge_does_not_report_the_other_branchs_secrets(
    capsys: pytest.CaptureFixture[str], repo: GitRepo
) -> None:
    repo.write("base.txt", "base\n")
    repo.commit("base")
    repo.git("checkout", "-q", "-b", "feature")
    repo.write("feature.env", f"GITHUB_TOKEN={token()}\n")
    repo.commit("feature with a secret that is already committed")
    repo.git("checkout", "-q", "main")
    repo.write("main.txt", "main\n")
    repo.commit("main moves on")
    repo.git("merge", "--no-commit", "--no-ff", "feature")
    assert staged(capsys, repo, expect=0)["findings"] == []
    # A secret added in the merge resolution itself is the merge's.
    repo.write("resolution.env", f"GITHUB_TOKEN={token()}\n")
    repo.git("add", "resolution.env")
    assert paths(staged(capsys, repo, expect=1)) == ["resolution.env"]


def test_bare_repository_has_no_index(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q", "--bare", str(tmp_path / "b.git")], check=True)
    code = main(["staged", "--repo", str(tmp_path / "b.git")])
    assert code == 2
    assert "bare" in capsys.readouterr().err


def commit(repo: GitRepo, message: str) -> subprocess.CompletedProcess[str]:
    """A real `git commit`, hooks and all."""
    return subprocess.run(
        ["git", "commit", "-q", "-m", message],
        cwd=repo.path,
        env=repo.env,
        capture_output=True,
        text=True,
    )


def keyguard(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "keyguard", *args], cwd=cwd, env=env, capture_output=True, text=True
    )


def test_plain_pre_commit_hook(repo: GitRepo) -> None:
    installed = keyguard("install-hook", "pre-commit", cwd=repo.path, env=repo.env)
    assert installed.returncode == 0, installed.stderr
    secret = token()
    repo.write("first.env", f"GITHUB_TOKEN={secret}\n")
    repo.git("add", "-A")
    refused = commit(repo, "first commit with a secret")
    assert refused.returncode != 0
    assert "github.pat" in refused.stdout + refused.stderr
    assert secret not in refused.stdout + refused.stderr
    assert repo.git("rev-list", "--all").strip() == ""  # no commit was made
    repo.write("first.env", "GITHUB_TOKEN=${GITHUB_TOKEN}\n")
    repo.git("add", "-A")
    assert commit(repo, "clean").returncode == 0


def test_plain_hook_honours_core_hooks_path(repo: GitRepo) -> None:
    repo.git("config", "core.hooksPath", ".githooks")
    assert keyguard("install-hook", "pre-commit", cwd=repo.path, env=repo.env).returncode == 0
    assert (repo.path / ".githooks" / "pre-commit").is_file()
    repo.write("x.env", f"GITHUB_TOKEN={token()}\n")
    repo.git("add", "x.env")
    assert commit(repo, "secret").returncode != 0


def test_plain_hook_with_keyguard_gone_fails_loudly(repo: GitRepo, tmp_path: Path) -> None:
    hooks = Path(repo.git("rev-parse", "--git-path", "hooks").strip())
    hooks = hooks if hooks.is_absolute() else repo.path / hooks
    from keyguard.hooks.install import install

    install("pre-commit", repo.path, force=False, python=str(tmp_path / "no-such-python"))
    repo.write("a.txt", "fine\n")
    repo.git("add", "a.txt")
    assert commit(repo, "would pass silently if the hook did").returncode != 0
    assert (hooks / "pre-commit").is_file()


def test_plain_pre_push_hook(git_repo: Callable[..., GitRepo], tmp_path: Path) -> None:
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(remote)], check=True)
    repo = git_repo("pusher")
    repo.git("remote", "add", "origin", str(remote))
    assert keyguard("install-hook", "pre-push", cwd=repo.path, env=repo.env).returncode == 0

    def push(*refs: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["git", "push", "-q", "origin", *refs],
            cwd=repo.path,
            env=repo.env,
            capture_output=True,
            text=True,
        )

    # No remote-tracking refs yet: every pushed commit is checked.
    repo.write("README", "hello\n")
    repo.commit("clean start")
    assert push("main").returncode == 0
    nothing = push("main")  # git runs pre-push with empty input when all is up to date
    assert nothing.returncode == 0, nothing.stderr
    secret = token()
    repo.write("deploy.env", f"GITHUB_TOKEN={secret}\n")
    subprocess.run(
        ["git", "add", "-A"], cwd=repo.path, env=repo.env, check=True, capture_output=True
    )
    subprocess.run(
        ["git", "commit", "-q", "--no-verify", "-m", "secret"],
        cwd=repo.path,
        env=repo.env,
        check=True,
    )
    bad = repo.git("rev-parse", "HEAD").strip()
    refused = push("main")
    assert refused.returncode != 0
    assert bad[:12] in refused.stderr and "github.pat" in refused.stderr
    assert secret not in refused.stderr
    # A new branch of clean work on top of what the remote has is accepted.
    repo.git("reset", "-q", "--hard", "HEAD~1")
    repo.git("checkout", "-q", "-b", "topic")
    repo.write("topic.txt", "ok\n")
    repo.commit("topic")
    accepted = push("topic")
    assert accepted.returncode == 0, accepted.stderr


def test_pre_push_from_stdin_and_from_the_framework_variables(
    git_repo: Callable[..., GitRepo], capsys: pytest.CaptureFixture[str]
) -> None:
    repo = git_repo()
    repo.write("a.txt", "a\n")
    base = repo.commit("base")
    repo.write("k.env", f"GITHUB_TOKEN={token()}\n")
    bad = repo.commit("secret")
    env = {k: v for k, v in repo.env.items() if not k.startswith("PRE_COMMIT_")}

    def pre_push(extra_env: dict[str, str], stdin: str | None) -> subprocess.CompletedProcess[str]:
        # With stdin None the hook gets none (as under the framework, which reads it itself).
        return subprocess.run(
            [sys.executable, "-m", "keyguard", "pre-push", *(["origin", "url"] if stdin else [])],
            cwd=repo.path,
            env={**env, **extra_env},
            input=stdin,
            stdin=subprocess.DEVNULL if stdin is None else None,
            capture_output=True,
            text=True,
        )

    zero = "0" * 40
    done = pre_push({}, f"refs/heads/main {bad} refs/heads/main {zero}\n")
    assert done.returncode == 1 and bad[:12] in done.stderr
    # The pre-commit framework passes the range in variables (its stdin is its own).
    done = pre_push({"PRE_COMMIT_FROM_REF": base, "PRE_COMMIT_TO_REF": bad}, None)
    assert done.returncode == 1 and bad[:12] in done.stderr
    done = pre_push({"PRE_COMMIT_FROM_REF": bad, "PRE_COMMIT_TO_REF": bad}, None)
    assert done.returncode == 0, done.stderr
    # A deletion only: nothing to check, said so.
    done = pre_push({}, f"(delete) {zero} refs/heads/old {bad}\n")
    assert done.returncode == 0 and "no new commits" in done.stderr


def test_hygiene_findings_are_reported_but_do_not_block_a_commit(
    capsys: pytest.CaptureFixture[str], repo: GitRepo
) -> None:
    repo.write("client.py", "import requests\nrequests.get(url, verify=False)\n")
    repo.git("add", "client.py")
    document = staged(capsys, repo, expect=0)
    assert [f["category"] for f in document["findings"]] == ["hygiene"]
    # With a credential as well, the commit is blocked.
    repo.write("client.env", f"GITHUB_TOKEN={token()}\n")
    repo.git("add", "client.env")
    assert staged(capsys, repo, expect=1)["findings"]
