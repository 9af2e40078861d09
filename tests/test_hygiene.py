"""Key hygiene from findings, through the real CLI: rotation age on backdated history, key reuse
across files and environments, weak and encrypted private keys, root keys named as such."""

from __future__ import annotations

import json
import random
import shutil
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from keyguard.cli import main
from keyguard.examples import generate_secret
from keyguard.keyinfo import describe, is_weak
from keyguard.signatures import load_builtin
from tests.conftest import GitRepo

RULES = {r.id: r for r in load_builtin()}


def secret(rule_id: str, seed: str) -> str:
    return generate_secret(RULES[rule_id], random.Random(seed))


def run_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[dict[str, Any]]]:
    capsys.readouterr()
    code = main([*args, "--format", "json"])
    return code, json.loads(capsys.readouterr().out)["findings"]


def by_rule(findings: list[dict[str, Any]], rule_id: str) -> list[dict[str, Any]]:
    return [f for f in findings if f["rule_id"] == rule_id]


def days_ago(n: int) -> str:
    return (datetime.now(UTC) - timedelta(days=n)).isoformat(timespec="seconds")


def test_rotation_overdue_on_backdated_history(
    git_repo: Callable[..., GitRepo], capsys: pytest.CaptureFixture[str]
) -> None:
    repo = git_repo()
    old, kept, fresh = (secret("github.pat", s) for s in ("old", "kept", "fresh"))
    repo.write("ancient.env", f"GITHUB_TOKEN={old}\n")
    repo.write("still.env", f"GITHUB_TOKEN={kept}\n")
    repo.commit("long ago", date=days_ago(800))
    (repo.path / "ancient.env").unlink()
    repo.commit("removed", date=days_ago(700))
    repo.write("new.env", f"GITHUB_TOKEN={fresh}\n")
    repo.commit("recent", date=days_ago(30))
    code, findings = run_json(capsys, "history", str(repo.path), "--no-config", "--no-cache")
    assert code == 1
    overdue = {f["path"]: f for f in by_rule(findings, "hygiene.rotation-overdue")}
    assert set(overdue) == {"ancient.env", "still.env"}  # the 30-day-old one is not overdue
    assert overdue["still.env"]["severity"] == "medium"  # still in HEAD ranks above
    assert overdue["ancient.env"]["severity"] == "low"  # history only
    assert (
        "800 days old" in overdue["still.env"]["title"]
        or "799 days old" in overdue["still.env"]["title"]
    )
    assert overdue["still.env"]["category"] == "hygiene"
    assert overdue["still.env"]["remediation"][0]["action"] == "rotate"
    assert "SP800-57:cryptoperiod" in overdue["still.env"]["tags"]
    # A shorter rotation period in the configuration makes the recent one overdue too.
    (repo.path / ".keyguard.toml").write_text("rotation_days = 20\n", encoding="utf-8")
    _, findings = run_json(capsys, "history", str(repo.path), "--no-cache")
    assert len(by_rule(findings, "hygiene.rotation-overdue")) == 3


def test_key_reuse_is_one_finding_listing_every_place(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shared, alone = secret("github.pat", "shared"), secret("github.pat", "alone")
    for place in ("config/dev/app.env", "config/prod/app.env", "ci/deploy.yml"):
        (tmp_path / place).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / place).write_text(f"# settings\nGITHUB_TOKEN={shared}\n", encoding="utf-8")
    (tmp_path / "solo.env").write_text(f"GITHUB_TOKEN={alone}\n", encoding="utf-8")
    code, findings = run_json(capsys, "scan", str(tmp_path), "--no-config")
    assert code == 1
    (reuse,) = by_rule(findings, "hygiene.key-reuse")
    assert reuse["places"] == ["ci/deploy.yml:2", "config/dev/app.env:2", "config/prod/app.env:2"]
    assert reuse["severity"] == "high"  # dev and prod share it
    assert "3 places" in reuse["title"]
    assert shared not in json.dumps(reuse) and reuse["preview"].startswith("ghp_")
    assert len(by_rule(findings, "github.pat")) == 4
    # Reuse within one environment is medium.
    shutil.rmtree(tmp_path / "config" / "prod")
    _, findings = run_json(capsys, "scan", str(tmp_path), "--no-config")
    assert by_rule(findings, "hygiene.key-reuse")[0]["severity"] == "medium"


def test_assessments_can_be_disabled(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shared = secret("github.pat", "disable")
    for name in ("a.env", "b.env"):
        (tmp_path / name).write_text(f"GITHUB_TOKEN={shared}\n", encoding="utf-8")
    config = tmp_path / "kg.toml"
    config.write_text('disable = ["hygiene.key-reuse"]\n', encoding="utf-8")
    _, findings = run_json(capsys, "scan", str(tmp_path), "-c", str(config))
    assert by_rule(findings, "hygiene.key-reuse") == []


def _openssl(*args: str) -> str:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    return subprocess.run(["openssl", *args], capture_output=True, text=True, check=True).stdout


def test_weak_and_strong_private_keys(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    weak = _openssl("genrsa", "-traditional", "1024")
    strong = _openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048")
    edwards = _openssl("genpkey", "-algorithm", "ed25519")
    assert (describe(weak), describe(strong), describe(edwards)) == (
        "rsa:1024",
        "rsa:2048",
        "ed25519",
    )
    assert is_weak("rsa:1024") and is_weak("dsa:2048") and not is_weak("rsa:3072")
    (tmp_path / "weak.pem").write_text(weak, encoding="utf-8")
    (tmp_path / "strong.pem").write_text(strong, encoding="utf-8")
    code, findings = run_json(capsys, "scan", str(tmp_path), "--no-config")
    assert code == 1
    keys = {f["path"]: f for f in findings if f["category"] == "private-key"}
    assert keys["weak.pem"]["key"] == "rsa:1024" and keys["strong.pem"]["key"] == "rsa:2048"
    assert {f["severity"] for f in keys.values()} == {"critical"}  # unencrypted keys
    (weak_finding,) = by_rule(findings, "hygiene.weak-private-key")
    assert weak_finding["path"] == "weak.pem" and weak_finding["severity"] == "high"
    assert "1024-bit RSA" in weak_finding["title"]


def test_encrypted_private_key_is_a_low_note(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plain = tmp_path / "plain.pem"
    plain.write_text(_openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"))
    encrypted = _openssl(
        "pkcs8", "-topk8", "-v2", "aes-256-cbc", "-passout", "pass:correct horse", "-in", str(plain)
    )
    plain.unlink()
    (tmp_path / "enc.pem").write_text(encrypted, encoding="utf-8")
    code, findings = run_json(capsys, "scan", str(tmp_path), "--no-config")
    assert code == 1
    (note,) = findings
    assert note["rule_id"] == "private-key.encrypted" and note["severity"] == "low"
    assert note["playbook"] == "private-key-encrypted"


@pytest.mark.parametrize(
    ("text", "root"),
    [
        ("AWS_ROOT_ACCESS_KEY_ID={key}\n", True),
        ("[root]\naws_access_key_id = {key}\naws_secret_access_key = {other}\n", True),
        ('{{"Arn": "arn:aws:iam::123456789012:root",\n "AccessKeyId": "{key}"}}\n', True),
        ("AWS_ACCESS_KEY_ID={key}\n", False),
        ("[default]\naws_access_key_id = {key}\n", False),
        ("# arn:aws:iam::123456789012:user/root\nAWS_ACCESS_KEY_ID={key}\n", False),
        ("ROOT_DIR=/srv\nAWS_ACCESS_KEY_ID={key}\n", False),
        ('"Principal": {{"AWS": "arn:aws:iam::123456789012:role/root"}}, "key": "{key}"\n', False),
    ],
)
def test_root_keys_are_named_and_ordinary_keys_never_are(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, root: bool
) -> None:
    key = secret("aws.access-key-id", text)
    other = generate_secret(RULES["aws.secret-access-key"], random.Random(text))
    path = tmp_path / ".aws" / "credentials" if text.startswith("[") else tmp_path / "settings.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text.format(key=key, other=other), encoding="utf-8")
    _, findings = run_json(capsys, "scan", str(tmp_path), "--no-config", "--all-files")
    of_key = [
        f for f in findings if f["preview"].startswith(key[:4]) and f["category"] != "hygiene"
    ]
    assert of_key, findings
    categories = {f["category"] for f in of_key}
    if root:
        assert categories == {"root-key"}
        assert {f["severity"] for f in of_key} == {"critical"}
        assert of_key[0]["remediation"][0]["action"] == "delete"
    else:
        assert "root-key" not in categories
