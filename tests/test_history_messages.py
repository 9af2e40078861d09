"""Commit and annotated tag messages are scanned too (history.messages), through the real CLI on
real repositories: each leak in a message is attributed to its commit or tag, survives the cache,
is found in a revision range and by the pre-receive hook's scope, and purge-plan rewrites it
with the real `git filter-repo --replace-message`."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from keyguard.model import secret_hash
from tests.conftest import GitRepo
from tests.test_history import EVENTS_ONLY, audit, commit, day, git_on, rev, run_cli
from tests.test_hook_receive import Server
from tests.test_purge import FILTER_REPO, REMOVED, filter_repo, needs_filter_repo


def where(findings: list[dict[str, object]]) -> list[tuple[object, ...]]:
    return sorted(
        (f["secret_hash"], f["path"], f["line"], f["commit"], f["date"]) for f in findings
    )


def test_a_token_in_a_commit_body_is_a_leak_of_that_commit(
    capsys: pytest.CaptureFixture[str], repo: GitRepo, new_secret: Callable[[], str]
) -> None:
    token = new_secret()
    repo.write("README.md", "hello\n")
    commit(repo, "first", 1)
    repo.write("README.md", "hello again\n")
    c2 = commit(repo, f"fix the deploy\n\nIt failed with\n  curl -H 'token {token}' ...\n", 2)
    result = audit(capsys, repo.path)
    assert result.code == 1, result.err
    assert where(result.findings) == [(secret_hash(token), "<commit message>", 4, c2, day(2))]
    (finding,) = result.findings
    assert finding["summary"] == "fix the deploy" and finding["in_head"] is False
    assert token not in result.out
    assert result.scan["messages"] == 2
    # Again from the cache (an incremental audit lists no commit): the same leak, no more.
    again = audit(capsys, repo.path)
    assert where(again.findings) == where(result.findings)
    assert "incremental" in again.notes()
    # The value comes back from the commit object when asked for.
    shown = audit(capsys, repo.path, "--show-secrets")
    assert [f["secret"] for f in shown.findings] == [token]


def test_an_annotated_tag_message_is_a_leak_of_that_tag(
    capsys: pytest.CaptureFixture[str], repo: GitRepo, new_secret: Callable[[], str]
) -> None:
    token = new_secret()
    repo.write("a.txt", "a\n")
    commit(repo, "one", 1)
    git_on(repo, 2, "tag", "-a", "v1.0", "-m", f"release\n\nbuilt with {token}")
    git_on(repo, 3, "tag", "light")  # a lightweight tag has no message of its own
    tag = rev(repo, "refs/tags/v1.0")
    result = audit(capsys, repo.path)
    assert where(result.findings) == [(secret_hash(token), "<tag v1.0>", 3, tag, day(2))]
    assert result.findings[0]["summary"] == "release"
    # An incremental re-audit restores the tag's leak once, it does not add it again.
    again = audit(capsys, repo.path)
    assert where(again.findings) == where(result.findings)
    repo.write("b.txt", "b\n")
    commit(repo, "two", 4)
    third = audit(capsys, repo.path)
    assert where(third.findings) == where(result.findings)


def test_a_range_reports_only_the_messages_in_it(
    capsys: pytest.CaptureFixture[str], repo: GitRepo, new_secret: Callable[[], str]
) -> None:
    old, new = new_secret(), new_secret()
    repo.write("a.txt", "a\n")
    commit(repo, f"old {old}", 1)
    repo.write("a.txt", "b\n")
    c2 = commit(repo, f"new {new}", 2)
    result = audit(capsys, repo.path, "--range", "main~1..main", "--no-cache")
    assert where(result.findings) == [(secret_hash(new), "<commit message>", 1, c2, day(2))]


def test_messages_without_secrets_add_nothing_and_text_names_the_kind(
    capsys: pytest.CaptureFixture[str], repo: GitRepo, new_secret: Callable[[], str]
) -> None:
    repo.write("a.txt", "a\n")
    commit(repo, "the password is in the vault, token rotation is monthly", 1)
    assert audit(capsys, repo.path).findings == []
    token = new_secret()
    repo.write("a.txt", "b\n")
    commit(repo, f"oops {token}", 2)
    code, out, err = run_cli(capsys, "history", str(repo.path), "--jobs", "1", *EVENTS_ONLY)
    assert code == 1, err
    assert "<commit message>:1" in out and token not in out


def test_a_push_whose_commit_message_holds_a_token_is_rejected(
    tmp_path: Path, new_secret: Callable[[], str]
) -> None:
    token = new_secret()
    server = Server(tmp_path, "sha1", tmp_path / "cache")
    server.commit("a.txt", "b\n", f"debug: the token was {token}")
    pushed = server.push("main")
    assert not pushed.accepted
    assert "<commit message>" in pushed.err and token not in pushed.err


def test_a_pushed_annotated_tag_whose_message_holds_a_token_is_rejected(
    tmp_path: Path, new_secret: Callable[[], str]
) -> None:
    token = new_secret()
    server = Server(tmp_path, "sha1", tmp_path / "cache")
    # The tag points at a commit the server has: only the tag's own message is new.
    server.git("tag", "-a", "v9", "-m", f"release\n\nsigned off with {token}")
    pushed = server.push("refs/tags/v9")
    assert not pushed.accepted, pushed.err
    assert "<tag v9>" in pushed.err and token not in pushed.err
    server.git("tag", "-a", "v10", "-m", "a clean release")
    assert server.push("refs/tags/v10").accepted


@needs_filter_repo
def test_purge_plan_rewrites_a_leaked_message_with_filter_repo(
    capsys: pytest.CaptureFixture[str], repo: GitRepo, new_secret: Callable[[], str]
) -> None:
    assert FILTER_REPO is not None
    token, in_file = new_secret(), new_secret()
    repo.write("app.py", f'TOKEN = "{in_file}"\n')
    commit(repo, f"add the app\n\nfor reference: {token}\n", 1)
    report = repo.path.parent / "report.json"
    code, _, err = run_cli(
        capsys, "history", str(repo.path), "--format", "json", "-o", str(report), "--no-cache"
    )
    assert code == 1, err
    assert {f["path"] for f in json.loads(report.read_text())["findings"]} >= {
        "<commit message>",
        "app.py",
    }
    plan = repo.path.parent / "plan.txt"
    code, out, err = run_cli(
        capsys, "purge-plan", str(report), "--repo", str(repo.path), "-o", str(plan)
    )
    assert code == 0, err
    assert f"--replace-message {plan}" in out
    clone = repo.path.parent / "clone"
    subprocess.run(["git", "clone", "-q", "--no-local", str(repo.path), str(clone)], check=True)
    filter_repo(
        clone, repo.env, "--force", "--replace-text", str(plan), "--replace-message", str(plan)
    )
    log = subprocess.run(
        ["git", "log", "--all", "--format=%B"],
        cwd=clone,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert token not in log and REMOVED in log
    code, _, err = run_cli(capsys, "history", str(clone), "--no-cache", "--format", "json")
    assert code == 0, err
