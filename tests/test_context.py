"""Findings are ranked by where they sit (keyguard.context): code first, then examples, tests and
documentation; every report says which. Through the real CLI on files built at test time."""

from __future__ import annotations

import json
import random
import subprocess
from pathlib import Path

import pytest

from keyguard.context import CODE, DOCUMENTATION, EXAMPLE, TEST, context_of
from keyguard.examples import generate_secret
from keyguard.signatures import load_builtin

GITHUB_PAT = {r.id: r for r in load_builtin()}["github.pat"]


@pytest.mark.parametrize(
    ("path", "context"),
    [
        ("src/app.py", CODE),
        ("requirements.txt", CODE),
        (".env", CODE),
        ("deploy/prod.env", CODE),
        ("<commit message>", CODE),
        ("tests/test_api.py", TEST),
        ("t/lib-gpg/keyring.gpg", TEST),  # git.git's test directory
        ("pkg/api_test.go", TEST),
        ("web/src/login.spec.ts", TEST),
        ("src/test/java/AppTest.java", TEST),
        ("conftest.py", TEST),
        ("spec/fixtures/docs/setup.md", TEST),  # a test's fixture, whatever its kind
        ("docs/setup.md", DOCUMENTATION),
        ("README.md", DOCUMENTATION),
        ("Documentation/config.txt", DOCUMENTATION),
        ("examples/deploy.yml", EXAMPLE),
        (".env.example", EXAMPLE),
        ("config/settings.sample.yml", EXAMPLE),
    ],
)
def test_context_of_a_path(path: str, context: str) -> None:
    assert context_of(path) == context


def run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["keyguard", "scan", ".", "--no-config", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )


def test_every_report_says_the_context_and_text_shows_code_first(tmp_path: Path) -> None:
    rng = random.Random(7)
    files = {
        "docs/setup.md": "export GITHUB_TOKEN={}\n",
        "tests/test_client.py": 'TOKEN = "{}"\n',
        "src/client.py": 'TOKEN = "{}"\n',
        "examples/ci.yml": "token: {}\n",
    }
    for name, template in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(template.format(generate_secret(GITHUB_PAT, rng)))
    done = run(tmp_path, "--format", "json")
    assert done.returncode == 1, done.stderr
    contexts = {f["path"]: f["context"] for f in json.loads(done.stdout)["findings"]}
    assert contexts == {
        "docs/setup.md": "documentation",
        "tests/test_client.py": "test",
        "src/client.py": "",
        "examples/ci.yml": "example",
    }
    sarif = json.loads(run(tmp_path, "--format", "sarif").stdout)
    props = {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]: r["properties"]
        for r in sarif["runs"][0]["results"]
    }
    assert props["tests/test_client.py"]["context"] == "test"
    assert "context" not in props["src/client.py"]
    text = run(tmp_path).stdout
    order = [name for name in files if name in text]
    assert sorted(order, key=text.index) == [
        "src/client.py",
        "examples/ci.yml",
        "tests/test_client.py",
        "docs/setup.md",
    ]
    assert "tests/test_client.py:1:" in text and "(in a test)" in text


def test_a_yaml_alias_is_a_reference_not_a_password(tmp_path: Path) -> None:
    (tmp_path / "group_vars.yml").write_text(
        "defaults: &db_password\n  x: 1\nservice:\n  password: *db_password\n"
        "  db_password: *configure  # shared\n",
        encoding="utf-8",
    )
    done = run(tmp_path, "--format", "json")
    assert done.returncode == 0, done.stdout
    # ...while a value that only starts with `*` is still a value.
    value = "*" + "".join(random.Random(3).choices("abcdefghjkmnpqrstuvwxyzXKMP23456789#", k=15))
    (tmp_path / "app.yml").write_text(f"password: '{value}'\n", encoding="utf-8")
    assert run(tmp_path, "--format", "json").returncode == 1
