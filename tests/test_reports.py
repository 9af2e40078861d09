"""Report formats: the JSON document's exact shape, jsonl, text grouped by secret, golden files.

Golden files hold no secret: the values are generated at test time from a fixed seed, and only
their redacted previews, hashes and fingerprints are stored. Regenerate them after an intended
change with `KEYGUARD_UPDATE_GOLDEN=1 pytest tests/test_reports.py`.
"""

from __future__ import annotations

import json
import os
import random
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from keyguard.cli import main
from keyguard.engine import CompiledRuleset, scan
from keyguard.examples import generate_secret
from keyguard.hygiene import ASSESSMENTS
from keyguard.model import Commit, Finding, fingerprint, redact
from keyguard.report import Report
from keyguard.report.json import format_json
from keyguard.report.text import format_text, group_by_secret
from keyguard.signatures import load_builtin

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("KEYGUARD_UPDATE_GOLDEN") == "1"
RULES = {r.id: r for r in load_builtin()}
GOLDEN_RULES = ("github.pat", "github.fine-grained-pat")

FINDING_KEYS = [
    "rule_id",
    "title",
    "provider",
    "category",
    "severity",
    "confidence",
    "context",
    "path",
    "member",
    "where",
    "line",
    "column",
    "end_line",
    "end_column",
    "commit",
    "author",
    "date",
    "summary",
    "first_seen",
    "age_days",
    "in_head",
    "decoded",
    "preview",
    "fingerprint",
    "secret_hash",
    "playbook",
    "remediation",
    "tags",
    "paired_with",
    "key",
    "places",
]
SCAN_KEYS = [
    "kind",
    "targets",
    "files",
    "bytes",
    "skipped",
    "skipped_items",
    "errors",
    "duration_seconds",
    "complete",
    "findings",
    "rules",
    "ruleset",
    "matcher",
    "digest_key",
]


def seeded(rule_id: str, seed: int) -> str:
    return generate_secret(RULES[rule_id], random.Random(seed))


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path, list[str]]:
    """A deterministic tree: one classic token in two files, one fine-grained token, a binary.

    The scan runs with a config that disables every built-in rule but the two GitHub token rules,
    so rules added to the signature files later do not change the golden reports.
    """
    monkeypatch.chdir(tmp_path)
    classic = seeded("github.pat", 20240101)
    fine = seeded("github.fine-grained-pat", 7)
    root = tmp_path / "project"
    (root / "deploy").mkdir(parents=True)
    (root / "a.env").write_text(f"# local settings\nGITHUB_TOKEN={classic}\n", encoding="utf-8")
    (root / "deploy" / "ci.yml").write_text(
        f'env:\n  token: {classic}\n  other: "{fine}"\n', encoding="utf-8"
    )
    (root / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\0\0\0")
    # Hygiene assessments (key reuse: one token is in two files) have goldens of their own.
    disabled = sorted(set(RULES) - set(GOLDEN_RULES)) + sorted(ASSESSMENTS)
    config = tmp_path / "golden.toml"
    config.write_text(f"disable = {json.dumps(disabled)}\n", encoding="utf-8")
    return root, config, [classic, fine]


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(list(args))
    out, _ = capsys.readouterr()
    return code, out


def normalise_json(text: str, root: Path) -> str:
    document = json.loads(text)
    document["tool"]["version"] = "<version>"
    scan_part = document["scan"]
    scan_part["targets"] = [t.replace(str(root), "<root>") for t in scan_part["targets"]]
    scan_part["duration_seconds"] = 0.0
    for key in ("rules", "ruleset", "matcher"):
        scan_part[key] = f"<{key}>"
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def normalise_text(text: str) -> str:
    return re.sub(r"scanned in \d+\.\d\ds", "scanned in 0.00s", text)


def check_golden(name: str, actual: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.parent.mkdir(exist_ok=True)
        path.write_text(actual, encoding="utf-8")
    expected = path.read_text(encoding="utf-8")
    assert actual == expected, f"{name} differs; set KEYGUARD_UPDATE_GOLDEN=1 if intended"


# --- golden ----------------------------------------------------------------------------------


def test_json_golden(
    capsys: pytest.CaptureFixture[str], project: tuple[Path, Path, list[str]]
) -> None:
    root, config, secrets = project
    code, out = run(capsys, "scan", "-c", str(config), "-f", "json", str(root))
    assert code == 1
    assert not any(secret in out for secret in secrets)
    check_golden("report.json", normalise_json(out, root))


def test_text_golden(
    capsys: pytest.CaptureFixture[str], project: tuple[Path, Path, list[str]]
) -> None:
    root, config, secrets = project
    code, out = run(capsys, "scan", "-c", str(config), str(root))
    assert code == 1
    assert "\x1b[" not in out  # no colour when not writing to a terminal
    assert not any(secret in out for secret in secrets)
    check_golden("report.txt", normalise_text(out))


def test_golden_files_hold_no_secret(project: tuple[Path, Path, list[str]]) -> None:
    _, _, secrets = project
    prefixes = ("ghp_", "github_pat_")  # the rules' literal keywords, not secret material
    for path in GOLDEN.iterdir():
        text = path.read_text(encoding="utf-8")
        for secret, prefix in zip(secrets, prefixes, strict=True):
            assert secret.startswith(prefix)
            windows = [secret[i : i + 5] for i in range(len(secret) - 4) if i + 5 > len(prefix)]
            assert len(windows) == len(secret) - 4 - max(0, len(prefix) - 4)
            assert not [w for w in windows if w in text]


# --- shape -----------------------------------------------------------------------------------


def test_json_document_shape(
    capsys: pytest.CaptureFixture[str], project: tuple[Path, Path, list[str]]
) -> None:
    root, config, secrets = project
    _, out = run(capsys, "scan", "-c", str(config), "-f", "json", str(root))
    document = json.loads(out)
    assert list(document) == ["schema", "tool", "scan", "findings"]
    assert document["schema"] == "keyguard.report/3"
    assert document["tool"]["name"] == "keyguard"
    assert list(document["scan"]) == SCAN_KEYS
    scan_part = document["scan"]
    assert scan_part["complete"] is True
    assert scan_part["kind"] == "worktree"
    assert scan_part["skipped"] == {"binary": 1}
    assert scan_part["files"] == 2
    assert scan_part["findings"] == len(document["findings"]) == 3
    for finding in document["findings"]:
        assert list(finding) == FINDING_KEYS
        assert finding["commit"] is None
        assert re.fullmatch(r"[0-9a-f]{32}", finding["fingerprint"])
        assert re.fullmatch(r"[0-9a-f]{64}", finding["secret_hash"])
    by_place = {(f["path"], f["line"]): f for f in document["findings"]}
    classic = by_place[("a.env", 2)]
    assert (classic["column"], classic["end_line"], classic["end_column"]) == (14, 2, 54)
    assert classic["preview"] == redact(secrets[0]) == secrets[0][:4] + "…(40)"
    assert by_place[("deploy/ci.yml", 2)]["secret_hash"] == classic["secret_hash"]
    assert by_place[("deploy/ci.yml", 2)]["fingerprint"] != classic["fingerprint"]  # path differs

    _, shown = run(capsys, "scan", "-c", str(config), "-f", "json", "--show-secrets", str(root))
    shown_findings = json.loads(shown)["findings"]
    assert [list(f) for f in shown_findings] == [[*FINDING_KEYS, "secret"]] * 3
    assert {f["secret"] for f in shown_findings} == set(secrets)


def test_jsonl_is_one_finding_per_line(
    capsys: pytest.CaptureFixture[str], project: tuple[Path, Path, list[str]]
) -> None:
    root, config, _ = project
    _, document = run(capsys, "scan", "-c", str(config), "-f", "json", str(root))
    _, lines = run(capsys, "scan", "-c", str(config), "-f", "jsonl", str(root))
    assert lines.endswith("\n") and lines.count("\n") == 3
    assert [json.loads(line) for line in lines.splitlines()] == json.loads(document)["findings"]


def test_jsonl_of_a_clean_scan_is_empty(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "ok.txt").write_text("fine\n", encoding="utf-8")
    code, out = run(capsys, "scan", "--no-config", "-f", "jsonl", str(tmp_path))
    assert (code, out) == (0, "")


def test_text_groups_locations_by_secret(
    capsys: pytest.CaptureFixture[str], project: tuple[Path, Path, list[str]]
) -> None:
    root, config, _ = project
    _, out = run(capsys, "scan", "-c", str(config), str(root))
    lines = out.splitlines()
    headers = [line for line in lines if not line.startswith(" ")]
    assert len(headers) == 3  # two secrets and the summary
    classic = lines.index(next(h for h in headers if "[github.pat]" in h))
    assert lines[classic + 1 : classic + 3] == ["    a.env:2:14", "    deploy/ci.yml:2:10"]
    assert lines[-1].startswith("3 findings (2 secrets); 2 files")
    assert "skipped: 1 binary" in lines[-1]


def test_text_with_colour_and_history_details(compiled: CompiledRuleset) -> None:
    secret = seeded("github.pat", 3)
    findings = scan(f"key={secret}\n".encode(), "conf/[weird].txt", compiled).findings
    (finding,) = findings
    commit = Commit("0123456789abcdef0123", "Ann [bot]", "2024-02-03T04:05:06+00:00", "oops")
    with_commit = Finding(
        **{
            **{k: getattr(finding, k) for k in Finding.__dataclass_fields__},
            "commit": commit,
            "decoded": "base64",
        }
    )
    report = _report([with_commit])
    plain = format_text(report)
    assert (
        "    conf/[weird].txt:1:5  0123456789ab 2024-02-03 Ann [bot]  (in base64-encoded data)"
        in plain
    )
    coloured = format_text(report, color=True)
    assert "\x1b[" in coloured and secret not in coloured
    assert "[weird].txt" in coloured and "Ann [bot]" in coloured
    assert secret in format_text(report, show_secrets=True)


def test_group_by_secret_orders_by_severity() -> None:
    def make(rule_id: str, severity: str, secret: str, path: str) -> Finding:
        return Finding(rule_id, "t", "secret", severity, "high", path, 1, 1, 1, 2, secret)

    groups = group_by_secret(
        [
            make("b.rule", "low", "s1", "x"),
            make("a.rule", "critical", "s2", "y"),
            make("b.rule", "low", "s1", "z"),
            make("a.rule", "critical", "s3", "w"),
        ]
    )
    assert [[f.path for f in g] for g in groups] == [["w"], ["y"], ["x", "z"]]


def test_incomplete_report_lists_errors() -> None:
    report = _report([], errors=tuple(f"f{i}: Permission denied" for i in range(23)))
    text = format_text(report)
    assert "INCOMPLETE: 23 errors" in text
    assert text.count("error: f") == 20 and "... and 3 more errors" in text
    assert json.loads(format_json(report))["scan"]["complete"] is False


# --- fingerprints ----------------------------------------------------------------------------


_LINE = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"), max_size=40
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(above=st.lists(_LINE, max_size=30), seed=st.integers(0, 2**32))
def test_fingerprint_is_stable_under_edits_above(
    compiled: CompiledRuleset, above: list[str], seed: int
) -> None:
    secret = seeded("github.pat", seed)
    body = f"GITHUB_TOKEN={secret}\n"
    before = scan(body.encode(), "deploy/app.env", compiled).findings
    # About the fingerprint given a finding: a random token that happens to look like a
    # placeholder (a run of x) is filtered, which is another test's business.
    assume(before)
    after = scan(("\n".join([*above, ""]) + body).encode(), "deploy/app.env", compiled).findings
    assert [f.secret for f in before] == [secret]
    assert [f.secret for f in after] == [secret]
    assert after[0].fingerprint == before[0].fingerprint
    assert after[0].line == before[0].line + len(above)
    assert after[0].column == before[0].column


def test_fingerprint_through_the_cli(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    secret = seeded("github.pat", 99)
    target = tmp_path / "app.env"
    target.write_text(f"GITHUB_TOKEN={secret}\n", encoding="utf-8")
    _, first = run(capsys, "scan", "--no-config", "-f", "jsonl", str(tmp_path))
    target.write_text(f"# a comment\n\nNAME=demo\nGITHUB_TOKEN={secret}\n", encoding="utf-8")
    _, second = run(capsys, "scan", "--no-config", "-f", "jsonl", str(tmp_path))
    one, two = json.loads(first), json.loads(second)
    assert (one["line"], two["line"]) == (1, 4)
    assert one["fingerprint"] == two["fingerprint"]
    (tmp_path / "moved.env").write_text(target.read_text(encoding="utf-8"), encoding="utf-8")
    target.unlink()
    _, third = run(capsys, "scan", "--no-config", "-f", "jsonl", str(tmp_path))
    assert json.loads(third)["fingerprint"] != one["fingerprint"]  # the path is part of it


def test_fingerprint_ignores_path_spelling() -> None:
    assert fingerprint("r", "s", "./a/b.txt") == fingerprint("r", "s", "a\\b.txt")
    assert fingerprint("r", "s", "a/b.txt") != fingerprint("r", "t", "a/b.txt")
    assert fingerprint("r", "s", "a/b.txt") != fingerprint("q", "s", "a/b.txt")


def _report(findings: list[Finding], errors: tuple[str, ...] = ()) -> Report:
    return Report(
        kind="worktree",
        targets=("x",),
        findings=tuple(findings),
        files=1,
        bytes=10,
        skipped={},
        errors=errors,
        seconds=0.0,
        rules=1,
        ruleset="digest",
        matcher="test",
    )
