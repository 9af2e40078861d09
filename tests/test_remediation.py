"""Playbooks: every rule has one, the data validates itself, and reports carry the steps."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from keyguard.cli import main
from keyguard.errors import ConfigError
from keyguard.examples import generate_secret
from keyguard.hygiene import ASSESSMENTS
from keyguard.remediation import ACTIONS, load_builtin_playbooks, parse_playbooks, steps_for
from keyguard.signatures import load_builtin

RULES = {r.id: r for r in load_builtin()}


def test_every_rule_and_assessment_has_a_playbook_with_steps() -> None:
    books = load_builtin_playbooks()
    missing = sorted(r.id for r in RULES.values() if r.remediation not in books)
    assert missing == []
    assert all(a.playbook in books for a in ASSESSMENTS.values())
    for book in books.values():
        assert book.steps and all(s.action in ACTIONS for s in book.steps)
        assert all(s.url is None or s.url.startswith("https://") for s in book.steps)


def test_secrets_end_with_purging_history_and_root_keys_start_with_delete() -> None:
    books = load_builtin_playbooks()
    steps = steps_for("github-token", "secret", books)
    assert [s.action for s in steps][-2:] == ["purge-history", "notify"]
    root = steps_for(RULES["aws.root-access-key-id"].remediation, "root-key", books)
    assert root[0].action == "delete" and "not rotate" in root[0].text
    aws = [s.action for s in steps_for("aws-access-key", "secret", books)]
    assert aws.index("revoke") < aws.index("review-access-logs") < aws.index("delete")
    assert "cloudtrail" in steps_for("aws-access-key", "secret", books)[1].command  # type: ignore[operator]


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        (
            {"id": "x", "title": "X", "steps": [{"action": "pray", "text": "Hope it goes away."}]},
            "pray",
        ),
        ({"id": "x", "title": "X", "steps": [{"action": "revoke", "text": "short"}]}, "sentence"),
        (
            {
                "id": "x",
                "title": "X",
                "steps": [{"action": "revoke", "text": "Revoke it at once.", "url": "http://x"}],
            },
            "https",
        ),
        ({"id": "x", "title": "X", "steps": []}, "non-empty"),
        (
            {
                "id": "x",
                "title": "X",
                "steps": [{"action": "revoke", "text": "Revoke it now.", "why": 1}],
            },
            "unknown",
        ),
        ({"title": "X", "steps": [{"action": "revoke", "text": "Revoke it now."}]}, "`id`"),
    ],
)
def test_bad_playbooks_are_clear_errors(entry: dict[str, object], problem: str) -> None:
    with pytest.raises(ConfigError, match=problem):
        parse_playbooks([entry], "x.toml")


def test_duplicate_playbook_ids_are_an_error() -> None:
    entry = {"id": "x", "title": "X", "steps": [{"action": "revoke", "text": "Revoke it now."}]}
    with pytest.raises(ConfigError, match="twice"):
        parse_playbooks([entry, entry], "x.toml")


RULE_FILE = """
[[rule]]
id = "acme.token"
title = "Acme token"
provider = "Acme"
category = "secret"
severity = "high"
keywords = ["acme_"]
pattern = '''(?P<secret>acme_[a-z0-9]{24})'''
generate = '''acme_[a-z0-9]{24}'''
remediation = "acme-token"
examples = ['ACME={{secret}}']
"""
PLAYBOOK = """
[[playbook]]
id = "acme-token"
title = "Acme token"
steps = [{ action = "revoke", text = "Revoke the token in the Acme console.", url = "https://acme.example/tokens" }]
"""


def test_signatures_check_fails_a_rule_without_a_playbook(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rules = tmp_path / "acme.toml"
    rules.write_text(RULE_FILE, encoding="utf-8")
    assert main(["signatures", "check", str(rules), "--seed", "1"]) == 1
    assert "playbook 'acme-token'" in capsys.readouterr().err
    rules.write_text(RULE_FILE + PLAYBOOK, encoding="utf-8")
    assert main(["signatures", "check", str(rules), "--seed", "1"]) == 0


def test_config_playbook_reaches_the_report_and_explain(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / ".keyguard.toml"
    config.write_text(RULE_FILE + PLAYBOOK, encoding="utf-8")
    rng = random.Random(7)
    token = "acme_" + "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(24))
    (tmp_path / "app.env").write_text(f"ACME={token}\n", encoding="utf-8")
    assert main(["scan", str(tmp_path), "--format", "json"]) == 1
    finding = json.loads(capsys.readouterr().out)["findings"][0]
    assert finding["playbook"] == "acme-token"
    assert finding["remediation"][0] == {
        "action": "revoke",
        "text": "Revoke the token in the Acme console.",
        "url": "https://acme.example/tokens",
    }
    assert [s["action"] for s in finding["remediation"]][-2:] == ["purge-history", "notify"]
    assert finding["tags"][:2] == ["IA-5", "SC-28"]


def test_explain(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "aws.access-key-id", "--no-config"]) == 0
    out = capsys.readouterr().out
    assert "aws iam update-access-key" in out and "cloudtrail" in out
    assert main(["explain", "hygiene.rotation-overdue", "--no-config"]) == 0
    assert "rotate" in capsys.readouterr().out
    assert main(["explain", "aws.acess-key-id", "--no-config"]) == 2
    err = capsys.readouterr().err
    assert "unknown rule" in err and "aws.access-key-id" in err


def test_text_report_shows_the_first_steps(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    token = generate_secret(RULES["github.pat"], random.Random(3))
    (tmp_path / "a.env").write_text(f"GITHUB_TOKEN={token}\n", encoding="utf-8")
    assert main(["scan", str(tmp_path), "--no-config"]) == 1
    out = capsys.readouterr().out
    assert "1. revoke:" in out and "2. review-access-logs:" in out
    assert "keyguard explain github.pat" in out
