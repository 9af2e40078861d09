"""Halves of a credential found near each other name each other (an AWS key id and secret)."""

from __future__ import annotations

import json
import random
import string
from pathlib import Path

import pytest

from keyguard.cli import main


def _aws_pair(rng: random.Random) -> tuple[str, str]:
    key_id = "AKIA" + "".join(rng.choice(string.ascii_uppercase + "234567") for _ in range(16))
    secret = "".join(rng.choice(string.ascii_letters + string.digits + "/+") for _ in range(40))
    return key_id, secret


def _scan(capsys: pytest.CaptureFixture[str], path: Path) -> list[dict[str, object]]:
    main(["scan", str(path), "--no-config", "--format", "json"])
    findings: list[dict[str, object]] = json.loads(capsys.readouterr().out)["findings"]
    return findings


def test_credentials_file_pairs_key_id_and_secret(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key_id, secret = _aws_pair(random.Random(7))
    target = tmp_path / "credentials"
    target.write_text(
        f"[default]\naws_access_key_id = {key_id}\naws_secret_access_key = {secret}\n"
    )
    found = {str(f["rule_id"]): f for f in _scan(capsys, target)}
    key, sec = found["aws.access-key-id"], found["aws.secret-access-key"]
    assert key["paired_with"] == sec["secret_hash"]
    assert sec["paired_with"] == key["secret_hash"]


def test_far_apart_halves_are_not_paired(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key_id, secret = _aws_pair(random.Random(8))
    filler = "\n".join(f"# line {i}" for i in range(20))
    target = tmp_path / "settings.env"
    target.write_text(f"AWS_ACCESS_KEY_ID={key_id}\n{filler}\nAWS_SECRET_ACCESS_KEY={secret}\n")
    found = _scan(capsys, target)
    assert {f["rule_id"] for f in found} >= {"aws.access-key-id", "aws.secret-access-key"}
    assert all(f["paired_with"] is None for f in found)
