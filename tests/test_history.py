"""`keyguard history` through the real command line on real git repositories built with git.

Every test builds its repository in tmp_path, commits freshly generated tokens (never a stored
credential literal) with distinct dates, and asserts the exact leak events of the JSON report:
(secret, path, commit, author, date, in_head, first_seen).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from keyguard.cli import main
from keyguard.history import cache as history_cache
from keyguard.hygiene import ASSESSMENTS
from keyguard.model import secret_hash
from keyguard.signatures import load_builtin
from tests.conftest import GitRepo

GITHUB_PAT = {r.id: r for r in load_builtin()}["github.pat"]
# These tests are about leak events. Findings about findings (rotation overdue: the commits here
# are dated 2024; key reuse) are tested in tests/test_hygiene.py, so they are switched off here.
_EVENTS_ONLY = Path(tempfile.mkdtemp(prefix="keyguard-events-")) / "events-only.toml"
_EVENTS_ONLY.write_text(f"disable = {json.dumps(sorted(ASSESSMENTS))}\n", encoding="utf-8")
EVENTS_ONLY = ("--config", str(_EVENTS_ONLY))
AUTHOR = "Test Author"
CACHE = Path("keyguard") / "history-cache.json"

Event = tuple[str, str, str, str, str, bool, str]


def day(n: int) -> str:
    """The author date of the commit made on day n (distinct, increasing)."""
    return f"2024-03-{n:02d}T12:00:00+00:00"


def utc(n: int) -> str:
    return f"2024-03-{n:02d}T12:00:00Z"


def commit(repo: GitRepo, message: str, n: int, author: str = AUTHOR) -> str:
    saved = repo.env.get("GIT_AUTHOR_NAME")
    repo.env["GIT_AUTHOR_NAME"] = author
    try:
        return repo.commit(message, date=day(n))
    finally:
        if saved is not None:
            repo.env["GIT_AUTHOR_NAME"] = saved


def git_on(repo: GitRepo, n: int, *args: str) -> str:
    """A git command whose commits (merge, stash, tag) are dated day n."""
    env = {**repo.env, "GIT_AUTHOR_DATE": day(n), "GIT_COMMITTER_DATE": day(n)}
    done = subprocess.run(
        ["git", *args], cwd=repo.path, env=env, capture_output=True, text=True, check=True
    )
    return done.stdout


def rev(repo: GitRepo, name: str) -> str:
    return repo.git("rev-parse", name).strip()


@dataclass
class Result:
    code: int
    doc: dict[str, Any]
    out: str
    err: str

    @property
    def scan(self) -> dict[str, Any]:
        scan: dict[str, Any] = self.doc["scan"]
        return scan

    @property
    def findings(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self.doc["findings"]
        return found

    def notes(self) -> str:
        return "\n".join(self.scan.get("notes", []))


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def audit(capsys: pytest.CaptureFixture[str], target: Path, *args: str) -> Result:
    code, out, err = run_cli(
        capsys, "history", str(target), "--format", "json", "--jobs", "1", *EVENTS_ONLY, *args
    )
    return Result(code, json.loads(out) if out.strip() else {}, out, err)


def events(result: Result) -> list[Event]:
    return sorted(
        (
            f["secret_hash"],
            f["path"],
            f["commit"],
            f["author"],
            f["date"],
            f["in_head"],
            f["first_seen"],
        )
        for f in result.findings
    )


def ev(
    secret: str,
    path: str,
    sha: str,
    n: int,
    *,
    in_head: bool,
    first: int | None = None,
    author: str = AUTHOR,
) -> Event:
    return (secret_hash(secret), path, sha, author, day(n), in_head, utc(first or n))


def expect(result: Result, *expected: Event, code: int | None = None) -> None:
    assert events(result) == sorted(expected)
    if code is None:
        code = 1 if expected else 0
    assert result.code == code, result.err
    assert result.scan["kind"] == "history"
    if code != 3:
        assert result.scan["complete"] is True
        assert result.scan["errors"] == []


# --- basic event semantics -------------------------------------------------------------------


def test_added_then_removed_is_not_in_head(
    capsys: pytest.CaptureFixture[str], repo: GitRepo, new_secret: Callable[[], str]
) -> None:
    gone, kept = new_secret(), new_secret()
    repo.write("config.py", f'TOKEN = "{gone}"\nOTHER = "{kept}"\n')
    c1 = commit(repo, "add config", 1, author="Alice Adder")
    repo.write("config.py", f'OTHER = "{kept}"\n')
    commit(repo, "remove token", 2, author="Bob Remover")
    result = audit(capsys, repo.path)
    expect(
        result,
        ev(gone, "config.py", c1, 1, in_head=False, author="Alice Adder"),
        ev(kept, "config.py", c1, 1, in_head=True, author="Alice Adder"),
    )
    by_hash = {f["secret_hash"]: f for f in result.findings}
    first = by_hash[secret_hash(gone)]
    assert (first["line"], first["column"]) == (1, 10)
    assert first["summary"] == "add config"
    assert first["rule_id"] == "github.pat"
    assert isinstance(first["age_days"], int) and first["age_days"] > 0


def test_secret_in_deleted_file(
    capsys: pytest.CaptureFixture[str], repo: GitRepo, new_secret: Callable[[], str]
) -> None:
    secret = new_secret()
    repo.write("README.md", "hello\n")
    commit(repo, "readme", 1)
    repo.write("deploy/secrets.env", f"GITHUB_TOKEN={secret}\n")
    c2 = commit(repo, "add secrets", 2)
    repo.git("rm", "-q", "deploy/secrets.env")
    commit(repo, "delete secrets", 3)
    expect(audit(capsys, repo.path), ev(secret, "deploy/secrets.env", c2, 2, in_head=False))


def test_unmerged_branch_only(
    capsys: pytest.CaptureFixture[str], repo: GitRepo, new_secret: Callable[[], str]
) -> None:
    secret = new_secret()
    repo.write("app.py", "print('hi')\n")
    commit(repo, "base", 1)
    repo.git("checkout", "-q", "-b", "feature")
    repo.write("app.py", f"print('hi')\ntoken = '{secret}'\n")
    c2 = commit(repo, "feature work", 2, author="Feature Dev")
    repo.git("checkout", "-q", "main")
    expect(
        audit(capsys, repo.path),
        ev(secret, "app.py", c2, 2, in_head=False, author="Feature Dev"),
    )
    expect(audit(capsys, repo.path, "--branch", "main"))
    expect(
        audit(capsys, repo.path, "--branch", "feature"),
        ev(secret, "app.py", c2, 2, in_head=False, author="Feature Dev"),
    )


def test_reachable_only_from_tags(
    capsys: pytest.CaptureFixture[str], repo: GitRepo, new_secret: Callable[[], str]
) -> None:
    light, annotated = new_secret(), new_secret()
    repo.write("a.txt", "base\n")
    commit(repo, "base", 1)
    repo.git("checkout", "-q", "-b", "tmp1")
    repo.write("light.txt", f"{light}\n")
    c2 = commit(repo, "for lightweight tag", 2)
    repo.git("tag", "v-light")
    repo.git("checkout", "-q", "main")
    repo.git("checkout", "-q", "-b", "tmp2")
    repo.write("annotated.txt", f"key: {annotated}\n")
    c3 = commit(repo, "for annotated tag", 3)
    git_on(repo, 4, "tag", "-a", "v-annotated", "-m", "release")
    repo.git("checkout", "-q", "main")
    repo.git("branch", "-q", "-D", "tmp1", "tmp2")
    assert repo.git("cat-file", "-t", "v-annotated").strip() == "tag"
    expect(
        audit(capsys, repo.path),
        ev(light, "light.txt", c2, 2, in_head=False),
        ev(annotated, "annotated.txt", c3, 3, in_head=False),
    )
    expect(audit(capsys, repo.path, "--branch", "main"))


def test_merge_conflict_resolution_adding_a_secret_is_the_merges(
    capsys: pytest.CaptureFixture[str], repo: GitRepo, new_secret: Callable[[], str]
) -> None:
    secret = new_secret()
    repo.write("settings.ini", "value = base\n")
    commit(repo, "base", 1)
    repo.git("checkout", "-q", "-b", "other")
    repo.write("settings.ini", "value = theirs\n")
    commit(repo, "theirs", 2)
    repo.git("checkout", "-q", "main")
    repo.write("settings.ini", "value = ours\n")
    commit(repo, "ours", 3)
    done = subprocess.run(
        ["git", "merge", "-q", "other"], cwd=repo.path, env=repo.env, capture_output=True
    )
    assert done.returncode != 0  # a conflict
    repo.write("settings.ini", f"value = ours\ntoken = {secret}\n")
    merge = commit(repo, "merge other, resolving the conflict", 4, author="Merger")
    assert rev(repo, "HEAD^2")
    expect(
        audit(capsys, repo.path),
        ev(secret, "settings.ini", merge, 4, in_head=True, author="Merger"),
    )


@pytest.mark.parametrize("direction", ["branch-into-main", "main-into-branch"])
def test_clean_merge_attributes_to_the_branch_commit_only(
    capsys: pytest.CaptureFixture[str],
    repo: GitRepo,
    new_secret: Callable[[], str],
    direction: str,
) -> None:
    secret = new_secret()
    repo.write("a.txt", "base\n")
    commit(repo, "base", 1)
    repo.git("checkout", "-q", "-b", "feature")
    repo.write("creds.yml", f"token: {secret}\n")
    c2 = commit(repo, "add creds", 2, author="Branch Author")
    repo.git("checkout", "-q", "main")
    repo.write("b.txt", "main work\n")
    commit(repo, "main work", 3)
    if direction == "main-into-branch":
        # creds.yml reaches main's side through the *second* parent of a merge on feature
        repo.git("checkout", "-q", "feature")
        git_on(repo, 4, "merge", "-q", "--no-ff", "-m", "merge main", "main")
    else:
        git_on(repo, 4, "merge", "-q", "--no-ff", "-m", "merge feature", "feature")
    assert rev(repo, "HEAD^2")
    expect(
        audit(capsys, repo.path),
        ev(secret, "creds.yml", c2, 2, in_head=True, author="Branch Author"),
    )


def test_evil_merge_adding_a_new_file_is_the_merges(
    capsys: pytest.CaptureFixture[str], repo: GitRepo, new_secret: Callable[[], str]
) -> None:
    merged, added = new_secret(), new_secret()
    repo.write("a.txt", "base\n")
    commit(repo, "base", 1)
    repo.git("checkout", "-q", "-b", "feature")
    repo.write("f.txt", f"{merged}\n")
    c2 = commit(repo, "feature", 2)
    repo.git("checkout", "-q", "main")
    repo.write("b.txt", "main\n")
    commit(repo, "main", 3)
    git_on(repo, 4, "merge", "-q", "--no-ff", "--no-commit", "feature")
    repo.write("extra.txt", f"{added}\n")
    merge = commit(repo, "merge with an extra file", 5)
    expect(
        audit(capsys, repo.path),
        ev(merged, "f.txt", c2, 2, in_head=True),
        ev(added, "extra.txt", merge, 5, in_head=True),
    )


def test_readded_after_removal_is_two_events(
    capsys: pytest.CaptureFixture[str], repo: GitRepo, new_secret: Callable[[], str]
) -> None:
    secret = new_secret()
    repo.write("env.sh", f"export GITHUB_TOKEN={secret}\n")
    c1 = commit(repo, "add", 1)
    repo.write("env.sh", "export GITHUB_TOKEN=\n")
    commit(repo, "remove", 2)
    repo.write("env.sh", f"export GITHUB_TOKEN={secret}\n")
    c3 = commit(repo, "oops, re-add", 3, author="Repeat Offender")
    result = audit(capsys, repo.path)
    expect(
        result,
        ev(secret, "env.sh", c1, 1, in_head=True),
        ev(secret, "env.sh", c3, 3, in_head=True, first=1, author="Repeat Offender"),
    )
    # oldest event first
    assert [f["commit"] for f in result.findings] == [c1, c3]


def test_copy_to_another_path_is_a_new_event(
    capsys: pytest.CaptureFixture[str], repo: GitRepo, new_secret: Callable[[], str]
) -> None:
    secret = new_secret()
    repo.write("a/config.py", f"TOKEN = '{secret}'\n")
    c1 = commit(repo, "add", 1)
    shutil.copy(repo.path / "a/config.py", repo.path / "b-config.py")
    c2 = commit(repo, "copy", 2)
    expect(
        audit(capsys, repo.path),
        ev(secret, "a/config.py", c1, 1, in_head=True),
        ev(secret, "b-config.py", c2, 2, in_head=True, first=1),
    )


@pytest.mark.parametrize("edit", [False, True], ids=["pure-rename", "rename-and-edit"])
def test_rename_is_not_a_new_event(
    capsys: pytest.CaptureFixture[str], repo: GitRepo, new_secret: Callable[[], str], edit: bool
) -> None:
    secret = new_secret()
    repo.write("old/name.cfg", f"token={secret}\n")
    c1 = commit(repo, "add", 1)
    (repo.path / "new").mkdir()
    repo.git("mv", "old/name.cfg", "new/renamed.cfg")
    if edit:
        repo.write("new/renamed.cfg", f"# moved here\ntoken={secret}\n")
    commit(repo, "rename", 2)
    expect(audit(capsys, repo.path), ev(secret, "old/name.cfg", c1, 1, in_head=True))


def test_mode_change_is_not_a_new_event(
    capsys: pytest.CaptureFixture[str], repo: GitRepo, new_secret: Callable[[], str]
) -> None:
    secret = new_secret()
    repo.write("run.sh", f"#!/bin/sh\nTOKEN={secret}\n")
    c1 = commit(repo, "add", 1)
    os.chmod(repo.path / "run.sh", 0o755)
    commit(repo, "chmod +x", 2)
    expect(audit(capsys, repo.path), ev(secret, "run.sh", c1, 1, in_head=True))


def test_binary_file_is_skipped_and_counted(
    capsys: pytest.CaptureFixture[str], repo: GitRepo, new_secret: Callable[[], str]
) -> None:
    hidden, visible = new_secret(), new_secret()
    repo.write("blob.bin", b"\x00\x01\x02 token=" + hidden.encode() + b"\x00\xff\n")
    repo.write("text.txt", f"token={visible}\n")
    c1 = commit(repo, "add", 1)
    result = audit(capsys, repo.path)
    expect(result, ev(visible, "text.txt", c1, 1, in_head=True))
    assert result.scan["skipped"] == {"binary": 1}
    assert result.scan["blobs"] == 1


def test_crlf_line_endings_give_the_right_line_and_column(
    capsys: pytest.CaptureFixture[str], repo: GitRepo, new_secret: Callable[[], str]
) -> None:
    secret = new_secret()
    repo.git("config", "core.autocrlf", "false")
    content = f"# café\r\n\r\nclé = {secret}\r\nend\r\n".encode()
    repo.write("win.ini", content)
    c1 = commit(repo, "windows file", 1)
    stored = subprocess.run(
        ["git", "cat-file", "blob", "HEAD:win.ini"], cwd=repo.path, capture_output=True, check=True
    ).stdout
    assert stored == content
    result = audit(capsys, repo.path)
    expect(result, ev(secret, "win.ini", c1, 1, in_head=True))
    f = result.findings[0]
    assert (f["line"], f["column"], f["end_line"], f["end_column"]) == (3, 7, 3, 7 + len(secret))


def test_same_secret_in_two_files_is_one_secret_two_events(
    capsys: pytest.CaptureFixture[str], repo: GitRepo, new_secret: Callable[[], str]
) -> None:
    secret = new_secret()
    repo.write("one.env", f"T={secret}\n")
    repo.write("two/two.env", f"X=1\nT={secret}\n")
    c1 = commit(repo, "add both", 1)
    result = audit(capsys, repo.path)
    expect(
        result,
        ev(secret, "one.env", c1, 1, in_head=True),
        ev(secret, "two/two.env", c1, 1, in_head=True),
    )
    code, out, _ = run_cli(capsys, "history", str(repo.path), "--jobs", "1", *EVENTS_ONLY)
    assert code == 1
    headers = [line for line in out.splitlines() if "[github.pat]" in line]
    assert len(headers) == 1
    # Location lines are indented like the steps below them; a location names path:line:col.
    indented = [line.strip() for line in out.splitlines() if line.startswith("    ")]
    locations = [line for line in indented if re.match(r"\S+:\d+:\d+", line)]
    assert sorted(loc.split()[0] for loc in locations) == ["one.env:1:3", "two/two.env:2:3"]
    assert all(c1[:12] in loc and "2024-03-01" in loc and AUTHOR in loc for loc in locations)
    assert "2 findings (1 secret)" in out


def test_edit_above_the_secret_is_not_a_new_event(
    capsys: pytest.CaptureFixture[str], repo: GitRepo, new_secret: Callable[[], str]
) -> None:
    secret = new_secret()
    repo.write("app.cfg", f"[auth]\ntoken = {secret}\n")
    c1 = commit(repo, "add", 1)
    repo.write("app.cfg", f"# header\n# more\n[auth]\ntoken = {secret}\nother = 1\n")
    commit(repo, "edit above", 2)
    result = audit(capsys, repo.path)
    expect(result, ev(secret, "app.cfg", c1, 1, in_head=True))
    assert result.findings[0]["line"] == 2  # where the introducing commit had it


def test_long_names_and_empty_commits_parse(
    capsys: pytest.CaptureFixture[str], repo: GitRepo, new_secret: Callable[[], str]
) -> None:
    # 40-character path and summary look like commit ids to a careless log parser.
    secret = new_secret()
    commit(repo, "an empty root commit", 1)
    name = "f" * 36 + ".txt"
    repo.write(name, f"{secret}\n")
    c2 = commit(repo, "s" * 40, 2)
    commit(repo, "another empty one", 3)
    expect(audit(capsys, repo.path), ev(secret, name, c2, 2, in_head=True))


# --- refs: stash, remotes ---------------------------------------------------------------------


def test_secret_in_the_stash(
    capsys: pytest.CaptureFixture[str], repo: GitRepo, new_secret: Callable[[], str]
) -> None:
    unstaged, staged = new_secret(), new_secret()
    repo.write("tracked.txt", "clean\n")
    commit(repo, "base", 1)
    repo.write("tracked.txt", f"clean\n{unstaged}\n")
    repo.write("new.txt", f"{staged}\n")
    repo.git("add", "new.txt")
    git_on(repo, 2, "stash", "push", "-q")
    assert "stash" in repo.git("for-each-ref", "refs/stash")
    work, index = rev(repo, "refs/stash"), rev(repo, "refs/stash^2")
    result = audit(capsys, repo.path)
    # the index commit holds the staged file; the work-tree commit only the unstaged change
    expect(
        result,
        ev(unstaged, "tracked.txt", work, 2, in_head=False),
        ev(staged, "new.txt", index, 2, in_head=False),
    )


def test_untracked_files_in_the_stash(
    capsys: pytest.CaptureFixture[str], repo: GitRepo, new_secret: Callable[[], str]
) -> None:
    secret = new_secret()
    repo.write("tracked.txt", "clean\n")
    commit(repo, "base", 1)
    repo.write("untracked.txt", f"{secret}\n")
    git_on(repo, 2, "stash", "push", "-q", "--include-untracked")
    untracked = rev(repo, "refs/stash^3")
    expect(audit(capsys, repo.path), ev(secret, "untracked.txt", untracked, 2, in_head=False))


def test_older_stash_entries(
    capsys: pytest.CaptureFixture[str], repo: GitRepo, new_secret: Callable[[], str]
) -> None:
    older, newer = new_secret(), new_secret()
    repo.write("tracked.txt", "clean\n")
    commit(repo, "base", 1)
    repo.write("tracked.txt", f"clean\n{older}\n")
    git_on(repo, 2, "stash", "push", "-q")
    first = rev(repo, "refs/stash")
    repo.write("tracked.txt", f"clean\nx\n{newer}\n")
    git_on(repo, 3, "stash", "push", "-q")
    second = rev(repo, "refs/stash")
    expect(
        audit(capsys, repo.path),
        ev(older, "tracked.txt", first, 2, in_head=False),
        ev(newer, "tracked.txt", second, 3, in_head=False),
    )


def test_remote_tracking_refs(
    capsys: pytest.CaptureFixture[str],
    git_repo: Callable[..., GitRepo],
    tmp_path: Path,
    new_secret: Callable[[], str],
) -> None:
    secret = new_secret()
    origin = git_repo("origin")
    origin.write("a.txt", "a\n")
    commit(origin, "base", 1)
    subprocess.run(
        ["git", "clone", "-q", str(origin.path), str(tmp_path / "clone")],
        env=origin.env,
        check=True,
    )
    origin.git("checkout", "-q", "-b", "feature")
    origin.write("leak.txt", f"{secret}\n")
    c2 = commit(origin, "leak on a remote branch", 2)
    clone = GitRepo(tmp_path / "clone", tmp_path / "home")
    clone.git("fetch", "-q", "origin")
    assert "origin/feature" in clone.git("branch", "-r")
    assert "feature" not in clone.git("branch")
    expect(audit(capsys, clone.path), ev(secret, "leak.txt", c2, 2, in_head=False))


# --- repository shapes ------------------------------------------------------------------------


def build_two_leaks(repo: GitRepo, new_secret: Callable[[], str]) -> tuple[list[Event], str]:
    """main: day 1 adds `kept`, day 2 adds `gone`, day 3 removes `gone`."""
    kept, gone = new_secret(), new_secret()
    repo.write("keep.txt", f"{kept}\n")
    c1 = commit(repo, "one", 1)
    repo.write("gone.txt", f"{gone}\n")
    c2 = commit(repo, "two", 2)
    repo.git("rm", "-q", "gone.txt")
    c3 = commit(repo, "three", 3)
    return [
        ev(kept, "keep.txt", c1, 1, in_head=True),
        ev(gone, "gone.txt", c2, 2, in_head=False),
    ], c3


def test_bare_repository(
    capsys: pytest.CaptureFixture[str], repo: GitRepo, tmp_path: Path, new_secret: Callable[[], str]
) -> None:
    expected, _ = build_two_leaks(repo, new_secret)
    bare = tmp_path / "bare.git"
    repo.git("clone", "-q", "--bare", str(repo.path), str(bare))
    expect(audit(capsys, bare), *expected)
    assert (bare / CACHE).is_file()
    expect(audit(capsys, bare), *expected)


def test_unborn_head(capsys: pytest.CaptureFixture[str], repo: GitRepo) -> None:
    result = audit(capsys, repo.path)
    expect(result)
    assert "no commits" in result.err
    assert "no commits" in result.notes()
    code, _, err = run_cli(capsys, "history", str(repo.path), *EVENTS_ONLY)
    assert code == 0
    assert "no commits" in err


def test_orphan_checkout_keeps_other_refs(
    capsys: pytest.CaptureFixture[str], repo: GitRepo, new_secret: Callable[[], str]
) -> None:
    expected, _ = build_two_leaks(repo, new_secret)
    repo.git("checkout", "-q", "--orphan", "fresh")
    # HEAD is unborn but main still exists: nothing is "in HEAD"
    result = audit(capsys, repo.path)
    expect(result, *[(*e[:5], False, *e[6:]) for e in expected])


def test_shallow_clone(
    capsys: pytest.CaptureFixture[str], repo: GitRepo, tmp_path: Path, new_secret: Callable[[], str]
) -> None:
    _, tip = build_two_leaks(repo, new_secret)
    late = new_secret()
    repo.write("late.txt", f"{late}\n")
    c4 = commit(repo, "four", 4)
    shallow = tmp_path / "shallow"
    repo.git("clone", "-q", "--depth", "2", f"file://{repo.path}", str(shallow))
    assert (shallow / ".git" / "shallow").is_file()
    kept_hash = secret_hash((repo.path / "keep.txt").read_text().strip())
    result = audit(capsys, shallow)
    # Only commits three (the grafted boundary: everything it holds looks added) and four exist.
    assert events(result) == sorted(
        [
            (kept_hash, "keep.txt", tip, AUTHOR, day(3), True, utc(3)),
            ev(late, "late.txt", c4, 4, in_head=True),
        ]
    )
    assert result.code == 1
    assert "shallow" in result.notes() and "truncated" in result.notes()
    assert "truncated" in result.err


def test_submodule_is_not_descended_into(
    capsys: pytest.CaptureFixture[str],
    git_repo: Callable[..., GitRepo],
    new_secret: Callable[[], str],
) -> None:
    inner_secret, outer_secret = new_secret(), new_secret()
    sub = git_repo("sub")
    sub.write("inner.txt", f"{inner_secret}\n")
    commit(sub, "inner leak", 1)
    outer = git_repo("outer")
    outer.write("outer.txt", f"{outer_secret}\n")
    c1 = commit(outer, "outer", 2)
    outer.git("-c", "protocol.file.allow=always", "submodule", "add", "-q", str(sub.path), "lib")
    commit(outer, "add submodule", 3)
    result = audit(capsys, outer.path)
    expect(result, ev(outer_secret, "outer.txt", c1, 2, in_head=True))
    assert "submodule" in result.notes()
    assert "submodule" in result.err


def test_lfs_pointer_file(
    capsys: pytest.CaptureFixture[str], repo: GitRepo, new_secret: Callable[[], str]
) -> None:
    secret = new_secret()
    oid = hashlib.sha256(b"large file").hexdigest()
    repo.write(".gitattributes", "*.bin filter=lfs diff=lfs merge=lfs -text\n")
    repo.write(
        "model.bin", f"version https://git-lfs.github.com/spec/v1\noid sha256:{oid}\nsize 1234\n"
    )
    repo.write("real.txt", f"{secret}\n")
    c1 = commit(repo, "lfs", 1)
    expect(audit(capsys, repo.path), ev(secret, "real.txt", c1, 1, in_head=True))


def test_non_utf8_path_is_reported_with_escapes(
    capsys: pytest.CaptureFixture[str], repo: GitRepo, new_secret: Callable[[], str]
) -> None:
    secret = new_secret()
    raw = os.fsencode(repo.path) + b"/caf\xe9.env"
    with open(raw, "wb") as handle:
        handle.write(f"T={secret}\n".encode())
    c1 = commit(repo, "latin-1 name", 1)
    result = audit(capsys, repo.path)
    expect(result, ev(secret, "caf\\xe9.env", c1, 1, in_head=True))
    code, out, _ = run_cli(capsys, "history", str(repo.path), "--jobs", "1", *EVENTS_ONLY)
    assert code == 1 and "caf\\xe9.env" in out
    code, out, _ = run_cli(
        capsys, "history", str(repo.path), "--format", "jsonl", "--jobs", "1", *EVENTS_ONLY
    )
    assert code == 1 and json.loads(out)["path"] == "caf\\xe9.env"


def loose_object(repo: GitRepo, sha: str) -> Path:
    return repo.path / ".git" / "objects" / sha[:2] / sha[2:]


def test_missing_object_is_reported_and_nothing_else_lost(
    capsys: pytest.CaptureFixture[str], repo: GitRepo, new_secret: Callable[[], str]
) -> None:
    secrets = [new_secret() for _ in range(4)]
    expected = []
    for n, secret in enumerate(secrets, start=1):
        repo.write(f"f{n}.txt", f"{secret}\n")
        expected.append((secret, f"f{n}.txt", commit(repo, f"c{n}", n), n))
    victim = rev(repo, "HEAD~2:f2.txt")
    loose_object(repo, victim).unlink()
    want = [ev(s, p, c, n, in_head=True) for s, p, c, n in expected if p != "f2.txt"]
    for args in ([], [], ["--no-cache"]):  # cold, then with the cache, then bypassing it
        result = audit(capsys, repo.path, *args)
        expect(result, *want, code=3)
        assert result.scan["complete"] is False
        assert any(victim in e for e in result.scan["errors"]), result.scan["errors"]


def _corrupt_garbage(path: Path) -> None:
    path.write_bytes(b"this is not zlib data at all")


def _corrupt_truncate(path: Path) -> None:
    # the zlib stream is cut: git reads the header (type, size) but not the content
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


@pytest.mark.parametrize(
    "corrupt",
    [
        pytest.param(_corrupt_garbage, id="garbage"),
        pytest.param(
            _corrupt_truncate,
            id="truncated",
        ),
    ],
)
def test_corrupt_object_loses_nothing_else(
    capsys: pytest.CaptureFixture[str],
    repo: GitRepo,
    new_secret: Callable[[], str],
    corrupt: Callable[[Path], None],
) -> None:
    expected = []
    for n in range(1, 13):
        secret = new_secret()
        # large enough that half of the compressed object still holds the header
        repo.write(f"f{n:02}.txt", f"{secret}\n" + "".join(new_secret() + "\n" for _ in range(40)))
        expected.append((secret, f"f{n:02}.txt", commit(repo, f"c{n}", n), n))
    victim = rev(repo, "HEAD:f01.txt")
    path = loose_object(repo, victim)
    path.chmod(0o644)
    corrupt(path)
    result = audit(capsys, repo.path, "--no-cache")
    got = {(f["path"], f["commit"]) for f in result.findings}
    assert got >= {(p, c) for _, p, c, _ in expected if p != "f01.txt"}
    assert ("f01.txt", expected[0][2]) not in got
    assert result.code == 3
    assert result.scan["complete"] is False
    assert any(victim in e for e in result.scan["errors"]), result.scan["errors"]


def test_not_a_git_repository(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    code, _, err = run_cli(capsys, "history", str(plain), *EVENTS_ONLY)
    assert code == 2
    assert "not a git repository" in err
    code, _, err = run_cli(capsys, "history", str(tmp_path / "nowhere"), *EVENTS_ONLY)
    assert code == 2


# --- scopes -----------------------------------------------------------------------------------


@pytest.fixture
def scoped(repo: GitRepo, new_secret: Callable[[], str]) -> dict[str, Any]:
    """main: c1 adds a, c2 edits above a, c3 adds b; feature (from c2): c4 adds f."""
    a, b, f = new_secret(), new_secret(), new_secret()
    repo.write("a.txt", f"{a}\n")
    c1 = commit(repo, "c1", 1)
    repo.write("a.txt", f"# note\n{a}\n")
    c2 = commit(repo, "c2", 2)
    repo.git("checkout", "-q", "-b", "feature")
    repo.write("f.txt", f"{f}\n")
    c4 = commit(repo, "c4", 4)
    repo.git("checkout", "-q", "main")
    repo.write("b.txt", f"{b}\n")
    c3 = commit(repo, "c3", 3)
    return {
        "a": ev(a, "a.txt", c1, 1, in_head=True),
        "b": ev(b, "b.txt", c3, 3, in_head=True),
        "f": ev(f, "f.txt", c4, 4, in_head=False),
        "c1": c1,
        "c2": c2,
        "c3": c3,
    }


def test_scope_all_and_branch(
    capsys: pytest.CaptureFixture[str], repo: GitRepo, scoped: dict[str, Any]
) -> None:
    expect(audit(capsys, repo.path), scoped["a"], scoped["b"], scoped["f"])
    expect(audit(capsys, repo.path, "--branch", "main"), scoped["a"], scoped["b"])
    expect(audit(capsys, repo.path, "--branch", "feature"), scoped["a"], scoped["f"])


@pytest.mark.parametrize("cache", [[], ["--no-cache"]], ids=["cache", "no-cache"])
def test_scope_range(
    capsys: pytest.CaptureFixture[str], repo: GitRepo, scoped: dict[str, Any], cache: list[str]
) -> None:
    expect(audit(capsys, repo.path, "--range", f"{scoped['c2']}..main", *cache), scoped["b"])


@pytest.mark.parametrize("cache", [[], ["--no-cache"]], ids=["cold-cache", "no-cache"])
def test_scope_range_edit_above_old_secret(
    capsys: pytest.CaptureFixture[str], repo: GitRepo, scoped: dict[str, Any], cache: list[str]
) -> None:
    expect(audit(capsys, repo.path, "--range", f"{scoped['c1']}..main", *cache), scoped["b"])


def test_scope_range_rename_inside(
    capsys: pytest.CaptureFixture[str], repo: GitRepo, new_secret: Callable[[], str]
) -> None:
    secret = new_secret()
    repo.write("a.txt", f"{secret}\n")
    c1 = commit(repo, "add", 1)
    repo.git("mv", "a.txt", "b.txt")
    repo.write("b.txt", f"# renamed and edited\n{secret}\n")
    commit(repo, "rename", 2)
    expect(audit(capsys, repo.path, "--range", f"{c1}..main", "--no-cache"))


def test_scope_since(
    capsys: pytest.CaptureFixture[str], repo: GitRepo, scoped: dict[str, Any]
) -> None:
    # every ref, minus what c2 reaches: c3 on main and c4 on feature
    expect(
        audit(capsys, repo.path, "--since", scoped["c2"], "--no-cache"), scoped["b"], scoped["f"]
    )
    expect(audit(capsys, repo.path, "--since", "main", "--no-cache"), scoped["f"])


def test_scope_options_are_exclusive(
    capsys: pytest.CaptureFixture[str], repo: GitRepo, scoped: dict[str, Any]
) -> None:
    code, _, err = run_cli(
        capsys, "history", str(repo.path), *EVENTS_ONLY, "--branch", "main", "--range", "a..b"
    )
    assert code == 2 and "only one of" in err
    assert not (repo.path / ".git" / "keyguard").exists()


@pytest.mark.parametrize(
    "option", [["--branch", "nope"], ["--range", "nope..main"], ["--since", "nope"]]
)
def test_unknown_revision_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], repo: GitRepo, scoped: dict[str, Any], option: list[str]
) -> None:
    code, _, err = run_cli(capsys, "history", str(repo.path), *EVENTS_ONLY, *option)
    assert "nope" in err
    assert code == 2


def test_scope_value_is_never_a_git_option(
    capsys: pytest.CaptureFixture[str], repo: GitRepo, scoped: dict[str, Any], tmp_path: Path
) -> None:
    target = tmp_path / "written-by-git-log"
    code, _, _ = run_cli(
        capsys,
        "history",
        str(repo.path),
        *EVENTS_ONLY,
        "--no-cache",
        f"--branch=--output={target}",
    )
    assert not target.exists()
    assert code == 2


# --- the incremental cache --------------------------------------------------------------------


def test_incremental_cache_after_a_new_commit(
    capsys: pytest.CaptureFixture[str], repo: GitRepo, new_secret: Callable[[], str]
) -> None:
    expected, _ = build_two_leaks(repo, new_secret)
    first = audit(capsys, repo.path)
    expect(first, *expected)
    assert (repo.path / ".git" / CACHE).is_file()
    assert "incremental" not in first.notes()

    # a new commit adds a secret and removes the one found first (in_head must follow)
    fresh = new_secret()
    repo.write("new.txt", f"{fresh}\n")
    repo.git("rm", "-q", "keep.txt")
    c4 = commit(repo, "four", 4)
    second = audit(capsys, repo.path)
    now = [(*e[:5], False, *e[6:]) for e in expected] + [ev(fresh, "new.txt", c4, 4, in_head=True)]
    expect(second, *now)
    assert "incremental" in second.notes()
    assert second.scan["blobs"] == 1  # only the new blob was read
    uncached = audit(capsys, repo.path, "--no-cache")
    expect(uncached, *now)
    assert "incremental" not in uncached.notes()
    # the findings are the same in every detail but the cache note
    assert second.findings == uncached.findings


def test_incremental_cache_reports_the_same_commit_count(
    capsys: pytest.CaptureFixture[str], repo: GitRepo, new_secret: Callable[[], str]
) -> None:
    build_two_leaks(repo, new_secret)
    audit(capsys, repo.path)
    repo.write("new.txt", "nothing\n")
    commit(repo, "four", 4)
    cached = audit(capsys, repo.path)
    assert "incremental" in cached.notes()
    assert cached.scan["commits"] == audit(capsys, repo.path, "--no-cache").scan["commits"] == 4


def test_incremental_cache_with_a_merge_and_new_branch(
    capsys: pytest.CaptureFixture[str], repo: GitRepo, new_secret: Callable[[], str]
) -> None:
    expected, _ = build_two_leaks(repo, new_secret)
    expect(audit(capsys, repo.path), *expected)
    branch_secret = new_secret()
    repo.git("checkout", "-q", "-b", "feature")
    repo.write("feature.txt", f"{branch_secret}\n")
    c4 = commit(repo, "feature", 4)
    repo.git("checkout", "-q", "main")
    repo.write("main.txt", "x\n")
    commit(repo, "main", 5)
    git_on(repo, 6, "merge", "-q", "--no-ff", "-m", "merge", "feature")
    result = audit(capsys, repo.path)
    assert "incremental" in result.notes()
    expect(result, *expected, ev(branch_secret, "feature.txt", c4, 4, in_head=True))


def test_rewritten_history_invalidates_the_cache(
    capsys: pytest.CaptureFixture[str], repo: GitRepo, new_secret: Callable[[], str]
) -> None:
    expected, _ = build_two_leaks(repo, new_secret)
    doomed = new_secret()
    repo.write("doomed.txt", f"{doomed}\n")
    commit(repo, "doomed", 4)
    expect(
        audit(capsys, repo.path),
        *expected,
        ev(doomed, "doomed.txt", rev(repo, "HEAD"), 4, in_head=True),
    )
    # force-push style rewrite: drop the last commit, make another one
    repo.git("reset", "-q", "--hard", "HEAD~1")
    repo.git("reflog", "expire", "--expire=now", "--all")
    other = new_secret()
    repo.write("other.txt", f"{other}\n")
    c5 = commit(repo, "rewritten", 5)
    result = audit(capsys, repo.path)
    assert "incremental" not in result.notes()
    expect(result, *expected, ev(other, "other.txt", c5, 5, in_head=True))
    # a deleted branch is a rewrite too
    repo.git("checkout", "-q", "-b", "temp")
    temp = new_secret()
    repo.write("temp.txt", f"{temp}\n")
    c6 = commit(repo, "temp", 6)
    repo.git("checkout", "-q", "main")
    expect(
        audit(capsys, repo.path),
        *expected,
        ev(other, "other.txt", c5, 5, in_head=True),
        ev(temp, "temp.txt", c6, 6, in_head=False),
    )
    repo.git("branch", "-q", "-D", "temp")
    expect(audit(capsys, repo.path), *expected, ev(other, "other.txt", c5, 5, in_head=True))


@pytest.mark.parametrize(
    "garbage",
    [
        b"garbage \x00\xff not json",
        b"",
        b'{"magic": "' + history_cache.MAGIC.encode() + b'", "sha256": "00"}\n{}',
    ],
    ids=["binary", "empty", "bad-checksum"],
)
def test_corrupt_cache_file_is_ignored_and_rebuilt(
    capsys: pytest.CaptureFixture[str],
    repo: GitRepo,
    new_secret: Callable[[], str],
    garbage: bytes,
) -> None:
    expected, _ = build_two_leaks(repo, new_secret)
    expect(audit(capsys, repo.path), *expected)
    cache = repo.path / ".git" / CACHE
    cache.write_bytes(garbage)
    result = audit(capsys, repo.path)
    expect(result, *expected)
    assert "incremental" not in result.notes()
    header = json.loads(cache.read_bytes().split(b"\n", 1)[0])
    assert header["magic"] == history_cache.MAGIC
    again = audit(capsys, repo.path)
    expect(again, *expected)


def rewrite_cache(path: Path, change: Callable[[dict[str, Any]], None]) -> None:
    """Edit the cache body and recompute its checksum (a well-formed but wrong cache)."""
    _, text = path.read_bytes().split(b"\n", 1)
    body = json.loads(text)
    change(body)
    text = json.dumps(body, separators=(",", ":")).encode()
    header = json.dumps({"magic": history_cache.MAGIC, "sha256": hashlib.sha256(text).hexdigest()})
    path.write_bytes(header.encode() + b"\n" + text)


def test_well_formed_cache_with_bad_entries_is_rebuilt(
    capsys: pytest.CaptureFixture[str], repo: GitRepo, new_secret: Callable[[], str]
) -> None:
    expected, _ = build_two_leaks(repo, new_secret)
    expect(audit(capsys, repo.path), *expected)

    def damage(body: dict[str, Any]) -> None:
        for sha in body["blob_findings"]:
            body["blob_findings"][sha] = [["github.pat"]]

    rewrite_cache(repo.path / ".git" / CACHE, damage)
    expect(audit(capsys, repo.path), *expected)


def test_no_cache_neither_reads_nor_writes(
    capsys: pytest.CaptureFixture[str], repo: GitRepo, new_secret: Callable[[], str]
) -> None:
    expected, _ = build_two_leaks(repo, new_secret)
    expect(audit(capsys, repo.path, "--no-cache"), *expected)
    assert not (repo.path / ".git" / "keyguard").exists()
    expect(audit(capsys, repo.path), *expected)
    cache = repo.path / ".git" / CACHE
    before = cache.read_bytes()

    def poison(body: dict[str, Any]) -> None:
        for event in body["events"]:
            event[4] = "poisoned.txt"

    rewrite_cache(cache, poison)
    poisoned = cache.read_bytes()
    repo.write("more.txt", "nothing\n")
    commit(repo, "four", 4)
    expect(audit(capsys, repo.path, "--no-cache"), *expected)
    assert cache.read_bytes() == poisoned != before


def test_parallel_jobs_match_serial(
    capsys: pytest.CaptureFixture[str], repo: GitRepo, new_secret: Callable[[], str]
) -> None:
    want = []
    for n in range(1, 7):
        secret = new_secret()
        repo.write(f"d{n}/x.txt", f"{'pad ' * n}\n{secret}\n")
        want.append(ev(secret, f"d{n}/x.txt", commit(repo, f"c{n}", n), n, in_head=True))
    code, out, _ = run_cli(
        capsys,
        "history",
        str(repo.path),
        "--format",
        "json",
        "--jobs",
        "2",
        "--no-cache",
        *EVENTS_ONLY,
    )
    result = Result(code, json.loads(out), out, "")
    expect(result, *want)


# --- formats and redaction --------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["text", "json", "jsonl"])
def test_formats_and_redaction(
    capsys: pytest.CaptureFixture[str],
    repo: GitRepo,
    new_secret: Callable[[], str],
    fmt: str,
    tmp_path: Path,
) -> None:
    expected, _ = build_two_leaks(repo, new_secret)
    secrets = [
        (repo.path / "keep.txt").read_text().strip(),
        repo.git("show", "HEAD~1:gone.txt").strip(),
    ]
    args = ["history", str(repo.path), "--format", fmt, "--jobs", "1", *EVENTS_ONLY]
    code, out, err = run_cli(capsys, *args)
    assert code == 1
    for secret in secrets:
        assert secret not in out and secret not in err
        assert secret[:4] + "…(40)" in out
    if fmt == "jsonl":
        rows = [json.loads(line) for line in out.splitlines()]
        assert sorted(
            (
                r["secret_hash"],
                r["path"],
                r["commit"],
                r["author"],
                r["date"],
                r["in_head"],
                r["first_seen"],
            )
            for r in rows
        ) == sorted(expected)
        assert all("secret" not in r for r in rows)
    elif fmt == "text":
        assert "2 findings (2 secrets)" in out
    code, out, _ = run_cli(capsys, *args, "--show-secrets")
    assert code == 1
    assert all(secret in out for secret in secrets)
    report = tmp_path / f"report.{fmt}"
    code, out, err = run_cli(capsys, *args, "--output", str(report))
    assert code == 1 and out == ""
    text = report.read_text(encoding="utf-8")
    assert all(secret not in text and secret[:4] + "…(40)" in text for secret in secrets)


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(
            b"caf\xe9.env",
            id="latin1",
        ),
        pytest.param(
            b"line\nbreak.env",
            id="newline",
        ),
        pytest.param(b"tab\there.env", id="tab"),
    ],
)
def test_clean_merge_of_an_odd_path_is_the_branch_commits(
    capsys: pytest.CaptureFixture[str], repo: GitRepo, new_secret: Callable[[], str], name: bytes
) -> None:
    secret = new_secret()
    repo.write("a.txt", "base\n")
    commit(repo, "base", 1)
    repo.git("checkout", "-q", "-b", "feature")
    with open(os.fsencode(repo.path) + b"/" + name, "wb") as handle:
        handle.write(f"T={secret}\n".encode())
    c2 = commit(repo, "odd name", 2)
    repo.git("checkout", "-q", "main")
    repo.write("b.txt", "main\n")
    commit(repo, "main", 3)
    git_on(repo, 4, "merge", "-q", "--no-ff", "-m", "merge", "feature")
    shown = name.decode("utf-8", "backslashreplace")
    expect(audit(capsys, repo.path), ev(secret, shown, c2, 2, in_head=True))


def test_notes_are_audited(
    capsys: pytest.CaptureFixture[str], repo: GitRepo, new_secret: Callable[[], str]
) -> None:
    secret = new_secret()
    repo.write("a.txt", "base\n")
    c1 = commit(repo, "base", 1)
    git_on(repo, 2, "notes", "add", "-m", f"deploy with {secret}", c1)
    notes = rev(repo, "refs/notes/commits")
    expect(audit(capsys, repo.path), ev(secret, c1, notes, 2, in_head=False))


def test_other_worktree_head_with_the_cache(
    capsys: pytest.CaptureFixture[str],
    repo: GitRepo,
    tmp_path: Path,
    new_secret: Callable[[], str],
) -> None:
    first, second = new_secret(), new_secret()
    repo.write("a.txt", "base\n")
    commit(repo, "base", 1)
    repo.git("worktree", "add", "-q", "--detach", str(tmp_path / "wt"))
    wt = GitRepo(tmp_path / "wt", tmp_path / "home")
    wt.write("one.txt", f"{first}\n")
    c2 = commit(wt, "detached one", 2)
    want = [ev(first, "one.txt", c2, 2, in_head=False)]
    expect(audit(capsys, repo.path, "--no-cache"), *want)
    expect(audit(capsys, repo.path), *want)
    wt.write("two.txt", f"{second}\n")
    c3 = commit(wt, "detached two", 3)
    want.append(ev(second, "two.txt", c3, 3, in_head=False))
    expect(audit(capsys, repo.path, "--no-cache"), *want)
    expect(audit(capsys, repo.path), *want)


def test_sha256_repository(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, new_secret: Callable[[], str]
) -> None:
    """Object ids of SHA-256 length: listed, scanned, attributed and cached like SHA-1 ones."""
    path = tmp_path / "sha256"
    subprocess.run(
        ["git", "init", "-q", "--object-format=sha256", "-b", "main", str(path)], check=True
    )
    home = tmp_path / "home256"
    home.mkdir()
    repo = GitRepo(path, home)
    secret = new_secret()
    repo.write("a.txt", "clean\n")
    commit(repo, "one", 1)
    repo.write("deploy.env", f"GITHUB_TOKEN={secret}\n")
    c2 = commit(repo, "two", 2)
    assert len(c2) == 64
    found = ev(secret, "deploy.env", c2, 2, in_head=True)
    expect(audit(capsys, repo.path), found)
    expect(audit(capsys, repo.path), found)  # again from the cache
    expect(audit(capsys, repo.path, "--range", "main~1..main", "--no-cache"), found)


@pytest.mark.parametrize("fmt", ["json", "text", "html", "sarif", "github"])
def test_a_secret_in_a_commit_subject_or_author_never_reaches_a_report_or_the_cache(
    capsys: pytest.CaptureFixture[str], repo: GitRepo, new_secret: Callable[[], str], fmt: str
) -> None:
    in_subject, in_file, in_author = new_secret(), new_secret(), new_secret()
    repo.write("app.py", f'TOKEN = "{in_file}"\n')
    commit(repo, f"wire the CI token {in_subject} in", 1, author=f"bot {in_author}")
    code, out, err = run_cli(capsys, "history", str(repo.path), "--format", fmt, "--jobs", "1")
    assert code == 1, err
    for value in (in_subject, in_file, in_author):
        assert value not in out and value not in err
    if fmt == "json":
        secrets = [f for f in json.loads(out)["findings"] if f["category"] == "secret"]
        # the subject's token is a leak of its own, in the commit message (history.messages)
        assert sorted((f["path"], f["line"]) for f in secrets) == [
            ("<commit message>", 1),
            ("app.py", 1),
        ]
        for finding in secrets:
            assert finding["summary"] == f"wire the CI token {in_subject[:4]}…(40) in"
            assert finding["author"] == f"bot {in_author[:4]}…(40)"
    cache_file = repo.path / ".git" / CACHE
    assert cache_file.exists()
    stored = cache_file.read_text(encoding="utf-8")
    assert all(value not in stored for value in (in_subject, in_file, in_author))
    # and the cached audit reports the same redacted text
    code, again, _ = run_cli(capsys, "history", str(repo.path), "--format", fmt, "--jobs", "1")
    assert code == 1 and all(v not in again for v in (in_subject, in_author))
