"""The command line as a user drives it: arguments, exit codes, stdin, output files, formats."""

from __future__ import annotations

import errno
import io
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

import keyguard
from keyguard.cli import main
from keyguard.examples import generate_secret
from keyguard.signatures import load_builtin

RULES = {r.id: r for r in load_builtin()}
CATASTROPHIC_RULE = """
[[rule]]
id = "test.slow"
title = "Slow pattern"
provider = "Test"
category = "secret"
severity = "low"
keywords = ["aaa"]
pattern = '(a|a)+$'
examples = ["aaaa"]
"""


def token(seed: object = None, rule_id: str = "github.pat") -> str:
    """A fresh random value in the provider's format (never stored in the repository)."""
    return generate_secret(RULES[rule_id], random.Random(seed))


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def python_m(
    *args: str, stdin: bytes | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "keyguard", *args],
        input=stdin,
        capture_output=True,
        cwd=cwd,
        check=False,
        timeout=120,
    )


@pytest.fixture
def leaky(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, str]:
    """A directory with one file holding one secret; the working directory is tmp_path."""
    monkeypatch.chdir(tmp_path)
    secret = token()
    root = tmp_path / "project"
    root.mkdir()
    (root / "settings.env").write_text(f"# settings\nGITHUB_TOKEN={secret}\n", encoding="utf-8")
    return root, secret


# --- version and help ------------------------------------------------------------------------


@pytest.mark.parametrize("flag", ["--version", "-V"])
def test_version(capsys: pytest.CaptureFixture[str], flag: str) -> None:
    code, out, err = run(capsys, flag)
    assert code == 0
    assert out == f"keyguard {keyguard.__version__}\n"
    assert err == ""


def test_version_verbose_names_the_matcher(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from keyguard import matcher

    code, out, _ = run(capsys, "--version", "--verbose")
    assert code == 0
    expected = "hyperscan" if matcher.is_hyperscan_available() else "pyahocorasick"
    assert f"matcher: {expected}" in out
    monkeypatch.setattr(matcher, "is_hyperscan_available", lambda: False)
    code, out, _ = run(capsys, "--version", "--verbose")
    assert "matcher: pyahocorasick" in out and "hyperscan is not installed" in out


def test_version_does_not_import_the_cli_framework() -> None:
    probe = (
        "import sys, keyguard.cli\n"
        "code = keyguard.cli.main(['--version'])\n"
        "heavy = [m for m in ('typer', 'click', 'rich', 'regex', 'keyguard.engine') if m in sys.modules]\n"
        "print(code, heavy)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.splitlines() == [f"keyguard {keyguard.__version__}", "0 []"]


def test_python_dash_m_version() -> None:
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "keyguard", "--version"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0
    assert done.stdout == f"keyguard {keyguard.__version__}\n"
    imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines()}
    assert "keyguard.cli" in imported  # the import log is really there
    assert not {"typer", "rich", "click"} & imported


def _command_paths() -> list[list[str]]:
    import typer.main

    from keyguard.commands import app

    paths: list[list[str]] = [[]]

    def visit(command: object, prefix: list[str]) -> None:
        for name, sub in sorted(getattr(command, "commands", {}).items()):
            paths.append([*prefix, name])
            visit(sub, [*prefix, name])

    visit(typer.main.get_command(app), [])
    return paths


COMMANDS = _command_paths()


def test_every_expected_command_exists() -> None:
    assert {" ".join(p) for p in COMMANDS} >= {
        "",
        "scan",
        "signatures",
        "signatures check",
        "signatures list",
    }


@pytest.mark.parametrize("command", COMMANDS, ids=lambda p: " ".join(p) or "keyguard")
def test_help_on_every_command(capsys: pytest.CaptureFixture[str], command: list[str]) -> None:
    code, out, _ = run(capsys, *command, "--help")
    assert code == 0
    assert "Usage" in out
    assert " ".join(["keyguard", *command]) in " ".join(out.split())
    if command == ["scan"]:
        for option in ("--format", "--output", "--all-files", "--max-file-size", "--show-secrets"):
            assert option in out


# --- exit codes ------------------------------------------------------------------------------


def test_exit_0_when_clean(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "readme.txt").write_text("nothing to see here\n", encoding="utf-8")
    code, out, _ = run(capsys, "scan", str(tmp_path))
    assert code == 0
    assert out.startswith("0 findings (0 secrets); 1 files")


def test_exit_1_with_findings(capsys: pytest.CaptureFixture[str], leaky: tuple[Path, str]) -> None:
    root, secret = leaky
    code, out, _ = run(capsys, "scan", str(root))
    assert code == 1
    assert "[github.pat]" in out
    assert "settings.env:2:14" in out
    assert secret not in out


def test_default_target_is_the_current_directory(
    capsys: pytest.CaptureFixture[str], leaky: tuple[Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    root, _ = leaky
    monkeypatch.chdir(root)
    code, out, _ = run(capsys, "scan", "-f", "json")
    assert code == 1
    assert [f["path"] for f in json.loads(out)["findings"]] == ["settings.env"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["scan", "--no-such-option"], "No such option"),
        (["scan", "--format", "xml", "."], "--format"),
        (["scan", "--jobs", "many", "."], "--jobs"),
        (["no-such-command"], "No such command"),
        (["scan", "--max-file-size", "huge", "."], "--max-file-size"),
        (["scan", "--max-file-size", "0", "."], "--max-file-size"),
        (["scan", "--matcher", "grep", "."], "unknown matcher"),
        (["scan", "-", "."], "stdin"),
    ],
)
def test_exit_2_on_usage_errors(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    message: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, *args)
    assert code == 2
    assert message in err
    assert "Traceback" not in err


def test_exit_2_for_a_missing_path(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    missing = tmp_path / "does-not-exist"
    code, out, err = run(capsys, "scan", str(missing))
    assert code == 2
    assert out == ""
    assert err == f"keyguard: error: {missing}: No such file or directory\n"


def test_exit_2_for_an_invalid_config_file(
    capsys: pytest.CaptureFixture[str], leaky: tuple[Path, str]
) -> None:
    root, _ = leaky
    (root / ".keyguard.toml").write_text("disable = [\n", encoding="utf-8")
    code, out, err = run(capsys, "scan", str(root))
    assert code == 2
    assert out == ""
    assert str(root / ".keyguard.toml") in err and "invalid TOML" in err


def test_exit_2_for_a_missing_explicit_config(
    capsys: pytest.CaptureFixture[str], leaky: tuple[Path, str]
) -> None:
    root, _ = leaky
    code, _, err = run(capsys, "scan", "--config", str(root / "nope.toml"), str(root))
    assert code == 2
    assert "nope.toml: configuration file not found" in err


def test_exit_2_for_a_bad_rule_in_config(
    capsys: pytest.CaptureFixture[str], leaky: tuple[Path, str]
) -> None:
    root, _ = leaky
    (root / ".keyguard.toml").write_text(
        CATASTROPHIC_RULE.replace("'(a|a)+$'", "'tok_(unclosed'"), encoding="utf-8"
    )
    code, out, err = run(capsys, "scan", str(root))
    assert code == 2
    assert out == ""
    assert ".keyguard.toml" in err and "'test.slow'" in err and "does not compile" in err


def test_exit_3_when_a_pattern_times_out(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import keyguard.engine
    import keyguard.safety

    # The load-time probe refuses this rule (tests/test_hostile_config.py); the engine's timeout
    # is the backstop for a pattern the probe misses, tested here with the probe off.
    monkeypatch.setattr(keyguard.safety, "vet", lambda *a, **k: None)
    monkeypatch.setattr(keyguard.engine, "REGEX_TIMEOUT", 0.05)
    config = tmp_path / "slow.toml"
    config.write_text(CATASTROPHIC_RULE, encoding="utf-8")
    target = tmp_path / "input.txt"
    target.write_text("a" * 64 + "!\n", encoding="utf-8")
    code, out, _ = run(capsys, "scan", "--config", str(config), "-f", "json", str(target))
    assert code == 3
    scan = json.loads(out)["scan"]
    assert scan["complete"] is False
    assert any("test.slow" in e and "timed out" in e for e in scan["errors"])


def test_a_timed_out_rule_is_off_for_the_rest_of_the_run(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ten windows that each backtrack cost one timeout, not ten; other rules still run."""
    import keyguard.engine
    import keyguard.safety

    # The load-time probe refuses this rule (tests/test_hostile_config.py); the engine's timeout
    # is the backstop for a pattern the probe misses, tested here with the probe off.
    monkeypatch.setattr(keyguard.safety, "vet", lambda *a, **k: None)
    monkeypatch.setattr(keyguard.engine, "REGEX_TIMEOUT", 0.05)
    config = tmp_path / "slow.toml"
    config.write_text(CATASTROPHIC_RULE, encoding="utf-8")
    target = tmp_path / "input.txt"
    secret = token(11)
    lines = ["a" * 64 + "!" for _ in range(10)] + [f'token = "{secret}"']
    target.write_text("\n".join(lines) + "\n", encoding="utf-8")
    (tmp_path / "more.txt").write_text("a" * 64 + "!\n", encoding="utf-8")
    code, out, _ = run(
        capsys, "scan", "--config", str(config), "-f", "json", "--jobs", "1", str(tmp_path)
    )
    assert code == 3
    document = json.loads(out)
    timeouts = [e for e in document["scan"]["errors"] if "test.slow" in e]
    assert len(timeouts) == 1 and "off for the rest of this run" in timeouts[0]
    assert [f["rule_id"] for f in document["findings"]] == ["github.pat"]


def test_exit_3_when_text_report_is_incomplete(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import keyguard.engine
    import keyguard.safety

    # The load-time probe refuses this rule (tests/test_hostile_config.py); the engine's timeout
    # is the backstop for a pattern the probe misses, tested here with the probe off.
    monkeypatch.setattr(keyguard.safety, "vet", lambda *a, **k: None)
    monkeypatch.setattr(keyguard.engine, "REGEX_TIMEOUT", 0.05)
    config = tmp_path / "slow.toml"
    config.write_text(CATASTROPHIC_RULE, encoding="utf-8")
    (tmp_path / "input.txt").write_text("a" * 64 + "!\n", encoding="utf-8")
    target = tmp_path / "input.txt"
    code, out, _ = run(capsys, "scan", "-c", str(config), str(target))
    assert code == 3
    assert "INCOMPLETE: 1 error" in out
    assert f"error: {target.as_posix()}: rule test.slow: pattern timed out" in out


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root can read any file"
)
def test_exit_3_for_an_unreadable_file(
    capsys: pytest.CaptureFixture[str], leaky: tuple[Path, str]
) -> None:
    root, _ = leaky
    locked = root / "locked.txt"
    locked.write_text("x\n", encoding="utf-8")
    locked.chmod(0)
    try:
        code, out, _ = run(capsys, "scan", "-f", "json", str(root))
    finally:
        locked.chmod(0o600)
    assert code == 3
    assert any(e.startswith("locked.txt:") for e in json.loads(out)["scan"]["errors"])


def test_exit_3_for_an_unlistable_directory(
    capsys: pytest.CaptureFixture[str], leaky: tuple[Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A directory that cannot be listed must make the scan incomplete, not silently clean."""
    root, _ = leaky
    hidden = root / "private"
    hidden.mkdir()
    (hidden / "more.env").write_text(f"GITHUB_TOKEN={token()}\n", encoding="utf-8")
    real_scandir = os.scandir

    def scandir(path: object = ".") -> object:
        if os.fspath(path) == str(hidden):  # type: ignore[arg-type]
            raise PermissionError(errno.EACCES, "Permission denied", os.fspath(path))  # type: ignore[arg-type]
        return real_scandir(path)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "scandir", scandir)
    code, out, _ = run(capsys, "scan", "-f", "json", str(root))
    assert code == 3
    document = json.loads(out)
    assert document["scan"]["errors"] == ["private: Permission denied"]
    assert [f["path"] for f in document["findings"]] == ["settings.env"]


def test_exit_4_on_an_internal_error_without_traceback(
    capsys: pytest.CaptureFixture[str], leaky: tuple[Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import keyguard.run

    root, secret = leaky

    def explode(*args: object, **kwargs: object) -> object:
        raise RuntimeError(f"boom near {secret}")

    monkeypatch.setattr(keyguard.run, "scan_blobs", explode)
    code, out, err = run(capsys, "scan", str(root))
    assert code == 4
    assert "internal error (RuntimeError)" in err
    assert "--debug" in err
    assert "Traceback" not in err
    assert secret not in err + out  # the message could quote scanned content

    code, out, err = run(capsys, "--debug", "scan", str(root))
    assert code == 4
    assert "Traceback" in err and "explode" in err


# --- stdin, output files, formats ------------------------------------------------------------


def test_dash_reads_stdin_in_process(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    secret = token()
    data = f"line one\nexport GITHUB_TOKEN={secret}\n".encode()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    code, out, _ = run(capsys, "scan", "-", "-f", "jsonl")
    assert code == 1
    (finding,) = [json.loads(line) for line in out.splitlines()]
    assert (finding["path"], finding["line"], finding["column"]) == ("<stdin>", 2, 21)


def test_dash_reads_stdin_in_a_subprocess(tmp_path: Path) -> None:
    secret = token()
    clean = python_m("scan", "-", stdin=b"nothing here\n", cwd=tmp_path)
    assert clean.returncode == 0, clean.stderr
    dirty = python_m("scan", "-", "-f", "json", stdin=f"T={secret}\n".encode(), cwd=tmp_path)
    assert dirty.returncode == 1, dirty.stderr
    document = json.loads(dirty.stdout)
    assert document["scan"]["targets"] == ["-"]
    assert [f["path"] for f in document["findings"]] == ["<stdin>"]
    assert secret.encode() not in dirty.stdout + dirty.stderr


@pytest.mark.parametrize("output_format", ["text", "json", "jsonl"])
def test_output_file(
    capsys: pytest.CaptureFixture[str], leaky: tuple[Path, str], tmp_path: Path, output_format: str
) -> None:
    root, secret = leaky
    target = tmp_path / f"report.{output_format}"
    code, out, err = run(capsys, "scan", "-f", output_format, "-o", str(target), str(root))
    assert code == 1
    assert out == ""
    assert err.startswith("1 finding (1 secret); 1 files")  # the summary still reaches the user
    written = target.read_text(encoding="utf-8")
    assert secret not in written
    if output_format == "json":
        assert json.loads(written)["findings"][0]["path"] == "settings.env"
    elif output_format == "jsonl":
        assert json.loads(written.splitlines()[0])["rule_id"] == "github.pat"
    else:
        assert "settings.env:2:14" in written and "\x1b[" not in written


def test_output_file_that_cannot_be_written(
    capsys: pytest.CaptureFixture[str], leaky: tuple[Path, str], tmp_path: Path
) -> None:
    root, _ = leaky
    code, _, err = run(capsys, "scan", "-o", str(tmp_path / "missing" / "r.json"), str(root))
    assert code == 2
    assert "cannot write report" in err


def test_formats_agree(capsys: pytest.CaptureFixture[str], leaky: tuple[Path, str]) -> None:
    root, _ = leaky
    (root / "other.txt").write_text(f"token {token()}\n", encoding="utf-8")
    _, text_out, _ = run(capsys, "scan", "-f", "text", str(root))
    _, json_out, _ = run(capsys, "scan", "-f", "json", str(root))
    _, jsonl_out, _ = run(capsys, "scan", "-f", "jsonl", str(root))
    document = json.loads(json_out)
    lines = [json.loads(line) for line in jsonl_out.splitlines()]
    assert document["findings"] == lines
    assert len(lines) == 2
    for finding in lines:
        assert f"{finding['path']}:{finding['line']}:{finding['column']}" in text_out
    assert "2 findings (2 secrets)" in text_out


def test_show_secrets(capsys: pytest.CaptureFixture[str], leaky: tuple[Path, str]) -> None:
    root, secret = leaky
    _, hidden, _ = run(capsys, "scan", "-f", "json", str(root))
    _, shown, _ = run(capsys, "scan", "-f", "json", "--show-secrets", str(root))
    assert "secret" not in json.loads(hidden)["findings"][0]
    assert json.loads(shown)["findings"][0]["secret"] == secret
    _, text, _ = run(capsys, "scan", "--show-secrets", str(root))
    assert secret in text


def test_parallel_scan_matches_serial(tmp_path: Path) -> None:
    """Enough data to cross the fork threshold: -j 2 and -j 1 report the same findings."""
    secrets = [token(i) for i in range(6)]
    filler = "".join(f"filler line {i} with some words\n" for i in range(4000))
    for index, secret in enumerate(secrets):
        (tmp_path / f"f{index}.txt").write_text(
            filler + f"GITHUB_TOKEN={secret}\n" + filler, encoding="utf-8"
        )
    results = []
    for jobs in ("1", "2"):
        done = python_m("scan", "-j", jobs, "-f", "json", str(tmp_path), cwd=tmp_path)
        assert done.returncode == 1, done.stderr
        document = json.loads(done.stdout)
        results.append(document["findings"])
        assert document["scan"]["files"] == len(secrets)
    assert results[0] == results[1]
    assert len(results[0]) == len(secrets)


# --- signatures commands ---------------------------------------------------------------------


def test_signatures_list(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "signatures", "list")
    assert code == 0
    assert out.splitlines()[-1] == f"{len(RULES)} rules"
    code, out, _ = run(capsys, "signatures", "list", "-f", "json")
    assert code == 0
    assert {row["id"] for row in json.loads(out)} == set(RULES)


def test_signatures_check_builtin(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "signatures", "check", "--seed", "7")
    assert code == 0, err
    assert f"{len(RULES)} rules checked" in out and "0 problems" in out


def test_signatures_check_reports_a_broken_rule_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    rules = tmp_path / "mine.toml"
    rules.write_text(
        '[[rule]]\nid = "mine.token"\ntitle = "Mine"\nprovider = "Me"\ncategory = "secret"\n'
        'severity = "low"\nkeywords = ["mine_"]\npattern = \'mine_(?P<secret>[a-z]{20})\'\n'
        "examples = ['mine_{{gen:[a-z]{10}}}']\n",
        encoding="utf-8",
    )
    code, out, err = run(capsys, "signatures", "check", str(rules))
    assert code == 1
    assert "1 rules checked" in out and "1 problem" in out
    assert "mine.toml: rule 'mine.token': example 1 is not found" in err

    rules.write_text('[[rule]]\nid = "mine.token"\n', encoding="utf-8")
    code, _, err = run(capsys, "signatures", "check", str(rules))
    assert code == 2
    assert "mine.toml: rule 'mine.token': missing required field" in err


def test_hyperscan_backend_accepts_rules_without_keywords() -> None:
    pytest.importorskip("hyperscan")
    from keyguard.engine import compile_ruleset, scan
    from keyguard.signatures import Ruleset, parse_rules

    rule = parse_rules(
        [
            {
                "id": "test.dotenv",
                "title": "Dotenv secret",
                "provider": "Test",
                "category": "hygiene",
                "severity": "low",
                "pattern": r"SECRET=(?P<secret>\w{12,})",
                "paths": [r"\.env$"],
                "examples": ["SECRET=abcdefgh12345678"],
            }
        ],
        "test.toml",
    )
    compiled = compile_ruleset(Ruleset.of(rule), "hyperscan")
    assert scan(b"SECRET=Zq8Xv2Lm9Kp4Rt6W\n", "app/.env", compiled).findings
