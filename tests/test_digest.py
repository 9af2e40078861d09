"""Keyed digests (keyguard.digest): where the key comes from, and what a report's reader can do.

Through the real CLI in subprocesses, each with its own environment: the suite's fixed key
(tests/__init__.py) is removed where the test is about the key file.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import random
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from keyguard.examples import generate_secret
from keyguard.signatures import load_builtin

RULE = next(r for r in load_builtin() if r.id == "github.pat")


def _tree(tmp_path: Path, seed: int = 1) -> tuple[Path, str]:
    root = tmp_path / "tree"
    root.mkdir()
    value = generate_secret(RULE, random.Random(seed))
    (root / "app.py").write_text(f'TOKEN = "{value}"\n', encoding="utf-8")
    return root, value


def _keyguard(
    *args: str, env: dict[str, str], cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "keyguard", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _env(tmp_path: Path, key: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "KEYGUARD_DIGEST_KEY"}
    env["XDG_CONFIG_HOME"] = str(tmp_path / "config")
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    if key is not None:
        env["KEYGUARD_DIGEST_KEY"] = key
    return env


def _finding(done: subprocess.CompletedProcess[str]) -> dict[str, object]:
    assert done.returncode == 1, done.stderr
    document = json.loads(done.stdout)
    (finding,) = document["findings"]
    assert isinstance(finding, dict)
    finding["digest_key"] = document["scan"]["digest_key"]
    return finding


def test_the_digest_is_an_hmac_under_the_configured_key(tmp_path: Path) -> None:
    root, value = _tree(tmp_path)
    key = "ci-secret-" + "k" * 24
    one = _finding(_keyguard("scan", str(root), "-f", "json", env=_env(tmp_path, key)))
    expected = hmac.new(key.encode(), b"keyguard.secret\0" + value.encode(), "sha256")
    assert one["secret_hash"] == expected.hexdigest()
    assert one["secret_hash"] != hashlib.sha256(value.encode()).hexdigest()
    other = _finding(_keyguard("scan", str(root), "-f", "json", env=_env(tmp_path, key + "2")))
    assert other["secret_hash"] != one["secret_hash"]
    assert other["fingerprint"] != one["fingerprint"]
    assert other["digest_key"] != one["digest_key"]
    assert key not in json.dumps(one)


def test_without_a_key_one_is_created_per_user_and_kept(tmp_path: Path) -> None:
    root, _ = _tree(tmp_path)
    env = _env(tmp_path, None)
    one = _finding(_keyguard("scan", str(root), "-f", "json", env=env))
    key_file = tmp_path / "config" / "keyguard" / "digest.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    again = _finding(_keyguard("scan", str(root), "-f", "json", env=env))
    assert again["secret_hash"] == one["secret_hash"]
    assert again["digest_key"] == one["digest_key"]


def test_a_key_file_others_can_read_is_not_used(tmp_path: Path) -> None:
    root, _ = _tree(tmp_path)
    key_file = tmp_path / "config" / "keyguard" / "digest.key"
    key_file.parent.mkdir(parents=True)
    key_file.write_text("ab" * 32 + "\n", encoding="ascii")
    key_file.chmod(0o644)
    env = _env(tmp_path, None)
    one = _finding(_keyguard("scan", str(root), "-f", "json", env=env))
    done = _keyguard("scan", str(root), "-f", "json", env=env)
    assert "digest.key is not a private key file" in done.stderr  # said, not silent
    two = _finding(done)
    # a key for each process instead: digests that compare with nothing
    assert one["digest_key"] != two["digest_key"]
    published = hmac.new(bytes.fromhex("ab" * 32), b"keyguard digest key id", "sha256")
    assert one["digest_key"] != published.hexdigest()[:16]


def test_a_short_key_is_a_usage_error(tmp_path: Path) -> None:
    root, _ = _tree(tmp_path)
    done = _keyguard("scan", str(root), env=_env(tmp_path, "short"))
    assert done.returncode == 2
    assert "KEYGUARD_DIGEST_KEY" in done.stderr and "16 characters" in done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""


def test_purge_plan_says_when_the_report_was_made_with_another_key(
    tmp_path: Path,
) -> None:
    root, _ = _tree(tmp_path)
    report = tmp_path / "report.json"
    made = _keyguard(
        "scan", str(root), "-f", "json", "-o", str(report), env=_env(tmp_path, "a" * 20 + "x")
    )
    assert made.returncode == 1, made.stderr
    done = _keyguard(
        "purge-plan",
        str(report),
        "--repo",
        str(root),
        env=_env(tmp_path, "b" * 20 + "y"),
        cwd=root,
    )
    assert done.returncode == 2, done.stderr
    assert "another key" in done.stderr and "KEYGUARD_DIGEST_KEY" in done.stderr


@pytest.mark.parametrize("fmt", ["json", "jsonl", "sarif", "github", "html", "text"])
def test_no_fast_digest_of_the_value_in_any_format(tmp_path: Path, fmt: str) -> None:
    root, value = _tree(tmp_path, seed=7)
    done = _keyguard("scan", str(root), "-f", fmt, env=_env(tmp_path, "k" * 32))
    assert done.returncode == 1, done.stderr
    for algorithm in ("md5", "sha1", "sha256", "sha512"):
        hexed = hashlib.new(algorithm, value.encode()).hexdigest()
        assert hexed[:16] not in done.stdout, algorithm
    assert value not in done.stdout
