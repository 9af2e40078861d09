"""Baselines through the real CLI and real git: known findings left out, stale entries named, a new
secret on a baselined line still reported, line endings and path spellings do not matter, no
value or fast digest in the file, and two branches each baselining a secret merge cleanly."""

from __future__ import annotations

import hashlib
import json
import random
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from keyguard import baseline as baseline_mod
from keyguard.cli import main
from keyguard.errors import ConfigError
from keyguard.examples import generate_secret
from keyguard.model import Finding
from keyguard.signatures import load_builtin
from tests.conftest import GitRepo

GITHUB_PAT = {r.id: r for r in load_builtin()}["github.pat"]


def token(seed: object) -> str:
    return generate_secret(GITHUB_PAT, random.Random(str(seed)))


def scan(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    capsys.readouterr()
    code = main(["scan", *args, "--format", "json"])
    return code, json.loads(capsys.readouterr().out)


def test_create_then_only_new_findings_are_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = token("old")
    (tmp_path / "legacy.env").write_text(f"# x\nGITHUB_TOKEN={old}\n", encoding="utf-8")
    assert main(["baseline", "create", str(tmp_path), "--no-config"]) == 0
    file = tmp_path / baseline_mod.DEFAULT_NAME
    text = file.read_text(encoding="utf-8")
    assert old not in text and old[4:12] not in text
    assert hashlib.sha256(old.encode()).hexdigest() not in text  # no fast unsalted digest
    code, document = scan(capsys, str(tmp_path), "--no-config", "--baseline", str(file))
    assert code == 0 and document["findings"] == []
    assert document["scan"]["baseline"]["suppressed"] == 1
    # An edit above the known secret changes nothing (no line numbers in entries).
    (tmp_path / "legacy.env").write_text(f"# x\n# y\nGITHUB_TOKEN={old}\n", encoding="utf-8")
    assert scan(capsys, str(tmp_path), "--no-config", "--baseline", str(file))[0] == 0
    # A new secret on the baselined line is still reported.
    new = token("new")
    (tmp_path / "legacy.env").write_text(f"# x\n# y\nGITHUB_TOKEN={new}\n", encoding="utf-8")
    code, document = scan(capsys, str(tmp_path), "--no-config", "--baseline", str(file))
    assert code == 1
    assert [f["preview"] for f in document["findings"]] == [new[:4] + "…(40)"]
    assert document["scan"]["baseline"]["stale"] == [
        sorted(baseline_mod.load(file).entries)[0].line()
    ]
    capsys.readouterr()
    assert main(["scan", str(tmp_path), "--no-config", "--baseline", str(file)]) == 1
    assert "1 stale entry" in capsys.readouterr().out


def test_update_keeps_entries_and_prune_drops_stale_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = token("u1"), token("u2")
    (tmp_path / "a.env").write_text(f"GITHUB_TOKEN={first}\n", encoding="utf-8")
    assert main(["baseline", "create", str(tmp_path), "--no-config"]) == 0
    file = tmp_path / baseline_mod.DEFAULT_NAME
    salt = baseline_mod.load(file).salt
    assert main(["baseline", "create", str(tmp_path), "--no-config"]) == 2  # never overwritten
    (tmp_path / "b.env").write_text(f"GITHUB_TOKEN={second}\n", encoding="utf-8")
    assert main(["baseline", "update", str(tmp_path), "--no-config"]) == 0
    updated = baseline_mod.load(file)
    assert updated.salt == salt and {e.path for e in updated.entries} == {"a.env", "b.env"}
    (tmp_path / "a.env").unlink()
    assert main(["baseline", "prune", str(tmp_path), "--no-config"]) == 0
    assert {e.path for e in baseline_mod.load(file).entries} == {"b.env"}


def test_history_baseline(
    git_repo: Callable[..., GitRepo], capsys: pytest.CaptureFixture[str]
) -> None:
    repo = git_repo()
    old = token("history")
    repo.write("deploy.env", f"GITHUB_TOKEN={old}\n")
    repo.commit("old secret")
    file = repo.path.parent / "history.baseline"
    assert (
        main(["baseline", "create", str(repo.path), "--history", "-o", str(file), "--no-config"])
        == 0
    )
    capsys.readouterr()
    code = main(
        ["history", str(repo.path), "--no-config", "--baseline", str(file), "--format", "json"]
    )
    assert code == 0, capsys.readouterr().err
    repo.write("other.env", f"GITHUB_TOKEN={token('history-new')}\n")
    repo.commit("new secret")
    capsys.readouterr()
    code = main(
        ["history", str(repo.path), "--no-config", "--baseline", str(file), "--format", "json"]
    )
    found = json.loads(capsys.readouterr().out)["findings"]
    assert code == 1 and {f["path"] for f in found} == {"other.env"}


def _finding(path: str, value: str) -> Finding:
    return Finding(
        rule_id="github.pat",
        title="t",
        category="secret",
        severity="high",
        confidence="high",
        path=path,
        line=1,
        column=1,
        end_line=1,
        end_column=2,
        secret=value,
    )


def test_line_endings_and_path_spelling_do_not_matter() -> None:
    known = baseline_mod.Baseline.new()
    value = token("crlf")
    known.entries = baseline_mod.entries_for([_finding("dir\\sub\\x.env", value)], known)
    assert [e.path for e in known.entries] == ["dir/sub/x.env"]
    crlf = baseline_mod.parse(known.text().replace("\n", "\r\n"), "crlf")
    assert crlf.entries == known.entries and crlf.salt == known.salt
    assert baseline_mod.apply([_finding("./dir/sub/x.env", value)], crlf).suppressed == 1
    assert baseline_mod.apply([_finding("dir/sub/y.env", value)], crlf).suppressed == 0


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("hello\n", "not a keyguard baseline"),
        ("# keyguard baseline 1\ngithub.pat 00 a.env\n", "digest"),
        ("# keyguard baseline 1\ngithub.pat " + "0" * 32 + " a.env\n", "no salt"),
        ("# keyguard baseline 1\n# salt zz\n", "not hex"),
    ],
)
def test_bad_baselines_are_clear_errors(text: str, problem: str) -> None:
    with pytest.raises(ConfigError, match=problem):
        baseline_mod.parse(text, "b")


def test_a_bad_baseline_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "bad").write_text("nope\n", encoding="utf-8")
    assert main(["scan", str(tmp_path), "--baseline", str(tmp_path / "bad")]) == 2
    assert "not a keyguard baseline" in capsys.readouterr().err


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=8, max_size=40)
)
def test_no_value_or_fast_digest_in_the_file(value: str) -> None:
    known = baseline_mod.Baseline.new()
    finding = Finding(
        rule_id="generic.password",
        title="t",
        category="secret",
        severity="high",
        confidence="high",
        path="a.env",
        line=1,
        column=1,
        end_line=1,
        end_column=2,
        secret=value,
    )
    known.entries = baseline_mod.entries_for([finding], known)
    text = known.text()
    body = "\n".join(text.splitlines()[2:])
    assert value not in body
    for fast in (hashlib.sha256, hashlib.sha1, hashlib.md5):
        assert fast(value.encode()).hexdigest()[:32] not in text
    # Another baseline's salt gives another digest: nothing to compare across files.
    other = baseline_mod.Baseline.new()
    assert known.digest(value) != other.digest(value)


def _git(repo: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=repo, env=env, capture_output=True, text=True)


def test_two_branches_each_baselining_a_secret_merge_cleanly(
    git_repo: Callable[..., GitRepo], capsys: pytest.CaptureFixture[str]
) -> None:
    repo = git_repo()
    repo.write("README", "project\n")
    repo.write("start.env", f"GITHUB_TOKEN={token('start')}\n")
    repo.commit("start")
    assert main(["baseline", "create", str(repo.path), "--no-config"]) == 0
    repo.commit("baseline (and .gitattributes)")
    assert "merge=union" in (repo.path / ".gitattributes").read_text(encoding="utf-8")
    for round_ in range(6):
        tips = []
        for side in ("left", "right"):
            repo.git("checkout", "-q", "-b", f"{side}-{round_}", "main")
            name = f"{side}/{round_}.env"
            repo.write(name, f"GITHUB_TOKEN={token((side, round_))}\n")
            assert main(["baseline", "update", str(repo.path), "--no-config"]) == 0
            tips.append(repo.commit(f"{side} {round_}"))
        repo.git("checkout", "-q", "main")
        for tip in tips:
            merged = _git(repo.path, "merge", "--no-edit", "-q", tip, env=repo.env)
            assert merged.returncode == 0, merged.stdout + merged.stderr
        assert "<<<<<<<" not in (repo.path / baseline_mod.DEFAULT_NAME).read_text(encoding="utf-8")
        capsys.readouterr()
        code = main(
            [
                "scan",
                str(repo.path),
                "--no-config",
                "--baseline",
                str(repo.path / baseline_mod.DEFAULT_NAME),
                "--format",
                "json",
            ]
        )
        document = json.loads(capsys.readouterr().out)
        assert code == 0, document["findings"]
        assert document["scan"]["baseline"]["stale"] == []
