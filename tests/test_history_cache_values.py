"""The re-audit cache keeps hashes and previews, never secret values; values come back from the
blobs when --show-secrets or a value allowlist needs them."""

from __future__ import annotations

import json
import random
from collections.abc import Callable

import pytest

from keyguard.cli import main
from keyguard.examples import generate_secret
from keyguard.signatures import load_builtin
from tests.conftest import GitRepo

GITHUB_PAT = next(r for r in load_builtin() if r.id == "github.pat")


def _history(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, object]:
    capsys.readouterr()
    main(["history", *args, "--format", "json", "--jobs", "1"])
    document: dict[str, object] = json.loads(capsys.readouterr().out)
    # The commits are dated 2024: a rotation-overdue hygiene finding comes with each secret.
    found = document["findings"]
    assert isinstance(found, list)
    document["findings"] = [f for f in found if f["category"] != "hygiene"]
    return document


def test_cache_holds_no_value_and_show_secrets_still_works(
    git_repo: Callable[..., GitRepo], capsys: pytest.CaptureFixture[str]
) -> None:
    repo = git_repo()
    secret = generate_secret(GITHUB_PAT, random.Random("cache-values"))
    repo.write("app.env", f"GITHUB_TOKEN={secret}\n")
    repo.commit("add token")
    first = _history(capsys, str(repo.path), "--no-config")
    cache = repo.path / ".git" / "keyguard" / "history-cache.json"
    assert cache.is_file()
    assert secret not in cache.read_text(encoding="utf-8")
    assert secret[4:12] not in cache.read_text(encoding="utf-8")

    repo.write("other.txt", "unrelated\n")
    repo.commit("unrelated")
    again = _history(capsys, str(repo.path), "--no-config", "--show-secrets")
    findings = again["findings"]
    assert isinstance(findings, list) and len(findings) == 1
    assert findings[0]["secret"] == secret
    assert findings[0]["fingerprint"] == first["findings"][0]["fingerprint"]  # type: ignore[index]
    assert secret not in cache.read_text(encoding="utf-8")


def test_value_allowlist_applies_to_cached_findings(
    git_repo: Callable[..., GitRepo], capsys: pytest.CaptureFixture[str]
) -> None:
    repo = git_repo()
    secret = generate_secret(GITHUB_PAT, random.Random("cache-allow"))
    repo.write("app.env", f"GITHUB_TOKEN={secret}\n")
    repo.commit("add token")
    _history(capsys, str(repo.path), "--no-config")  # fills the cache
    config = repo.path.parent / "allow.toml"
    config.write_text(f"[allow]\nvalues = ['^{secret[:20]}']\n", encoding="utf-8")
    allowed = _history(capsys, str(repo.path), "--config", str(config))
    assert allowed["findings"] == []
