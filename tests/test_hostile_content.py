"""`keyguard scan` on hostile work trees: huge files and lines, a hundred thousand files, deep
trees, link loops, FIFOs and sockets, unreadable files, odd names, NULs, UTF-16 and broken UTF-8.

Every test drives the real CLI; the ones that measure memory or could block run it in a
subprocess (peak memory from RUSAGE_CHILDREN of a fresh wrapper process, a timeout so a
regression fails instead of hanging).
"""

from __future__ import annotations

import codecs
import ctypes
import json
import os
import random
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from keyguard.cli import main
from keyguard.engine import AFTER, BEFORE, MAX_DECODE
from keyguard.examples import generate_secret
from keyguard.model import Blob
from keyguard.signatures import load_builtin
from keyguard.sources.worktree import FileStore
from keyguard.textcodec import SNIFF

RULE = next(r for r in load_builtin() if r.id == "github.pat")
posix_only = pytest.mark.skipif(sys.platform == "win32", reason="POSIX file types and modes")
MB = 1024 * 1024


def token(seed: str) -> str:
    return generate_secret(RULE, random.Random(seed))


def scan_json(
    capsys: pytest.CaptureFixture[str], *args: str, expect: int
) -> tuple[dict[str, Any], str]:
    code = main(["scan", "-f", "json", "--no-config", *args])
    out, err = capsys.readouterr()
    assert code == expect, err
    document: dict[str, Any] = json.loads(out)
    return document, err


def places(document: dict[str, Any]) -> set[tuple[str, int, int]]:
    return {
        (f["path"], f["line"], f["column"])
        for f in document["findings"]
        if f["rule_id"] == "github.pat"
    }


def skipped(document: dict[str, Any]) -> set[tuple[str, str]]:
    return {(s["name"], s["reason"]) for s in document["scan"]["skipped_items"]}


# A fresh interpreter runs the CLI as its only child, so RUSAGE_CHILDREN is that scan's peak.
_MEASURE = """
import json, resource, subprocess, sys, time
started = time.monotonic()
done = subprocess.run(sys.argv[1:], capture_output=True, timeout=600)
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({
    "code": done.returncode,
    "out": done.stdout.decode("utf-8", "replace"),
    "err": done.stderr.decode("utf-8", "replace"),
    "peak": peak * (1 if sys.platform == "darwin" else 1024),
    "seconds": time.monotonic() - started,
}))
"""


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str
    peak_mb: float
    seconds: float

    def json(self) -> dict[str, Any]:
        document: dict[str, Any] = json.loads(self.out)
        return document


def run_measured(cwd: Path, *args: str) -> Run:
    command = [sys.executable, "-m", "keyguard", *args]
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, *command],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
        timeout=660,
    )
    result = json.loads(done.stdout)
    return Run(result["code"], result["out"], result["err"], result["peak"] / MB, result["seconds"])


# --- 1. files and blobs over the size cap ----------------------------------------------------


def sparse(path: Path, size: int, head: bytes) -> None:
    with path.open("wb") as handle:
        handle.write(head)
        handle.truncate(size)  # a hole: 2 GB of zeros that take no disk


def test_a_2gb_file_is_skipped_unread_and_a_named_one_is_reported(tmp_path: Path) -> None:
    sparse(tmp_path / "big.bin", 2 * 1024**3, f"GITHUB_TOKEN={token('big')}\n".encode())
    (tmp_path / "small.txt").write_text("nothing here\n", encoding="utf-8")

    run = run_measured(tmp_path, "scan", "--no-config", "-f", "json", ".")
    assert run.code == 0, run.err
    document = run.json()
    assert skipped(document) == {("big.bin", "too large")}
    assert document["scan"]["complete"] is True
    assert document["scan"]["files"] == 1
    assert run.peak_mb < 300  # skipped by its listed size: not one byte of it was read
    assert "not scanned" not in run.err  # inside a directory it is policy, counted, not noted

    # Named on the command line, it is not silently "clean": stderr says what and why.
    run = run_measured(tmp_path, "scan", "--no-config", "big.bin")
    assert run.code == 0
    assert "skipped: 1 too large" in run.out
    assert (
        "keyguard: note: big.bin not scanned: over the 10 MB size cap (use --max-file-size)"
        in run.err
    )
    assert run.peak_mb < 300


def test_a_named_binary_file_is_reported_on_stderr(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("blob.dat").write_bytes(b"\x7fELF\x02\x01\x01\0\0\0\0\0" + token("elf").encode())
    document, err = scan_json(capsys, "blob.dat", expect=0)
    assert skipped(document) == {("blob.dat", "binary")}
    assert "keyguard: note: blob.dat not scanned: binary content" in err

    code = main(["scan", "--no-config", "--max-file-size", "1KB", "./blob.dat"])
    out, err = capsys.readouterr()
    assert code == 0
    assert "skipped: 1 binary" in out
    assert "blob.dat not scanned: binary content" in err


def test_a_git_blob_over_the_cap_is_skipped_unread(
    git_repo: Callable[..., Any], tmp_path: Path
) -> None:
    # A 2 GB blob takes git ~20 s to hash; one just over the default 10 MB cap takes a moment
    # and goes down the same path (its size from `git cat-file --batch-check`, never read).
    repo = git_repo()
    repo.write("big.env", f"GITHUB_TOKEN={token('blob')}\n".encode().ljust(12 * MB, b"a"))
    repo.write("small.txt", "hello\n")
    repo.commit("a big file")
    big = repo.git("rev-parse", "HEAD:big.env").strip()

    run = run_measured(
        repo.path, "history", "--no-config", "--no-cache", "-f", "json", str(repo.path)
    )
    assert run.code == 0, run.err
    document = run.json()
    assert skipped(document) == {(f"blob {big}", "too large")}
    assert document["scan"]["complete"] is True
    assert document["findings"] == []
    assert run.peak_mb < 300

    # A cap high enough lets it through: the skip was the cap, nothing else.
    run = run_measured(
        repo.path, "history", "--no-config", "--no-cache", "--max-file-size", "16MB", "-f", "json"
    )
    assert run.code == 1, run.err
    assert {f["path"] for f in run.json()["findings"]} == {"big.env"}


# --- 2. huge lines and internal boundaries ---------------------------------------------------


def place_tokens(text: bytearray, offsets: Sequence[int], seed: str) -> list[int]:
    """Overwrite `text` with a token (between spaces) at each offset; the offsets used."""
    for n, offset in enumerate(offsets):
        value = f" {token(f'{seed}-{n}')} ".encode()
        text[offset - 1 : offset - 1 + len(value)] = value
    return list(offsets)


def test_a_50mb_single_line_is_scanned_in_time_and_memory(tmp_path: Path) -> None:
    size = 50 * MB
    line = bytearray(b"abcdefgh" * (size // 8))
    # The middle, the end, and across the larger powers of two a reader might chunk at.
    offsets = place_tokens(line, [size // 2, 1 << 24, (1 << 25) - 20, size - 100], "line")
    (tmp_path / "line.txt").write_bytes(bytes(line))

    run = run_measured(
        tmp_path, "scan", "--no-config", "--max-file-size", "64MB", "-f", "json", "line.txt"
    )
    assert run.code == 1, run.err
    assert places(run.json()) == {("line.txt", 1, offset + 1) for offset in offsets}
    assert run.seconds < 60
    # The line is in memory a few times over (the read, the matcher's view of it): bounded.
    assert run.peak_mb < 400

    # At the default cap the same file is skipped by its size, unread, and the user is told.
    run = run_measured(tmp_path, "scan", "--no-config", "line.txt")
    assert run.code == 0
    assert "line.txt not scanned: over the 10 MB size cap" in run.err


# Sizes the code works in, from the modules that define them: the engine's windows around a
# keyword hit, its 4 KB file head and line context, the text sniff, read buffers and pipes,
# the longest encoded run it decodes. A token across any of them must still be found.
BOUNDARIES = sorted({BEFORE, AFTER, 4096, SNIFF, 1 << 16, MAX_DECODE})


@pytest.mark.parametrize("layout", ["one-line", "short-lines"])
@pytest.mark.parametrize("encoding", ["utf-8", "utf-16-le"])
def test_tokens_across_internal_boundaries_are_found(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, layout: str, encoding: str
) -> None:
    width = 2 if encoding == "utf-16-le" else 1
    bom = codecs.BOM_UTF16_LE if encoding == "utf-16-le" else b""
    chars = (max(BOUNDARIES) + 4096) // width
    pattern = "abcdefg " if layout == "one-line" else "abcdefg" * 9 + "\n"
    text = bytearray((pattern * (chars // len(pattern) + 1))[:chars].encode("ascii"))
    # Each token's bytes start 20 characters before the boundary, so the boundary cuts it.
    offsets = [(b - len(bom)) // width - 20 for b in BOUNDARIES]
    place_tokens(text, offsets, f"{layout}-{encoding}")
    decoded = text.decode("ascii")
    (tmp_path / "cut.txt").write_bytes(bom + decoded.encode(encoding))

    document, _ = scan_json(capsys, "--max-file-size", "8MB", str(tmp_path), expect=1)
    expected = {
        ("cut.txt", decoded.count("\n", 0, o) + 1, o - (decoded.rfind("\n", 0, o) + 1) + 1)
        for o in offsets
    }
    assert places(document) == expected


# --- 3. many files, deep trees, links, special files, unreadable files ------------------------


def test_a_hundred_thousand_tiny_files(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    root = tmp_path / "many"
    root.mkdir()
    for d in range(100):
        folder = root / f"d{d:02}"
        folder.mkdir()
        first = folder / "f000.txt"
        first.write_bytes(b"x = 1\n")
        # Hard links: one system call a file instead of three (open, write, close), so the
        # tree takes a second to make; to the scan each is a file of its own to list and read.
        for i in range(1, 1000):
            os.link(first, folder / f"f{i:03}.txt")
    (root / "d42" / "f007.txt").unlink()  # a file of its own, not a link to its neighbours
    (root / "d42" / "f007.txt").write_text(f"GITHUB_TOKEN={token('many')}\n", encoding="utf-8")

    document, _ = scan_json(capsys, str(root), expect=1)
    assert document["scan"]["files"] == 100_000
    assert document["scan"]["complete"] is True
    assert places(document) == {("d42/f007.txt", 1, 14)}


def make_deep(top: Path, depth: int, secrets: dict[int, str]) -> None:
    """`top/d/d/.../d` `depth` levels down (by directory descriptors: deeper than PATH_MAX is
    fine), with `s.env` holding the given secret at the given levels."""
    fd = os.open(top, os.O_RDONLY)
    try:
        for level in range(1, depth + 1):
            os.mkdir("d", dir_fd=fd)
            inner = os.open("d", os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = inner
            if level in secrets:
                out = os.open("s.env", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)
                os.write(out, f"GITHUB_TOKEN={secrets[level]}\n".encode())
                os.close(out)
    finally:
        os.close(fd)


def remove_deep(top: Path) -> None:
    """Remove what make_deep made, without recursion (shutil.rmtree recurses in Python 3.11,
    and pytest's clean-up would fail on a tree this deep), one descriptor open at a time."""
    fd, depth = os.open(top, os.O_RDONLY), 0
    while "d" in os.listdir(fd):
        inner = os.open("d", os.O_RDONLY, dir_fd=fd)
        os.close(fd)
        fd, depth = inner, depth + 1
    while True:
        for name in os.listdir(fd):  # only files are left at this level
            os.unlink(name, dir_fd=fd)
        if depth == 0:
            break
        parent = os.open("..", os.O_RDONLY, dir_fd=fd)
        os.close(fd)
        fd, depth = parent, depth - 1
        os.rmdir("d", dir_fd=fd)
    os.close(fd)


@pytest.fixture
def deep_root(tmp_path: Path) -> Iterator[Path]:
    root = tmp_path / "deep"
    root.mkdir()
    yield root
    remove_deep(root)


@posix_only
def test_a_tree_deeper_than_the_recursion_limit(
    capsys: pytest.CaptureFixture[str], deep_root: Path
) -> None:
    depth = 1500  # os.walk recursed: a RecursionError (exit 4) from depth ~1000
    make_deep(deep_root, depth, {depth: token("deep")})
    document, _ = scan_json(capsys, str(deep_root), expect=1)
    assert places(document) == {("d/" * depth + "s.env", 1, 14)}
    assert document["scan"]["complete"] is True


@posix_only
def test_a_tree_deeper_than_path_max_is_incomplete_not_a_crash(
    capsys: pytest.CaptureFixture[str], deep_root: Path
) -> None:
    limit = os.pathconf(deep_root, "PC_PATH_MAX")
    depth = (limit - len(str(deep_root))) // 2 + 20  # "d/" per level: past the limit
    make_deep(deep_root, depth, {10: token("shallow"), depth: token("too-deep")})
    document, _ = scan_json(capsys, str(deep_root), expect=3)
    assert places(document) == {("d/" * 10 + "s.env", 1, 14)}  # what could be read, was
    (error,) = document["scan"]["errors"]
    assert error.endswith("File name too long")


@posix_only
@pytest.mark.parametrize("in_git", [False, True], ids=["plain-dir", "git-work-tree"])
def test_symlink_loops_and_links_out_of_the_root_are_named_not_followed(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    git_repo: Callable[..., Any],
    in_git: bool,
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.env").write_text(f"GITHUB_TOKEN={token('outside')}\n", encoding="utf-8")
    if in_git:
        root = git_repo().path
    else:
        root = tmp_path / "root"
        root.mkdir()
    (root / "sub").mkdir()
    (root / "sub" / "app.env").write_text(f"GITHUB_TOKEN={token('inside')}\n", encoding="utf-8")
    (root / "loop-a").symlink_to("loop-b")
    (root / "loop-b").symlink_to("loop-a")
    (root / "self").symlink_to("self")
    (root / "sub" / "up").symlink_to("..", target_is_directory=True)  # a loop through a dir
    (root / "here").symlink_to(".", target_is_directory=True)
    (root / "out.env").symlink_to(outside / "secret.env")
    (root / "out-dir").symlink_to(outside, target_is_directory=True)

    links = {"loop-a", "loop-b", "self", "sub/up", "here", "out.env", "out-dir"}
    for extra in ([], ["--all-files"]):
        document, _ = scan_json(capsys, *extra, str(root), expect=1)
        assert places(document) == {("sub/app.env", 1, 14)}
        assert skipped(document) == {(name, "symlink") for name in links}
        assert document["scan"]["errors"] == []

    # A loop named on the command line cannot be a root: said so, by name.
    code = main(["scan", "--no-config", str(root / "loop-a")])
    assert code == 2
    assert "loop-a: Too many levels of symbolic links" in capsys.readouterr().err


@posix_only
def test_fifos_and_sockets_never_block_and_are_named(tmp_path: Path) -> None:
    root = tmp_path / "t"
    root.mkdir()
    os.mkfifo(root / "fifo")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    # A socket's path is limited to ~100 bytes: bind by a relative name.
    here = os.getcwd()
    os.chdir(root)
    try:
        server.bind("sock")
    finally:
        os.chdir(here)
    (root / "app.env").write_text(f"GITHUB_TOKEN={token('fifo')}\n", encoding="utf-8")
    try:
        run = run_measured(root, "scan", "--no-config", "-f", "json", ".")
        assert run.code == 1, run.err
        document = run.json()
        assert places(document) == {("app.env", 1, 14)}
        assert skipped(document) == {("fifo", "special file"), ("sock", "special file")}

        run = run_measured(root, "scan", "--no-config", "fifo")
        assert run.code == 0
        assert "keyguard: note: fifo not scanned: not a regular file (a FIFO)" in run.err
        run = run_measured(root, "scan", "--no-config", "sock")
        assert "keyguard: note: sock not scanned: not a regular file (a socket)" in run.err
    finally:
        server.close()


@posix_only
def test_a_file_swapped_for_a_fifo_after_listing_is_an_error_not_a_hang(tmp_path: Path) -> None:
    path = tmp_path / "was-a-file"
    path.write_text("hello\n", encoding="utf-8")
    blob = Blob(str(path), "was-a-file", 6)
    path.unlink()
    os.mkfifo(path)  # no writer will ever come: a blocking open() would wait forever
    results: list[tuple[Blob, bytes | None, str]] = []
    reader = threading.Thread(
        target=lambda: results.extend(FileStore(MB).read([blob])), daemon=True
    )
    reader.start()
    reader.join(timeout=30)
    assert not reader.is_alive(), "opening a FIFO blocked"
    ((_, data, problem),) = results
    assert data is None
    assert problem == "was-a-file: no longer a regular file (changed during the scan)"


def _without_dac_override() -> None:
    # Root reads any file whatever its mode (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH). Dropping
    # both from the bounding set before exec makes the scan obey permission bits as any user
    # would. (Running as uid 65534 would be the other honest way, but the interpreter may live
    # under a home directory that user cannot enter.)
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (1, 2):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
        if libc.prctl(24, capability, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


@posix_only
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="capabilities are Linux's")
def test_unreadable_files_and_directories_make_the_scan_incomplete(tmp_path: Path) -> None:
    root = tmp_path / "t"
    (root / "locked").mkdir(parents=True)
    (root / "ok.env").write_text(f"GITHUB_TOKEN={token('ok')}\n", encoding="utf-8")
    (root / "secret.env").write_text(f"GITHUB_TOKEN={token('no')}\n", encoding="utf-8")
    (root / "locked" / "inner.env").write_text("x = 1\n", encoding="utf-8")
    (root / "secret.env").chmod(0)
    (root / "locked").chmod(0)

    def scan(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "keyguard", "scan", "--no-config", *args, "."],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=120,
            preexec_fn=_without_dac_override if os.geteuid() == 0 else None,
        )

    try:
        done = scan("-f", "json")
        assert done.returncode == 3, done.stderr
        document = json.loads(done.stdout)
        assert places(document) == {("ok.env", 1, 14)}  # the rest is scanned
        assert sorted(document["scan"]["errors"]) == [
            "locked: Permission denied",
            "secret.env: Permission denied",
        ]
        assert document["scan"]["complete"] is False
        done = scan()
        assert done.returncode == 3
        assert "INCOMPLETE: 2 errors" in done.stdout
        assert "secret.env: Permission denied" in done.stdout
    finally:
        (root / "locked").chmod(0o755)
        (root / "secret.env").chmod(0o644)


# --- 4. file names -----------------------------------------------------------------------------


@posix_only
@pytest.mark.parametrize("in_git", [False, True], ids=["plain-dir", "git-work-tree"])
def test_names_with_newlines_bad_utf8_and_leading_dashes(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    git_repo: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
    in_git: bool,
) -> None:
    if sys.platform == "darwin":
        pytest.skip("the file system rejects names that are not UTF-8")
    if in_git:
        root = git_repo().path
    else:
        root = tmp_path / "root"
        root.mkdir()
    names = [b"-rf.py", b"--output.py", b"new\nline.py", b"bad\xffname.py"]
    for n, name in enumerate(names):
        with open(os.fsencode(root) + b"/" + name, "w", encoding="utf-8") as handle:
            handle.write(f"GITHUB_TOKEN={token(f'name-{n}')}\n")
    shown = {"-rf.py", "--output.py", "new\nline.py", "bad\ufffdname.py"}

    document, _ = scan_json(capsys, str(root), expect=1)
    assert places(document) == {(name, 1, 14) for name in shown}

    code = main(["scan", "--no-config", str(root)])
    out = capsys.readouterr().out
    assert code == 1
    assert "new\\x0aline.py:1:14" in out  # a name cannot start a fake line in the output
    assert "bad\ufffdname.py:1:14" in out

    monkeypatch.chdir(root)
    for name in names:
        document, _ = scan_json(capsys, "--", os.fsdecode(name), expect=1)
        shown_name = name.decode("utf-8", "replace")
        assert places(document) == {(shown_name, 1, 14)}
    # Without "--" a leading dash is an option: a usage error, never a silent clean scan.
    assert main(["scan", "--no-config", "--output.py"]) == 2
    capsys.readouterr()


# --- 5. NULs, UTF-16, UTF-32, BOMs, CRLF ------------------------------------------------------


def test_a_few_nuls_do_not_make_clear_text_binary(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    lines = [f"setting_{i} = value {i}" for i in range(5000)]
    lines[3] += "\0"  # a stray NUL, a pasted C string: 3 in the first 8 KB
    lines[40] += "\0\0"
    lines[4000] = f"GITHUB_TOKEN={token('nul')}"
    (tmp_path / "app.conf").write_text("\n".join(lines) + "\n", encoding="utf-8")
    # Binary formats are far above the share of odd bytes that text tolerates: still skipped.
    (tmp_path / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR" + token("png").encode())
    (tmp_path / "data.bin").write_bytes(random.Random(7).randbytes(20000))

    document, _ = scan_json(capsys, str(tmp_path), expect=1)
    assert places(document) == {("app.conf", 4001, 14)}
    assert skipped(document) == {("image.png", "binary"), ("data.bin", "binary")}


TEXT = "header line{nl}naïve € = 1{nl}# ünïcödé 😀 GITHUB_TOKEN={token}{nl}tail{nl}"
TOKEN_COLUMN = len("# ünïcödé 😀 GITHUB_TOKEN=") + 1  # in characters: 😀 is one


@pytest.mark.parametrize("newline", ["\n", "\r\n"], ids=["lf", "crlf"])
@pytest.mark.parametrize(
    ("encoding", "bom"),
    [
        ("utf-8", b""),
        ("utf-8", codecs.BOM_UTF8),
        ("utf-16-le", codecs.BOM_UTF16_LE),
        ("utf-16-be", codecs.BOM_UTF16_BE),
        ("utf-16-le", b""),  # as Windows tools write "Unicode" text
        ("utf-16-be", b""),
        ("utf-32-le", codecs.BOM_UTF32_LE),
        ("utf-32-be", codecs.BOM_UTF32_BE),
    ],
    ids=[
        "utf8",
        "utf8-bom",
        "utf16le-bom",
        "utf16be-bom",
        "utf16le",
        "utf16be",
        "utf32le",
        "utf32be",
    ],
)
def test_unicode_encodings_are_decoded_with_the_right_positions(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, encoding: str, bom: bytes, newline: str
) -> None:
    secret = token(f"{encoding}-{bom!r}")
    text = TEXT.format(nl=newline, token=secret)
    (tmp_path / "notes.txt").write_bytes(bom + text.encode(encoding))
    document, _ = scan_json(capsys, "--show-secrets", str(tmp_path), expect=1)
    (finding,) = [f for f in document["findings"] if f["rule_id"] == "github.pat"]
    assert (finding["path"], finding["line"], finding["column"]) == ("notes.txt", 3, TOKEN_COLUMN)
    assert finding["end_column"] == TOKEN_COLUMN + len(secret)
    assert finding["secret"] == secret
    assert document["scan"]["skipped"] == {}


def test_a_utf8_bom_leaves_first_line_columns_right(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "a.env").write_bytes(codecs.BOM_UTF8 + f"T={token('bom')}\r\n".encode())
    document, _ = scan_json(capsys, str(tmp_path), expect=1)
    assert places(document) == {("a.env", 1, 3)}


# --- 6. broken UTF-8 ----------------------------------------------------------------------------


def test_invalid_utf8_beside_a_token(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    first, second = token("broken-1"), token("broken-2")
    # Starts with the bytes of a UTF-16 BOM, but is broken UTF-8 around ASCII: not UTF-16.
    data = (
        b"\xff\xfe broken \xc3( "  # 2 + 8 + 2 + 1 characters: column 14
        + first.encode()
        + b"\x80\x81\n"
        + random.Random(3).randbytes(4000).replace(b"\0", b"\x80").replace(b"\n", b"\xfe")
        + b"\xed\xa0\x80="  # an encoded surrogate: 3 invalid bytes, then "="
        + second.encode()
        + b"\xf0\x28\x8c\x28\n"
    )
    (tmp_path / "mixed.txt").write_bytes(data)
    document, _ = scan_json(capsys, str(tmp_path), expect=1)
    found = places(document)
    assert ("mixed.txt", 1, 14) in found
    assert {line for _, line, _ in found} == {1, 2}
    assert document["scan"]["skipped"] == {}


@posix_only
def test_a_file_swapped_for_a_link_after_listing_is_not_followed(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere.env"
    target.write_text(f"GITHUB_TOKEN={token('swap')}\n", encoding="utf-8")
    path = tmp_path / "app.env"
    path.write_text("x = 1\n", encoding="utf-8")
    blob = Blob(str(path), "app.env", 6)
    path.unlink()
    path.symlink_to(target)
    ((_, data, problem),) = list(FileStore(MB).read([blob]))
    assert data is None
    assert problem == "app.env: now a symlink (changed during the scan; not followed)"
