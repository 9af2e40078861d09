"""`--format sarif` beyond tests/test_report_sarif.py: locations for stdin and absolute paths, any
path as a URI that round-trips, rule entries and levels, notes and statistics, byte-identical
renders, generated secrets of every rule never in any rendering, and the CLI end to end (a
directory and a git history) through `python -m keyguard`.

The schema file is draft-04 (its `$schema` says so), hence `Draft4Validator`.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import jsonschema
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from keyguard.examples import generate_secret
from keyguard.model import Commit, Finding
from keyguard.report import RenderOptions, Report, render
from keyguard.report.github import format_summary
from keyguard.report.sarif import artifact_location, location_hash
from keyguard.signatures import load_builtin
from tests.conftest import GitRepo

SCHEMA = json.loads((Path(__file__).parent / "data" / "sarif-schema-2.1.0.json").read_text())
VALIDATOR = jsonschema.Draft4Validator(SCHEMA)
RULES = {r.id: r for r in load_builtin()}
GENERATED = sorted(r.id for r in RULES.values() if r.generate is not None)


def token(seed: object, rule_id: str = "github.pat") -> str:
    return generate_secret(RULES[rule_id], random.Random(seed))


def finding(
    value: str,
    *,
    rule_id: str = "github.pat",
    severity: str = "high",
    path: str = "app.env",
    line: int = 2,
    commit: Commit | None = None,
) -> Finding:
    return Finding(
        rule_id=rule_id,
        title=f"Title of {rule_id}",
        category="secret" if severity != "info" else "hygiene",
        severity=severity,
        confidence="medium",
        path=path,
        line=line,
        column=3,
        end_line=line,
        end_column=3 + len(value),
        secret=value,
        commit=commit,
        remediation=f"{rule_id}-playbook",
    )


def report(
    findings: list[Finding], errors: tuple[str, ...] = (), extra: dict[str, Any] | None = None
) -> Report:
    return Report(
        kind="history" if extra else "worktree",
        targets=("repo",),
        findings=tuple(findings),
        files=5,
        bytes=500,
        skipped={"binary": 2},
        errors=errors,
        seconds=1.5,
        rules=9,
        ruleset="abc123",
        matcher="test",
        extra=extra,
    )


def sarif(rep: Report) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(render(rep, "sarif", RenderOptions()))
    assert not list(VALIDATOR.iter_errors(document))
    return document


def locations(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [r["locations"][0]["physicalLocation"] for r in document["runs"][0]["results"]]


def test_stdin_and_absolute_paths_are_located() -> None:
    rng = random.Random(1)
    rep = report(
        [
            finding(token(rng.getrandbits(32)), path="<stdin>"),
            finding(token(rng.getrandbits(32)), path="/tmp/named on the command line.env"),
            finding(token(rng.getrandbits(32)), path="C:/Users/a/x.env"),
        ]
    )
    stdin, posix, windows = (loc["artifactLocation"] for loc in locations(sarif(rep)))
    assert stdin == {"uri": "%3Cstdin%3E", "uriBaseId": "%SRCROOT%"}
    assert posix == {"uri": "file:///tmp/named%20on%20the%20command%20line.env"}
    assert windows == {"uri": "file:///C:/Users/a/x.env"}


@settings(max_examples=300, deadline=None)
@given(st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40))
def test_any_relative_path_is_a_uri_reference_that_round_trips(path: str) -> None:
    relative = path.lstrip("/")
    location = artifact_location(relative)
    if not relative or "uriBaseId" not in location:  # empty, or a drive letter: absolute
        return
    uri = location["uri"]
    assert uri.isascii() and uri.isprintable()
    assert not set(uri) & set(' #?:[]<>\\"{}|^`')
    assert unquote(uri) == relative


def test_rules_are_the_ones_used_sorted_and_indexed() -> None:
    rng = random.Random(2)
    rep = report(
        [
            finding(token(rng.getrandbits(32)), rule_id="zeta.key", severity="medium", line=1),
            finding(token(rng.getrandbits(32)), rule_id="alpha.key", severity="critical", line=2),
            finding(token(rng.getrandbits(32)), rule_id="zeta.key", severity="medium", line=3),
            finding(token(rng.getrandbits(32)), rule_id="mid.key", severity="info", line=4),
        ]
    )
    run = sarif(rep)["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == ["alpha.key", "mid.key", "zeta.key"]
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
    by_id = {r["id"]: r for r in rules}
    assert by_id["alpha.key"]["defaultConfiguration"]["level"] == "error"
    assert by_id["alpha.key"]["properties"]["security-severity"] == "9.5"
    assert by_id["mid.key"]["properties"]["security-severity"] == "0.0"
    assert by_id["zeta.key"]["properties"]["precision"] == "medium"
    assert [r["level"] for r in run["results"]] == ["warning", "error", "warning", "note"]
    help_ = by_id["zeta.key"]["help"]
    for text in (help_["text"], help_["markdown"]):
        assert "zeta.key-playbook" in text and "Rotate or revoke the credential" in text
    assert "informationUri" not in run["tool"]["driver"]


def test_history_details_notes_and_statistics() -> None:
    commit = Commit("feedface" * 5, "Ann Author", "2024-02-03T04:05:06+00:00", "add config")
    rep = report(
        [finding(token(3), commit=commit)],
        errors=("blob 1234: missing object",),
        extra={"commits": 12, "blobs": 5, "notes": ["shallow clone: history truncated"]},
    )
    run = sarif(rep)["runs"][0]
    (result,) = run["results"]
    assert "feedfacefeed" in result["message"]["text"]
    assert "2024-02-03" in result["message"]["text"] and "Ann Author" in result["message"]["text"]
    assert result["properties"]["commit"] == commit.sha
    invocation = run["invocations"][0]
    assert invocation["executionSuccessful"] is False
    assert invocation["toolExecutionNotifications"] == [
        {"level": "error", "message": {"text": "blob 1234: missing object"}},
        {"level": "note", "message": {"text": "shallow clone: history truncated"}},
    ]
    props = run["properties"]
    assert (props["files"], props["bytes"], props["skipped"]) == (5, 500, {"binary": 2})
    assert (props["ruleset"], props["matcher"], props["commits"], props["blobs"]) == (
        "abc123",
        "test",
        12,
        5,
    )
    assert "notes" not in props


def test_renders_are_identical_and_fingerprints_count_occurrences() -> None:
    value = token(4)
    rep = report([finding(value, line=1), finding(value, line=8), finding(token(5), line=8)])
    first = render(rep, "sarif", RenderOptions())
    assert first == render(rep, "sarif", RenderOptions(show_secrets=True))
    hashes = [
        r["partialFingerprints"]["primaryLocationLineHash"]
        for r in json.loads(first)["runs"][0]["results"]
    ]
    # rule and path, counted: nothing derived from the value (the third is another secret)
    base = location_hash(rep.findings[0])
    assert hashes == [f"{base}:1", f"{base}:2", f"{base}:3"]
    assert all(rep.findings[0].secret_hash[:12] not in h for h in hashes)
    moved = report([finding(value, line=5), finding(value, line=9), finding(token(5), line=20)])
    assert [
        r["partialFingerprints"]["primaryLocationLineHash"]
        for r in json.loads(render(moved, "sarif", RenderOptions()))["runs"][0]["results"]
    ] == hashes  # edits above the secrets do not change them


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rule_id=st.sampled_from(GENERATED), seed=st.integers(0, 2**32), show=st.booleans())
def test_no_generated_secret_in_any_rendering(rule_id: str, seed: int, show: bool) -> None:
    value = token(seed, rule_id)
    if len(value) < 12:
        return
    commit = Commit("a" * 40, "A", "2024-01-02T03:04:05+00:00", "s")
    rep = report([finding(value, rule_id=rule_id), finding(value, path="b.env", commit=commit)])
    options = RenderOptions(show_secrets=show)
    for text in (
        render(rep, "sarif", options),
        render(rep, "github", options),
        format_summary(rep),
    ):
        assert value not in text
        assert json.dumps(value)[1:-1] not in text  # nor JSON-escaped


def python_m(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "keyguard", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        check=False,
        timeout=120,
    )


def test_cli_scan_directory_end_to_end(tmp_path: Path) -> None:
    value = token("e2e")
    root = tmp_path / "project"
    (root / "dir with space").mkdir(parents=True)
    (root / "dir with space" / "set#1.env").write_text(f"TOKEN={value}\n", encoding="utf-8")
    done = python_m("scan", str(root), "--no-config", "--format", "sarif", cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    assert value not in done.stdout
    document = json.loads(done.stdout)
    assert not list(VALIDATOR.iter_errors(document))
    (location,) = locations(document)
    assert location["artifactLocation"] == {
        "uri": "dir%20with%20space/set%231.env",
        "uriBaseId": "%SRCROOT%",
    }
    assert location["region"]["startLine"] == 1 and location["region"]["startColumn"] == 7


def test_cli_history_end_to_end(git_repo: Any, tmp_path: Path) -> None:
    repo: GitRepo = git_repo()
    value = token("history")
    repo.write("config/app.env", f"TOKEN={value}\n")
    sha = repo.commit("add config")
    repo.write("config/app.env", "TOKEN=\n")
    repo.commit("remove it")
    done = python_m("history", str(repo.path), "--no-config", "--format", "sarif", cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    assert value not in done.stdout
    document = json.loads(done.stdout)
    assert not list(VALIDATOR.iter_errors(document))
    # The commit is dated 2024: the token also comes with a rotation-overdue hygiene result.
    results = document["runs"][0]["results"]
    assert sorted(r["ruleId"] for r in results) == ["github.pat", "hygiene.rotation-overdue"]
    (result,) = [r for r in results if r["ruleId"] == "github.pat"]
    assert result["properties"]["commit"] == sha
    assert sha[:12] in result["message"]["text"]
    assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == (
        "config/app.env"
    )
