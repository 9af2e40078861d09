"""Configuration files as users write them: `.keyguard.toml` and `[tool.keyguard]`."""

from __future__ import annotations

import io
import json
import random
import sys
from pathlib import Path
from typing import Any

import pytest
import regex

from keyguard.cli import main
from keyguard.config import Config, parse, parse_size
from keyguard.errors import ConfigError
from keyguard.examples import generate, generate_secret
from keyguard.signatures import load_builtin

RULES = {r.id: r for r in load_builtin()}

ACME_RULE = """
[[rule]]
id = "acme.key"
title = "Acme API key"
provider = "Acme"
category = "secret"
severity = "medium"
keywords = ["acme_"]
pattern = '''\\b(?P<secret>acme_[a-z0-9]{24})\\b'''
generate = '''acme_[a-z0-9]{24}'''
examples = ['ACME_KEY={{secret}}']
"""

# Disabling github.pat alone lets the generic rules (generic.*, and those marked generic, like
# dotenv.credential) report the token instead (as they should).
DISABLE_GITHUB = "disable = {}\n".format(
    json.dumps(["github.pat", *sorted(i for i, r in RULES.items() if r.generic)])
)


def github_token(seed: object = None) -> str:
    return generate_secret(RULES["github.pat"], random.Random(seed))


def acme_key(seed: object = None) -> str:
    return generate("acme_[a-z0-9]{24}", random.Random(seed))


def scan(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any] | None, str]:
    code = main(["scan", "-f", "json", *args])
    out, err = capsys.readouterr()
    return code, (json.loads(out) if out else None), err


def found(document: dict[str, Any] | None) -> set[tuple[str, str]]:
    assert document is not None
    return {(f["rule_id"], f["path"]) for f in document["findings"]}


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    root = tmp_path / "project"
    (root / "tests" / "fixtures").mkdir(parents=True)
    (root / "app.env").write_text(
        f"GITHUB_TOKEN={github_token()}\nACME_KEY={acme_key()}\n", encoding="utf-8"
    )
    (root / "tests" / "fixtures" / "token.txt").write_text(
        f"token: {github_token()}\n", encoding="utf-8"
    )
    return root


def test_without_config_only_builtin_rules_run(
    capsys: pytest.CaptureFixture[str], project: Path
) -> None:
    code, document, _ = scan(capsys, str(project))
    assert code == 1
    assert found(document) == {
        ("github.pat", "app.env"),
        ("github.pat", "tests/fixtures/token.txt"),
    }


def test_keyguard_toml_adds_rules_in_the_signature_format(
    capsys: pytest.CaptureFixture[str], project: Path
) -> None:
    (project / ".keyguard.toml").write_text(ACME_RULE, encoding="utf-8")
    code, document, _ = scan(capsys, str(project))
    assert code == 1
    assert ("acme.key", "app.env") in found(document)
    assert document is not None
    acme = next(f for f in document["findings"] if f["rule_id"] == "acme.key")
    assert (acme["title"], acme["severity"], acme["line"], acme["column"]) == (
        "Acme API key",
        "medium",
        2,
        10,
    )
    # --no-config ignores it, --config names another file explicitly.
    _, document, _ = scan(capsys, "--no-config", str(project))
    assert ("acme.key", "app.env") not in found(document)
    elsewhere = project.parent / "custom.toml"
    elsewhere.write_text(DISABLE_GITHUB + ACME_RULE, encoding="utf-8")
    _, document, _ = scan(capsys, "--config", str(elsewhere), str(project))
    assert found(document) == {("acme.key", "app.env")}


def test_pyproject_tool_keyguard(capsys: pytest.CaptureFixture[str], project: Path) -> None:
    (project / "pyproject.toml").write_text(
        f'[project]\nname = "demo"\n\n[tool.keyguard]\n{DISABLE_GITHUB}'
        + ACME_RULE.replace("[[rule]]", "[[tool.keyguard.rule]]"),
        encoding="utf-8",
    )
    code, document, _ = scan(capsys, str(project))
    assert code == 1
    assert found(document) == {("acme.key", "app.env")}


def test_pyproject_without_keyguard_table_is_ignored(
    capsys: pytest.CaptureFixture[str], project: Path
) -> None:
    (project / "pyproject.toml").write_text('[project]\nname = "demo"\n', encoding="utf-8")
    code, document, _ = scan(capsys, str(project))
    assert code == 1
    assert len(found(document)) == 2


def test_keyguard_toml_wins_over_pyproject(
    capsys: pytest.CaptureFixture[str], project: Path
) -> None:
    (project / "pyproject.toml").write_text(f"[tool.keyguard]\n{DISABLE_GITHUB}", encoding="utf-8")
    (project / ".keyguard.toml").write_text('[allow]\npaths = ["^tests/"]\n', encoding="utf-8")
    _, document, _ = scan(capsys, str(project))
    assert found(document) == {("github.pat", "app.env")}


def test_disable_and_unknown_disable(capsys: pytest.CaptureFixture[str], project: Path) -> None:
    config = project / ".keyguard.toml"
    config.write_text(DISABLE_GITHUB, encoding="utf-8")
    code, document, _ = scan(capsys, str(project))
    assert code == 0
    assert found(document) == set()
    config.write_text('disable = ["github.pat", "no.such-rule"]\n', encoding="utf-8")
    code, document, err = scan(capsys, str(project))
    assert code == 2
    assert document is None
    assert str(config) in err and "no.such-rule" in err


def test_allow_paths_and_values(capsys: pytest.CaptureFixture[str], project: Path) -> None:
    config = project / ".keyguard.toml"
    config.write_text("[allow]\npaths = ['^tests/fixtures/']\n", encoding="utf-8")
    _, document, _ = scan(capsys, str(project))
    assert found(document) == {("github.pat", "app.env")}

    allowed = github_token()
    (project / "more.env").write_text(
        f"A={allowed}\nB={github_token()}\nC={allowed}\n", encoding="utf-8"
    )
    config.write_text(
        f"[allow]\nvalues = ['^{regex.escape(allowed[:12])}']\npaths = ['^(app|tests/)']\n",
        encoding="utf-8",
    )
    _, document, _ = scan(capsys, str(project))
    assert document is not None
    assert [(f["path"], f["line"]) for f in document["findings"]] == [("more.env", 2)]


def test_allow_by_rule(capsys: pytest.CaptureFixture[str], project: Path) -> None:
    (project / ".keyguard.toml").write_text(
        ACME_RULE + "\n[allow.rules.\"github.pat\"]\npaths = ['\\.env$']\n", encoding="utf-8"
    )
    _, document, _ = scan(capsys, str(project))
    # the acme key in app.env is still reported: the allow entry is for github.pat only
    assert found(document) == {("acme.key", "app.env"), ("github.pat", "tests/fixtures/token.txt")}


def test_inline_allow_comment(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "code.py").write_text(
        f'TOKEN = "{github_token()}"  # keyguard:allow test fixture\n'
        f'OTHER = "{github_token()}"\n'
        f"# keyguard:allow applies to its own line only\n",
        encoding="utf-8",
    )
    code, document, _ = scan(capsys, "--no-config", str(tmp_path))
    assert code == 1
    assert document is not None
    assert [f["line"] for f in document["findings"]] == [2]


def test_config_rule_overrides_builtin_rule_by_id(
    capsys: pytest.CaptureFixture[str], project: Path
) -> None:
    rule = RULES["github.pat"]
    (project / ".keyguard.toml").write_text(
        "[[rule]]\n"
        'id = "github.pat"\ntitle = "Our GitHub token"\nprovider = "GitHub"\n'
        'category = "secret"\nseverity = "critical"\nkeywords = ["ghp_"]\n'
        f"pattern = '''{rule.pattern}'''\nexamples = ['x']\n",
        encoding="utf-8",
    )
    _, document, _ = scan(capsys, str(project))
    assert document is not None
    assert {(f["title"], f["severity"]) for f in document["findings"]} == {
        ("Our GitHub token", "critical")
    }


def test_extend_default_false_runs_only_config_rules(
    capsys: pytest.CaptureFixture[str], project: Path
) -> None:
    (project / ".keyguard.toml").write_text(
        "extend_default = false\n" + ACME_RULE, encoding="utf-8"
    )
    _, document, _ = scan(capsys, str(project))
    assert found(document) == {("acme.key", "app.env")}
    assert document is not None and document["scan"]["rules"] == 1


def test_disabling_every_rule_is_an_error(
    capsys: pytest.CaptureFixture[str], project: Path
) -> None:
    ids = ", ".join(f'"{rule_id}"' for rule_id in RULES)
    (project / ".keyguard.toml").write_text(f"disable = [{ids}]\n", encoding="utf-8")
    for matcher in ("pyahocorasick", "hyperscan"):
        code, _, err = scan(capsys, "--matcher", matcher, str(project))
        assert code == 2, err
        assert "no rules left to run" in err


def test_stdin_uses_the_config_of_the_current_directory(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".keyguard.toml").write_text(ACME_RULE, encoding="utf-8")
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(f"{acme_key()}\n".encode())))
    code, document, _ = scan(capsys, "-")
    assert code == 1
    assert found(document) == {("acme.key", "<stdin>")}


# --- errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "fragments"),
    [
        ("disable = [", ["invalid TOML"]),
        ("surprise = 1\n", ["unknown setting(s): surprise"]),
        ("[allow]\npath = ['x']\n", ["unknown [allow] setting(s): path"]),
        ('[allow.rules."github.pat"]\npath = ["x"]\n', ["github.pat", "unknown setting(s): path"]),
        ('[allow.rules."no.such-rule"]\npaths = ["x"]\n', ["[allow.rules]", "no.such-rule"]),
        ("[allow]\npaths = ['(unclosed']\n", ["[allow] paths", "does not compile"]),
        ("[allow]\nvalues = 'abc'\n", ["[allow] values", "list of regular expressions"]),
        ('disable = "github.pat"\n', ["`disable` must be a list"]),
        ('max_file_size = "lots"\n', ["max_file_size must be a size"]),
        ("max_file_size = 0\n", ["max_file_size must be a size"]),
        ('extend_default = "no"\n', ["`extend_default` must be true or false"]),
        (ACME_RULE.replace('severity = "medium"', 'severity = "dire"'), ["'acme.key'", "severity"]),
        (
            ACME_RULE.replace("pattern = '''", "pattern = '''(?P<"),
            ["'acme.key'", "does not compile"],
        ),
        (
            ACME_RULE.replace('title = "Acme API key"\n', ""),
            ["'acme.key'", "missing required field `title`"],
        ),
        (ACME_RULE + "colour = 'red'\n", ["'acme.key'", "unknown field(s): colour"]),
        (
            ACME_RULE.replace('keywords = ["acme_"]', 'keywords = ["ac"]'),
            ["'acme.key'", "at least 3"],
        ),
        (ACME_RULE + ACME_RULE, ["'acme.key'", "duplicate id"]),
    ],
)
def test_bad_config_names_file_rule_and_problem(
    capsys: pytest.CaptureFixture[str], project: Path, content: str, fragments: list[str]
) -> None:
    config = project / ".keyguard.toml"
    config.write_text(content, encoding="utf-8")
    code, document, err = scan(capsys, str(project))
    assert code == 2
    assert document is None
    assert err.startswith(f"keyguard: error: {config}: ")
    for fragment in fragments:
        assert fragment in err
    assert "Traceback" not in err


def test_bad_pyproject_table_names_pyproject(
    capsys: pytest.CaptureFixture[str], project: Path
) -> None:
    pyproject = project / "pyproject.toml"
    pyproject.write_text("[tool.keyguard]\nunknown_thing = true\n", encoding="utf-8")
    code, _, err = scan(capsys, str(project))
    assert code == 2
    assert f"{pyproject}: unknown setting(s): unknown_thing" in err
    pyproject.write_text('[tool]\nkeyguard = "on"\n', encoding="utf-8")
    code, _, err = scan(capsys, str(project))
    assert code == 2
    assert "[tool.keyguard] must be a table" in err


def test_config_can_never_run_code(
    capsys: pytest.CaptureFixture[str], project: Path, tmp_path: Path
) -> None:
    """Strings that would run code if anything evaluated them stay data (or are rejected)."""
    marker = tmp_path / "pwned"
    payload = f"__import__('pathlib').Path({str(marker)!r}).touch()"
    config = project / ".keyguard.toml"
    config.write_text(
        ACME_RULE.replace('title = "Acme API key"', f'title = "{payload}"').replace(
            'provider = "Acme"', f'provider = "{payload}"'
        )
        + f'remediation = "{payload}"\n'
        + f'description = "{payload}"\n'
        + f"\n[allow]\nvalues = ['''{payload}''']\n",
        encoding="utf-8",
    )
    code, document, err = scan(capsys, str(project))
    assert code == 1, err
    assert document is not None
    assert any(f["title"] == payload for f in document["findings"])  # shown, not run
    assert not marker.exists()

    # Names of Python callables are not accepted where a validator or filter is named.
    for field, value in (("validator", "os.system"), ("filters", ["builtins.eval"])):
        rule = ACME_RULE + f"{field} = {json.dumps(value)}\n"
        config.write_text(rule, encoding="utf-8")
        code, _, err = scan(capsys, str(project))
        assert code == 2
        assert "unknown" in err
    assert not marker.exists()


# --- units -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "size"),
    [("1KB", 1024), ("1kb", 1024), ("2 MiB", 2 * 1024**2), ("10MB", 10 * 1024**2), ("512", 512)],
)
def test_parse_size(text: str, size: int) -> None:
    assert parse_size(text, "x") == size


@pytest.mark.parametrize("raw", ["0", "0KB", "-1", "1TB", "", True, 0, -5, 1.5, "ten"])
def test_parse_size_rejects(raw: object) -> None:
    with pytest.raises(ConfigError, match="max_file_size"):
        parse_size(raw, "cfg.toml")


def test_parse_defaults() -> None:
    config = parse({}, "empty.toml")
    assert config == Config(source="empty.toml", allow=config.allow)
    assert config.max_file_size == 10 * 1024 * 1024
    assert config.extend_default is True
