"""Output hardening, as a user meets it: report files that are checked before the scan and written
whole or not at all, text that survives any stream encoding, NO_COLOR, control characters from
the repository shown escaped, and non-UTF-8 paths kept byte-exact in JSON."""

from __future__ import annotations

import base64
import errno
import json
import os
import random
import re
import resource
import select
import signal
import stat
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest

from keyguard.cli import main
from keyguard.examples import generate_secret
from keyguard.signatures import load_builtin
from tests.conftest import GitRepo

GITHUB_PAT = next(r for r in load_builtin() if r.id == "github.pat")
SGR = re.compile(r"\x1b\[[0-9;]*m")  # a colour or style code
HOSTILE_NAMES = {
    "erase\x1b[2Kline.env": "erase\\x1b[2Kline.env",
    "new\nline.env": "new\\x0aline.env",
    "carriage\rreturn.env": "carriage\\x0dreturn.env",
    "rtl\u202eevil.env": "rtl\\u202eevil.env",
    "iso\u2066late\u2069.env": "iso\\u2066late\\u2069.env",
    "c1\x9bcsi.env": "c1\\x9bcsi.env",
}
AUTHOR = "Mallory\x1b[31m Red"
NON_UTF8 = b"caf\xe9_\xff.py"


def token(seed: int) -> str:
    return generate_secret(GITHUB_PAT, random.Random(seed))


def keyguard(
    *args: str,
    cwd: Path,
    env: Mapping[str, str] | None = None,
    preexec_fn: Callable[[], None] | None = None,
    stdin: str | None = None,
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "keyguard", *args],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        input=None if stdin is None else stdin.encode(),
        capture_output=True,
        check=False,
        timeout=120,
        preexec_fn=preexec_fn,
    )


def assert_no_raw_controls(text: str) -> None:
    """Every line is printable: no ESC, CR, C1, separator or bidi control got through."""
    for line in text.split("\n"):
        assert line.isprintable(), repr(line)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A directory (not a git repository) with one secret, of a report of a few KB."""
    root = tmp_path / "project"
    root.mkdir()
    (root / "settings.env").write_text(f"GITHUB_TOKEN={token(1)}\n", encoding="utf-8")
    return root


@pytest.fixture
def leaky_repo(git_repo: Callable[..., GitRepo]) -> GitRepo:
    repo = git_repo()
    repo.write("settings.env", f"GITHUB_TOKEN={token(2)}\n")
    repo.commit("settings")
    return repo


# --- --output: checked before the scan ---------------------------------------------------------


def _destinations(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    (tmp_path / "a-file").write_text("x", encoding="utf-8")
    (tmp_path / "a-dir").mkdir()
    return {
        "missing directory": (tmp_path / "missing" / "r.json", "no such directory"),
        "a directory": (tmp_path / "a-dir", "it is a directory"),
        "under a file": (tmp_path / "a-file" / "r.json", "not a directory"),
    }


@pytest.mark.parametrize("case", ["missing directory", "a directory", "under a file"])
@pytest.mark.parametrize("command", ["scan", "history", "staged"])
def test_an_unusable_output_is_exit_2_before_the_scan(
    leaky_repo: GitRepo,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    command: str,
    case: str,
) -> None:
    repo = leaky_repo
    repo.write("staged.env", f"GITHUB_TOKEN={token(3)}\n")
    repo.git("add", "staged.env")
    target, problem = _destinations(tmp_path)[case]
    where = ["--repo", str(repo.path)] if command == "staged" else [str(repo.path)]
    code = main([command, *where, "--no-config", "-f", "json", "-o", str(target)])
    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    # One line that names the path and the problem; no summary line: nothing was scanned.
    assert err.count("\n") == 1
    assert err.startswith(f"keyguard: error: {target}: cannot write report: {problem}")
    assert "finding" not in err


def test_an_unwritable_directory_is_exit_2_before_the_scan(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    locked = tmp_path / "locked"
    if os.geteuid() != 0:
        locked.mkdir(mode=0o500)
        target = locked / "r.json"
    elif Path("/proc/self").is_dir():
        target = Path("/proc/keyguard-report.json")  # procfs refuses new files, even to root
    else:  # pragma: no cover
        pytest.skip("no directory this user cannot write to")
    code = main(["scan", str(project), "--no-config", "-o", str(target)])
    if locked.exists():
        locked.chmod(0o700)  # so that pytest can clean up
    _, err = capsys.readouterr()
    assert code == 2
    assert err.startswith(f"keyguard: error: {target}: cannot write report: ")
    assert str(target.parent) in err and err.count("\n") == 1
    assert "finding" not in err


# --- --output: written whole or not at all ---------------------------------------------------


def _file_size_limit(limit: int) -> Callable[[], None]:
    def apply() -> None:
        # Past the limit a write fails with EFBIG (as on a full disk) instead of killing us.
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


def test_a_failed_write_keeps_the_old_report_and_says_so(project: Path, tmp_path: Path) -> None:
    env = {"HOME": str(tmp_path / "home"), "XDG_CACHE_HOME": str(tmp_path / "cache")}
    out = tmp_path / "reports"
    out.mkdir()
    report = out / "report.json"
    # A first run fills the caches (rules, digest key) and writes a report of a few KB.
    first = keyguard(
        "scan", str(project), "--no-config", "-f", "json", "-o", str(report), cwd=tmp_path, env=env
    )
    assert first.returncode == 1, first.stderr
    size = report.stat().st_size
    assert size > 2000
    report.write_text("the earlier report\n", encoding="utf-8")
    limited = keyguard(
        "scan",
        str(project),
        "--no-config",
        "-f",
        "json",
        "-o",
        str(report),
        cwd=tmp_path,
        env=env,
        preexec_fn=_file_size_limit(size // 2),
    )
    err = limited.stderr.decode()
    assert limited.returncode == 2, err
    assert f"keyguard: error: {report}: cannot write report: {os.strerror(errno.EFBIG)}" in err
    assert "no report was written; the earlier report there is unchanged" in err
    # The findings are not lost silently: the summary still says what the scan found.
    assert "1 finding (1 secret)" in err
    assert "internal error" not in err
    assert report.read_text(encoding="utf-8") == "the earlier report\n"
    assert sorted(p.name for p in out.iterdir()) == ["report.json"]  # no temporary file left


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full")
def test_a_full_device_is_exit_2(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["scan", str(project), "--no-config", "-o", "/dev/full"])
    _, err = capsys.readouterr()
    assert code == 2
    assert f"/dev/full: cannot write report: {os.strerror(errno.ENOSPC)}" in err
    assert "1 finding (1 secret)" in err


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_a_full_disk_behind_stdout_is_exit_2(project: Path, fmt: str) -> None:
    """`keyguard scan > report.json` on a full disk: a clear error, the summary, no traceback."""
    with open("/dev/full", "w") as full:
        done = subprocess.run(
            [sys.executable, "-m", "keyguard", "scan", str(project), "--no-config", "-f", fmt],
            stdout=full,
            stderr=subprocess.PIPE,
            timeout=120,
            check=False,
        )
    err = done.stderr.decode()
    assert done.returncode == 2, err
    assert "cannot write the report to standard output" in err and "Traceback" not in err
    assert "1 finding (1 secret)" in err


def test_a_reader_that_stops_early_is_no_error(tmp_path: Path) -> None:
    """`keyguard scan | head -1`: the pipe closes under the report; keyguard ends quietly."""
    many = tmp_path / "many.env"  # a report far larger than a pipe's buffer
    many.write_text("".join(f"T{i}={token(1000 + i)}\n" for i in range(1500)), encoding="utf-8")
    proc = subprocess.Popen(
        [sys.executable, "-m", "keyguard", "scan", str(many), "--no-config", "-f", "json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.read(1)
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) in (0, 1), err
    assert "Traceback" not in err and "internal error" not in err


@pytest.fixture
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    yield
    os.umask(old)


@pytest.mark.usefixtures("umask_022")
def test_report_modes(project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plain, secret = tmp_path / "plain.json", tmp_path / "secret.json"
    assert main(["scan", str(project), "--no-config", "-f", "json", "-o", str(plain)]) == 1
    assert stat.S_IMODE(plain.stat().st_mode) == 0o644  # the usual umask mode
    secret.write_text("an earlier report, mode 0644\n", encoding="utf-8")
    argv = ["scan", str(project), "--no-config", "-f", "json", "--show-secrets", "-o", str(secret)]
    assert main(argv) == 1
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600  # it holds the values
    assert json.loads(secret.read_text(encoding="utf-8"))["findings"][0]["secret"] == token(1)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plain.json", "project", "secret.json"]
    capsys.readouterr()


# --- any stream encoding -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "env", [{"PYTHONIOENCODING": "ascii"}, {"LC_ALL": "C", "PYTHONUTF8": "0"}], ids=["ascii", "C"]
)
@pytest.mark.parametrize("output_format", ["text", "json"])
def test_non_ascii_output_survives_any_encoding(
    git_repo: Callable[..., GitRepo], env: dict[str, str], output_format: str
) -> None:
    repo = git_repo()
    repo.write("café.py", f"TOKEN = '{token(4)}'\n")  # and the preview has '…'
    repo.commit("café")
    for command in ("scan", "history"):
        done = keyguard(command, ".", "--no-config", "-f", output_format, cwd=repo.path, env=env)
        out, err = done.stdout.decode("utf-8", "replace"), done.stderr.decode("utf-8", "replace")
        assert done.returncode == 1, err
        assert "internal error" not in err
        assert "caf" in out and "(40)" in out
    # stderr too: an error naming a non-ASCII path.
    done = keyguard("scan", ".", "--config", "réglages.toml", cwd=repo.path, env=env)
    assert done.returncode == 2
    assert b"configuration file not found" in done.stderr and b"internal error" not in done.stderr


# --- NO_COLOR -----------------------------------------------------------------------------------


def _under_pty(args: list[str], cwd: Path, env: Mapping[str, str]) -> tuple[int, bytes, bytes]:
    """Run keyguard with stdout and stderr on two pseudo-terminals; what each showed."""
    out_master, out_slave = os.openpty()
    err_master, err_slave = os.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "keyguard", *args],
        cwd=cwd,
        env={**os.environ, "TERM": "xterm-256color", "COLUMNS": "120", **env},
        stdin=subprocess.DEVNULL,
        stdout=out_slave,
        stderr=err_slave,
    )
    os.close(out_slave)
    os.close(err_slave)
    shown = {out_master: b"", err_master: b""}
    open_fds = [out_master, err_master]
    while open_fds:
        ready, _, _ = select.select(open_fds, [], [], 120)
        assert ready, "keyguard hung"
        for fd in ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # EIO: the child closed its end
                chunk = b""
            if chunk:
                shown[fd] += chunk
            else:
                open_fds.remove(fd)
                os.close(fd)
    return proc.wait(timeout=120), shown[out_master], shown[err_master]


@pytest.mark.parametrize("command", ["scan", "history"])
def test_no_color_is_honoured_on_a_terminal(leaky_repo: GitRepo, command: str) -> None:
    env = {k: "" for k in ("FORCE_COLOR", "PY_COLORS", "GITHUB_ACTIONS")}
    env["NO_COLOR"] = ""  # set but empty: colour stays on (https://no-color.org)
    code, out, _ = _under_pty([command, ".", "--no-config"], leaky_repo.path, env)
    assert code == 1
    assert SGR.search(out.decode()), "a terminal gets colour"
    for value in ("1", "yes"):
        code, out, err = _under_pty(
            [command, ".", "--no-config"], leaky_repo.path, {**env, "NO_COLOR": value}
        )
        assert code == 1
        assert b"settings.env" in out
        assert not SGR.search(out.decode()) and not SGR.search(err.decode())


def test_no_color_reaches_help(tmp_path: Path) -> None:
    code, out, _ = _under_pty(["scan", "--help"], tmp_path, {"NO_COLOR": "1"})
    assert code == 0 and b"--output" in out
    assert not SGR.search(out.decode())


def test_no_colour_off_a_terminal(leaky_repo: GitRepo) -> None:
    done = keyguard("scan", ".", "--no-config", cwd=leaky_repo.path, env={"NO_COLOR": ""})
    assert done.returncode == 1 and b"settings.env" in done.stdout
    assert b"\x1b[" not in done.stdout + done.stderr


# --- control characters from the repository ----------------------------------------------------


@pytest.fixture
def hostile_repo(git_repo: Callable[..., GitRepo]) -> GitRepo:
    repo = git_repo()
    repo.env["GIT_AUTHOR_NAME"] = AUTHOR
    for number, name in enumerate(HOSTILE_NAMES):
        repo.write(name, f"GITHUB_TOKEN={token(10 + number)}\n")
    repo.commit("hostile names")
    return repo


def test_scan_and_history_escape_names_and_authors(hostile_repo: GitRepo) -> None:
    for command in ("scan", "history"):
        done = keyguard(command, ".", "--no-config", cwd=hostile_repo.path)
        out, err = done.stdout.decode(), done.stderr.decode()
        assert done.returncode == 1, err
        assert_no_raw_controls(out)
        assert_no_raw_controls(err)
        for escaped in HOSTILE_NAMES.values():
            assert f"    {escaped}:1:14" in out
    assert "Mallory\\x1b[31m Red" in out  # the history report names the author


def test_the_github_format_escapes_names(hostile_repo: GitRepo) -> None:
    done = keyguard("history", ".", "--no-config", "-f", "github", cwd=hostile_repo.path)
    out = done.stdout.decode()
    assert done.returncode == 1
    lines = out.splitlines()
    # Each name inside its own annotation (a secret, and a hygiene warning about it).
    assert all(line.startswith(("::error file=", "::warning file=")) for line in lines)
    assert sum(line.startswith("::error ") for line in lines) == len(HOSTILE_NAMES)
    assert_no_raw_controls(out)
    files = {line.split("file=", 1)[1].split(",line=", 1)[0] for line in lines}
    # CR and LF in the runner's own escapes (it decodes them), every other control as printed.
    shown = {v.replace("\\x0a", "%0A").replace("\\x0d", "%0D") for v in HOSTILE_NAMES.values()}
    assert files == shown


def test_the_pre_commit_hook_escapes_names(git_repo: Callable[..., GitRepo]) -> None:
    repo = git_repo()
    repo.write("README", "hello\n")
    repo.commit("base")
    for number, name in enumerate(HOSTILE_NAMES):
        repo.write(name, f"GITHUB_TOKEN={token(20 + number)}\n")
    repo.git("add", "-A")
    done = keyguard("staged", "--no-config", cwd=repo.path)
    out, err = done.stdout.decode(), done.stderr.decode()
    assert done.returncode == 1, err
    assert_no_raw_controls(out)
    assert_no_raw_controls(err)
    for escaped in HOSTILE_NAMES.values():
        assert f"    {escaped}:1:14" in out


def test_the_pre_push_rejection_escapes_names_and_refs(hostile_repo: GitRepo) -> None:
    sha = hostile_repo.git("rev-parse", "HEAD").strip()
    ref = "refs/heads/rtl\u202eref"  # git allows bidi controls in ref names
    hostile_repo.git("update-ref", ref, sha)
    done = keyguard(
        "pre-push",
        "origin",
        "url",
        "--no-config",
        cwd=hostile_repo.path,
        env=hostile_repo.env,
        stdin=f"{ref} {sha} {ref} {'0' * 40}\n",
    )
    err = done.stderr.decode()
    assert done.returncode == 1, err
    assert "push rejected" in err and "rtl\\u202eref" in err
    assert_no_raw_controls(err)
    for escaped in HOSTILE_NAMES.values():
        assert f"{escaped}:1" in err


def test_errors_and_user_rule_titles_are_escaped(tmp_path: Path) -> None:
    missing = "gone\x1b[2K\u202e"
    done = keyguard("scan", missing, cwd=tmp_path)
    err = done.stderr.decode()
    assert done.returncode == 2
    assert "gone\\x1b[2K\\u202e" in err
    assert_no_raw_controls(err)
    (tmp_path / ".keyguard.toml").write_text(
        "[[rule]]\n"
        'id = "test.evil"\n'
        'title = "Evil\\u001b[2J\\u202etitle"\n'
        'provider = "Test"\n'
        'category = "secret"\n'
        'severity = "high"\n'
        'keywords = ["evilkey"]\n'
        "pattern = 'evilkey_[a-z]{12}'\n"
        'examples = ["evilkey_abcdefghijkl"]\n',
        encoding="utf-8",
    )
    (tmp_path / "app.cfg").write_text("x = evilkey_qwertyuiopas\n", encoding="utf-8")
    for args in (["explain", "test.evil"], ["scan", "."]):
        done = keyguard(*args, cwd=tmp_path)
        out = done.stdout.decode()
        assert done.returncode in (0, 1), done.stderr
        assert "Evil\\x1b[2J\\u202etitle" in out
        assert_no_raw_controls(out)


# --- non-UTF-8 paths ----------------------------------------------------------------------------


def _json(done: subprocess.CompletedProcess[bytes]) -> dict[str, object]:
    assert done.returncode == 1, done.stderr
    document: dict[str, object] = json.loads(done.stdout)
    return document


def test_non_utf8_paths_are_kept_byte_exact(git_repo: Callable[..., GitRepo]) -> None:
    repo = git_repo()
    committed = os.fsdecode(NON_UTF8)
    (repo.path / committed).write_text(f"GITHUB_TOKEN={token(30)}\n", encoding="utf-8")
    # A name that really is the characters `\xe9`: no bytes to recover.
    repo.write("literal\\xe9.env", f"GITHUB_TOKEN={token(31)}\n")
    (repo.path / os.fsdecode(b"bin\xe9.dat")).write_bytes(b"\0\1\2" * 100)
    repo.commit("names")
    for command in ("scan", "history"):
        document = _json(keyguard(command, ".", "--no-config", "-f", "json", cwd=repo.path))
        found = document["findings"]
        assert isinstance(found, list)
        findings = [f for f in found if f["category"] == "secret"]  # not the hygiene ones
        assert len(findings) == 2
        (odd,) = [f for f in findings if "path_bytes" in f]
        assert odd["path"] in ("caf\ufffd_\ufffd.py", "caf\\xe9_\\xff.py")  # readable
        assert base64.b64decode(odd["path_bytes"]) == NON_UTF8
    scan = _json(keyguard("scan", ".", "--no-config", "-f", "json", cwd=repo.path))["scan"]
    assert isinstance(scan, dict)
    (skipped,) = [s for s in scan["skipped_items"] if s["reason"] == "binary"]
    assert base64.b64decode(skipped["path_bytes"]) == b"bin\xe9.dat"
    done = keyguard("scan", ".", "--no-config", "-f", "jsonl", cwd=repo.path)
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert {base64.b64decode(r["path_bytes"]) for r in rows if "path_bytes" in r} == {NON_UTF8}
    for command in ("scan", "history"):
        sarif = keyguard(command, ".", "--no-config", "-f", "sarif", cwd=repo.path)
        results = json.loads(sarif.stdout)["runs"][0]["results"]
        exact = {
            base64.b64decode(r["properties"]["path_bytes"])
            for r in results
            if "path_bytes" in r["properties"]
        }
        assert exact == {NON_UTF8}, command


def test_non_utf8_paths_are_kept_byte_exact_by_the_hooks(git_repo: Callable[..., GitRepo]) -> None:
    repo = git_repo()
    repo.write("README", "hello\n")
    base = repo.commit("base")
    (repo.path / os.fsdecode(NON_UTF8)).write_text(f"GITHUB_TOKEN={token(40)}\n", encoding="utf-8")
    repo.git("add", "-A")
    staged = keyguard("staged", "--no-config", "-f", "json", cwd=repo.path, env=repo.env)
    (odd,) = _json(staged)["findings"]  # type: ignore[misc]
    assert base64.b64decode(odd["path_bytes"]) == NON_UTF8
    sha = repo.commit("odd name")
    pushed = keyguard(
        "pre-push",
        "origin",
        "url",
        "--no-config",
        "-f",
        "json",
        cwd=repo.path,
        env=repo.env,
        stdin=f"refs/heads/main {sha} refs/heads/main {base}\n",
    )
    found = _json(pushed)["findings"]
    assert isinstance(found, list)
    (odd,) = [f for f in found if f["category"] == "secret"]  # not the overdue-rotation note
    assert base64.b64decode(odd["path_bytes"]) == NON_UTF8
