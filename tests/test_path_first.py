"""`path_first` rules (.pypirc, murmur.ini...) skip a history's blob pass at "any path" and are
read where a blob sits at one of their paths: through the real CLI on real repositories, with
and without the cache, including a blob first committed elsewhere and later copied to such a
path (its blob pass, cached, never ran the rule)."""

from __future__ import annotations

import json
import random
import string
from pathlib import Path
from typing import Any

import pytest

from keyguard.cli import main
from keyguard.engine import compile_default, scan
from keyguard.errors import ConfigError
from keyguard.signatures import load_builtin, parse_rule
from tests.conftest import GitRepo
from tests.test_history import audit, commit
from tests.test_signatures import _rule


def strong(rng: random.Random) -> str:
    pool = string.ascii_letters + string.digits
    return "".join(rng.choice(pool) for _ in range(16)) + rng.choice("!#%^*?") + "7"


def pypirc(password: str) -> str:
    return (
        "[distutils]\nindex-servers =\n    internal\n\n[internal]\n"
        "repository = https://pypi.corp.example/simple/\nusername = deploy\n"
        f"password = {password}\n"
    )


def rules_at(findings: list[dict[str, Any]], rule_id: str) -> list[tuple[str, int]]:
    return sorted((f["path"], f["line"]) for f in findings if f["rule_id"] == rule_id)


def test_builtin_path_first_rules_have_paths_and_keywords() -> None:
    flagged = [r for r in load_builtin() if r.path_first]
    assert {"pypirc.password", "netrc.password", "voice-server.password"} <= {r.id for r in flagged}
    assert all(r.paths and r.keywords for r in flagged)


def test_path_first_without_paths_is_a_config_error() -> None:
    entry = _rule(path_first=True)
    with pytest.raises(ConfigError, match="`path_first` needs `paths`"):
        parse_rule(entry, "rules.toml", 0)
    with pytest.raises(ConfigError, match="true or false"):
        parse_rule({**entry, "paths": ["x$"], "path_first": "yes"}, "rules.toml", 0)


def test_the_engine_runs_them_only_at_a_path() -> None:
    compiled = compile_default()
    data = pypirc(strong(random.Random(5))).encode()
    at_path = {f.rule_id for f in scan(data, ".pypirc", compiled).findings}
    anywhere = {f.rule_id for f in scan(data, None, compiled).findings}
    assert "pypirc.password" in at_path
    assert "pypirc.password" not in anywhere


@pytest.mark.parametrize("cached", [True, False], ids=["cache", "no-cache"])
def test_history_reads_their_files_where_they_were_committed(
    capsys: pytest.CaptureFixture[str], repo: GitRepo, cached: bool
) -> None:
    rng = random.Random(11)
    first, copied = strong(rng), strong(rng)
    flags = () if cached else ("--no-cache",)
    repo.write(".pypirc", pypirc(first))
    # The same text at a path the rule does not read: no pypirc finding there.
    repo.write("docs/pypirc-notes.txt", pypirc(copied))
    commit(repo, "packaging", 1)
    result = audit(capsys, repo.path, *flags)
    assert result.code == 1, result.err
    assert rules_at(result.findings, "pypirc.password") == [(".pypirc", 8)]
    assert first not in result.out and copied not in result.out
    # The notes' blob, scanned (and cached) before, is copied to a path the rule reads.
    (repo.path / "deploy").mkdir()
    (repo.path / "deploy" / ".pypirc").write_bytes(
        (repo.path / "docs" / "pypirc-notes.txt").read_bytes()
    )
    commit(repo, "deploy config", 2)
    again = audit(capsys, repo.path, *flags)
    assert again.code == 1, again.err
    assert rules_at(again.findings, "pypirc.password") == [(".pypirc", 8), ("deploy/.pypirc", 8)]


def test_a_tree_scan_is_unchanged(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / ".pypirc").write_text(pypirc(strong(random.Random(3))))
    (tmp_path / "murmur.ini").write_text(f"serverpassword={strong(random.Random(4))}\n")
    code = main(["scan", str(tmp_path), "--no-config", "--format", "json", "-j", "1"])
    findings = json.loads(capsys.readouterr().out)["findings"]
    assert code == 1
    assert {f["rule_id"] for f in findings} >= {"pypirc.password", "voice-server.password"}
