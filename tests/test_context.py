"""Findings are ranked by where they sit (keyguard.context): code first, then examples, tests and
documentation; every report says which. Through the real CLI on files built at test time."""

from __future__ import annotations

import json
import random
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from keyguard.context import CODE, DOCUMENTATION, EXAMPLE, TEST, context_of
from keyguard.examples import generate_secret
from keyguard.signatures import load_builtin
from tests.conftest import GitRepo

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


# --------------------------------------------------------------------------- content context

MODULE = '''#!/usr/bin/python
# -*- coding: utf-8 -*-
"""Manage widgets. Connect with api_token: {doc}"""

DOCUMENTATION = r\'\'\'
module: widget
options:
  api_token: {{description: the token, e.g. {dochash}}}
\'\'\'

EXAMPLES = \'\'\'
- name: make a widget
  widget:
    api_token: {example}
\'\'\'


def connect(token):
    """Connect. For instance connect("{docstring}")."""
    fixture = """
api_token: {data}
"""
    return fixture


API_TOKEN = "{code}"
'''


def test_documentation_strings_in_code_are_examples_and_the_rest_stays_code() -> None:
    from keyguard.context import documentation_strings, embedded_context

    names = ("doc", "dochash", "example", "docstring", "data", "code")
    text = MODULE.format(**{name: f"<{name}>" for name in names})
    data = text.encode()
    spans = documentation_strings(data)
    got = {name: embedded_context(spans, data.index(f"<{name}>".encode())) for name in names}
    assert got == {
        "doc": EXAMPLE,  # the module's docstring
        "dochash": EXAMPLE,
        "example": EXAMPLE,
        "docstring": EXAMPLE,
        "data": CODE,  # a string assigned to a variable: test data, a template, a fixture
        "code": CODE,
    }
    # a quote of the other kind does not close the string; an unclosed one runs to the end
    odd = b"EXAMPLES = '''\nuse \"\"\" here\ntoken: <x>\n"
    assert embedded_context(documentation_strings(odd), odd.index(b"<x>")) == EXAMPLE


def test_a_module_example_is_ranked_as_an_example_in_a_scan_and_in_history(
    tmp_path: Path, git_repo: Callable[..., GitRepo], capsys: pytest.CaptureFixture[str]
) -> None:
    rng = random.Random(11)
    values = {"example": generate_secret(GITHUB_PAT, rng), "code": generate_secret(GITHUB_PAT, rng)}
    text = MODULE.format(doc="x", dochash="y", docstring="z", data="w", **values)
    repo = git_repo()
    repo.write("plugins/modules/widget.py", text)
    repo.commit("widget module")
    done = run(repo.path, "--format", "json")
    assert done.returncode == 1, done.stderr
    by_line = {f["line"]: f["context"] for f in json.loads(done.stdout)["findings"]}
    lines = text.splitlines()
    line_of = {k: next(i + 1 for i, s in enumerate(lines) if v in s) for k, v in values.items()}
    assert by_line == {line_of["example"]: "example", line_of["code"]: ""}
    # history scans each blob once, without a path, and caches its findings: the content's
    # context travels with them, on the first audit and on the cached re-audit alike
    for _ in range(2):
        audit = subprocess.run(
            ["keyguard", "history", str(repo.path), "--no-config", "--format", "json"],
            capture_output=True,
            text=True,
            check=False,
            env=repo.env,
        )
        assert audit.returncode == 1, audit.stderr
        found = {f["line"]: f["context"] for f in json.loads(audit.stdout)["findings"]}
        assert found == by_line


def test_templates_and_command_results_are_not_passwords(tmp_path: Path) -> None:
    (tmp_path / "tasks.yml").write_text(
        "- cnos_vlan: host={{ inventory_hostname }} username={{ hostvars[inventory_hostname]"
        "['ansible_ssh_user'] }} password={{ hostvars[inventory_hostname]['ansible_ssh_pass'] }}\n",
        encoding="utf-8",
    )
    (tmp_path / "win_uri.ps1").write_text(
        '$password = Get-AnsibleParam -obj $params -name "password" -type "str"\n',
        encoding="utf-8",
    )
    done = run(tmp_path, "--format", "json")
    assert done.returncode == 0, done.stdout
    # ...while the same lines with literal values are still found
    rng = random.Random(5)
    value = "".join(rng.choices("abcdefghjkmnpqrstuvwxyzKMPQ23456789", k=14)) + "!7Q"
    (tmp_path / "tasks.yml").write_text(f"- x: host=sw1 username=admin password={value}\n")
    (tmp_path / "win_uri.ps1").write_text(f"$password = {value}\n")
    found = {f["path"] for f in json.loads(run(tmp_path, "--format", "json").stdout)["findings"]}
    assert found == {"tasks.yml", "win_uri.ps1"}


def test_a_setting_in_a_documentation_string_is_an_instruction_not_a_hygiene_finding(
    tmp_path: Path,
) -> None:
    module = (
        "EXAMPLES = r'''\n- name: fetch over a self-signed endpoint\n  get_url:\n"
        "    url: https://example.internal/file\n    validate_certs: no\n'''\n\n"
        "import json\n\n\ndef main():\n    print(json.dumps({}))\n"
    )
    (tmp_path / "get_url.py").write_text(module, encoding="utf-8")
    done = run(tmp_path, "--format", "json")
    rules_lines = {(f["rule_id"], f["line"]) for f in json.loads(done.stdout)["findings"]}
    assert ("hygiene.tls-verify-disabled-config", 5) not in rules_lines
    # the same setting in a playbook is reported
    (tmp_path / "site.yml").write_text(
        "- get_url:\n    url: https://x.internal/f\n    validate_certs: no\n"
    )
    found = json.loads(run(tmp_path, "--format", "json").stdout)["findings"]
    assert [(f["path"], f["rule_id"]) for f in found if f["path"] == "site.yml"] == [
        ("site.yml", "hygiene.tls-verify-disabled-config")
    ]
