"""`keyguard scan` on real directories and git work trees: what is read, skipped and reported."""

from __future__ import annotations

import json
import os
import random
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from keyguard.cli import main
from keyguard.driver import SkipPolicy
from keyguard.examples import generate_secret
from keyguard.signatures import load_builtin
from keyguard.sources.worktree import walk

RULES = {r.id: r for r in load_builtin()}
needs_symlinks = pytest.mark.skipif(sys.platform == "win32", reason="symlinks need privileges")


def token(seed: object = None) -> str:
    return generate_secret(RULES["github.pat"], random.Random(seed))


def scan_json(
    capsys: pytest.CaptureFixture[str], *args: str, expect: int | None = None
) -> dict[str, Any]:
    code = main(["scan", "-f", "json", "--no-config", *args])
    out, err = capsys.readouterr()
    document: dict[str, Any] = json.loads(out)
    if expect is not None:
        assert code == expect, err
    return document


def places(document: dict[str, Any]) -> list[tuple[str, int, int]]:
    return [(f["path"], f["line"], f["column"]) for f in document["findings"]]


def paths(document: dict[str, Any]) -> set[str]:
    return {f["path"] for f in document["findings"]}


# --- git work trees --------------------------------------------------------------------------


def test_gitignore_is_honoured_and_all_files_overrides_it(
    capsys: pytest.CaptureFixture[str], git_repo: Callable[..., Any]
) -> None:
    repo = git_repo()
    repo.write(".gitignore", "ignored/\n*.log\n")
    repo.write("tracked.env", f"GITHUB_TOKEN={token()}\n")
    repo.commit("initial")
    repo.write("untracked.env", f"GITHUB_TOKEN={token()}\n")  # not ignored: scanned
    repo.write("ignored/deep/cache.env", f"GITHUB_TOKEN={token()}\n")
    repo.write("debug.log", f"GITHUB_TOKEN={token()}\n")
    repo.write(".git/keyguard-test", f"GITHUB_TOKEN={token()}\n")  # never scanned

    document = scan_json(capsys, str(repo.path), expect=1)
    assert paths(document) == {"tracked.env", "untracked.env"}
    # .gitignore, tracked.env, untracked.env, and .git/config (remote URLs may hold a password)
    assert document["scan"]["files"] == 4

    document = scan_json(capsys, "--all-files", str(repo.path), expect=1)
    assert paths(document) == {
        "tracked.env",
        "untracked.env",
        "ignored/deep/cache.env",
        "debug.log",
    }


def test_subdirectory_of_a_work_tree_uses_the_repository_ignores(
    capsys: pytest.CaptureFixture[str], git_repo: Callable[..., Any]
) -> None:
    repo = git_repo()
    repo.write(".gitignore", "app/local.env\n")
    repo.write("app/config.env", f"GITHUB_TOKEN={token()}\n")
    repo.write("app/local.env", f"GITHUB_TOKEN={token()}\n")
    repo.write("other/config.env", f"GITHUB_TOKEN={token()}\n")
    document = scan_json(capsys, str(repo.path / "app"), expect=1)
    assert places(document) == [("config.env", 1, 14)]


def test_deleted_tracked_file_is_not_an_error(
    capsys: pytest.CaptureFixture[str], git_repo: Callable[..., Any]
) -> None:
    repo = git_repo()
    repo.write("gone.txt", "hello\n")
    repo.write("kept.txt", "hello\n")
    repo.commit("two files")
    (repo.path / "gone.txt").unlink()
    document = scan_json(capsys, str(repo.path), expect=0)
    assert document["scan"]["files"] == 2  # kept.txt and .git/config
    assert document["scan"]["complete"] is True


# --- symlinks, binary and large files --------------------------------------------------------


@needs_symlinks
@pytest.mark.parametrize("in_git", [False, True], ids=["plain-dir", "git-work-tree"])
def test_symlinks_out_of_the_root_are_never_followed(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    git_repo: Callable[..., Any],
    in_git: bool,
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.env").write_text(f"GITHUB_TOKEN={token()}\n", encoding="utf-8")
    if in_git:
        root = git_repo().path
    else:
        root = tmp_path / "root"
        root.mkdir()
    (root / "plain.txt").write_text("nothing\n", encoding="utf-8")
    (root / "link.env").symlink_to(outside / "secret.env")
    (root / "linkdir").symlink_to(outside, target_is_directory=True)

    for extra in ([], ["--all-files"]):
        document = scan_json(capsys, *extra, str(root), expect=0)
        assert document["findings"] == []
        assert document["scan"]["skipped"] == {"symlink": 2}
        assert document["scan"]["files"] == (2 if in_git else 1)  # and .git/config

    code = main(["scan", "--no-config", str(root)])
    out = capsys.readouterr().out
    assert code == 0
    assert "skipped: 2 symlink" in out


def test_binary_files_are_skipped_and_counted(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "image.bin").write_bytes(b"\x89PNG\0\0" + f"GITHUB_TOKEN={token()}".encode())
    (tmp_path / "notes.txt").write_text("hello\n", encoding="utf-8")
    document = scan_json(capsys, str(tmp_path), expect=0)
    assert document["scan"]["skipped"] == {"binary": 1}
    assert document["scan"]["files"] == 1

    code = main(["scan", "--no-config", str(tmp_path)])
    assert code == 0
    assert "skipped: 1 binary" in capsys.readouterr().out


def test_files_above_the_default_cap_are_skipped(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    cap = 10 * 1024 * 1024

    def write(name: str, size: int) -> None:
        head = f"GITHUB_TOKEN={token()}\n".encode()
        filler = b"filler\n" * (size // 7 + 1)
        (tmp_path / name).write_bytes((head + filler)[:size])

    write("big.env", cap + 1)
    write("at-cap.env", cap)
    document = scan_json(capsys, str(tmp_path), expect=1)
    assert document["scan"]["skipped"] == {"too large": 1}
    assert paths(document) == {"at-cap.env"}


def test_max_file_size_option_and_config(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    root = tmp_path / "root"
    root.mkdir()
    small = f"GITHUB_TOKEN={token()}\n"
    (root / "small.env").write_text(small, encoding="utf-8")
    (root / "exactly-1k.env").write_text(small.ljust(1023) + "\n", encoding="utf-8")
    (root / "large.env").write_text(small.ljust(2047) + "\n", encoding="utf-8")

    document = scan_json(capsys, "--max-file-size", "1KB", str(root), expect=1)
    assert paths(document) == {"small.env", "exactly-1k.env"}
    assert document["scan"]["skipped"] == {"too large": 1}

    # The same cap from the configuration file, and the option overriding it.
    (root / ".keyguard.toml").write_text('max_file_size = "100B"\n', encoding="utf-8")
    code = main(["scan", "-f", "json", str(root)])
    document = json.loads(capsys.readouterr().out)
    assert code == 1
    assert paths(document) == {"small.env"}
    assert document["scan"]["skipped"] == {"too large": 2}

    code = main(["scan", "-f", "json", "--max-file-size", "4kb", str(root)])
    document = json.loads(capsys.readouterr().out)
    assert paths(document) == {"small.env", "exactly-1k.env", "large.env"}


# --- decoding, positions, paths --------------------------------------------------------------


def test_invalid_utf8_and_crlf_positions(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    first, second = token(1), token(2)
    data = (
        b"header\r\n"
        + "na\u00efve \u20ac\U0001f600 = ".encode()  # 2-, 3- and 4-byte characters before it
        + first.encode()
        + b"\r\n\xff\xfe\xc3 broken "
        + second.encode()
        + b"\r\n"
    )
    (tmp_path / "mixed.txt").write_bytes(data)
    document = scan_json(capsys, str(tmp_path), expect=1)
    found = {(f["line"], f["column"], f["end_line"], f["end_column"]) for f in document["findings"]}
    # line 2: "naïve €😀 = " is 11 characters; line 3: three undecodable bytes, " broken " is 8.
    assert found == {(2, 12, 2, 52), (3, 12, 3, 52)}


def test_undecodable_file_names_are_reported_safely(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    if sys.platform == "darwin":
        pytest.skip("the file system rejects names that are not UTF-8")
    name = os.fsencode(tmp_path) + b"/bad\xffname.env"
    with open(name, "w", encoding="utf-8") as handle:
        handle.write(f"GITHUB_TOKEN={token()}\n")
    report = tmp_path / "report.json"
    code = main(["scan", "-f", "json", "-o", str(report), str(tmp_path)])
    capsys.readouterr()
    assert code == 1
    (finding,) = json.loads(report.read_text(encoding="utf-8"))["findings"]
    assert finding["path"] == "bad\ufffdname.env"

    code = main(["scan", str(tmp_path)])
    assert code == 1
    assert "bad\ufffdname.env:1:14" in capsys.readouterr().out


def test_empty_directory(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    document = scan_json(capsys, str(empty), expect=0)
    assert document["findings"] == []
    assert document["scan"]["files"] == 0
    assert document["scan"]["complete"] is True


def test_empty_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "empty.txt").write_bytes(b"")
    document = scan_json(capsys, str(tmp_path), expect=0)
    assert document["scan"]["files"] == 1
    assert document["scan"]["bytes"] == 0


def test_nonexistent_path_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code = main(["scan", str(tmp_path / "nowhere")])
    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    assert "nowhere: No such file or directory" in err


def test_one_missing_path_among_several_makes_the_scan_incomplete(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("real").mkdir()
    Path("real/a.env").write_text(f"GITHUB_TOKEN={token()}\n", encoding="utf-8")
    document = scan_json(capsys, "real", "nowhere", expect=3)
    assert paths(document) == {"real/a.env"}
    assert document["scan"]["errors"] == ["nowhere: No such file or directory"]


def test_paths_are_relative_to_the_root_with_forward_slashes(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "root"
    (root / "a" / "b").mkdir(parents=True)
    (root / "a" / "b" / "deep.env").write_text(f"GITHUB_TOKEN={token()}\n", encoding="utf-8")
    (root / "top.env").write_text(f"GITHUB_TOKEN={token()}\n", encoding="utf-8")
    other = tmp_path / "other"
    other.mkdir()
    (other / "x.env").write_text(f"GITHUB_TOKEN={token()}\n", encoding="utf-8")

    assert paths(scan_json(capsys, str(root))) == {"a/b/deep.env", "top.env"}
    assert paths(scan_json(capsys, str(root / "a") + os.sep)) == {"b/deep.env"}

    monkeypatch.chdir(tmp_path)
    # Several roots: each path is prefixed by its root, as typed, without "./".
    assert paths(scan_json(capsys, "./root/a", "other")) == {"root/a/b/deep.env", "other/x.env"}
    # A single file is reported by the path it was named with.
    assert paths(scan_json(capsys, "./root/top.env")) == {"root/top.env"}
    monkeypatch.chdir(root)
    assert paths(scan_json(capsys, ".")) == {"a/b/deep.env", "top.env"}


def test_walk_lists_files_for_the_engine(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "one.txt").write_text("1", encoding="utf-8")
    (tmp_path / "two.txt").write_text("22", encoding="utf-8")
    listing = walk([tmp_path], all_files=False)
    found = sorted((blob.path, blob.size) for blob in listing.blobs)
    assert found == [("d/one.txt", 1), ("two.txt", 2)]
    assert listing.skipped == []
    assert listing.errors == []
    # The size cap is the driver's skip policy, the same for every source: named, not read.
    policy = SkipPolicy(max_size=1)
    judged = sorted((blob.path or "", policy.before_read(blob) or "") for blob in listing.blobs)
    assert judged == [("d/one.txt", ""), ("two.txt", "too large")]


def test_a_root_named_on_the_command_line_may_be_a_link(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    real = tmp_path / "real"
    real.mkdir()
    (real / "app.env").write_text(f"GITHUB_TOKEN={token('link-root')}\n")
    (tmp_path / "dir-link").symlink_to(real)
    (tmp_path / "file-link").symlink_to(real / "app.env")
    by_dir = scan_json(capsys, str(tmp_path / "dir-link"), "--all-files", expect=1)
    assert paths(by_dir) == {"app.env"}
    by_file = scan_json(capsys, str(tmp_path / "file-link"), expect=1)
    assert len(by_file["findings"]) == 1
