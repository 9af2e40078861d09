"""Key-hygiene rules (signatures/hygiene-*.toml) and the filters that keep them quiet where a
setting is only mentioned: through the real engine, on both matcher backends.

Credential-shaped values (passwords in URLs, hashes) are generated at test time, so this file
holds nothing a scanner should report.
"""

from __future__ import annotations

import json
import random
import string
from pathlib import Path
from typing import Any

import pytest

from keyguard.check import check_rule
from keyguard.cli import main
from keyguard.engine import CompiledRuleset, scan
from keyguard.examples import expand
from keyguard.filters import FILTERS, OPT_IN, Candidate
from keyguard.model import Finding
from keyguard.remediation import load_builtin_playbooks, steps_for
from keyguard.signatures import Rule, builtin_rule_files, load_builtin

RULES = load_builtin()
HYGIENE = [r for r in RULES if r.id.startswith("hygiene.") and r.source.endswith(".toml")]
HYGIENE_FILES = [p for p in builtin_rule_files() if p.name.startswith("hygiene-")]
NEW_FILTERS = (
    "comment",
    "prose",
    "docs",
    "test-code",
    "linter",
    "rule-file",
    "loopback",
    "url-userinfo",
)
TRANSPORT_TAGS = ("SC-8", "SC-13")
_RNG = random.Random(20241201)
CRYPT64 = "./" + string.ascii_letters + string.digits


def _chars(n: int, alphabet: str = string.ascii_letters + string.digits) -> str:
    return "".join(_RNG.choice(alphabet) for _ in range(n))


def _password() -> str:
    """Mixed classes, no word the filters look for: what a real password looks like."""
    while True:
        value = _chars(1, string.ascii_uppercase) + _chars(7, string.ascii_lowercase)
        value += _chars(3, string.digits) + _RNG.choice("!#%")
        low = value.lower()
        if not any(w in low for w in ("test", "demo", "mock", "pass", "admin", "secret")):
            return value


def findings(compiled: CompiledRuleset, text: str, path: str = "app/main.py") -> list[Finding]:
    return scan(text.encode(), path, compiled).findings


def rule_ids(compiled: CompiledRuleset, text: str, path: str = "app/main.py") -> set[str]:
    return {f.rule_id for f in findings(compiled, text, path)}


# --- the rule set ------------------------------------------------------------------------------


def test_the_hygiene_rule_files_are_loaded() -> None:
    assert {p.name for p in HYGIENE_FILES} == {
        "hygiene-transport.toml",
        "hygiene-crypto.toml",
        "hygiene-at-rest.toml",
    }
    assert len(HYGIENE) >= 30
    by_file = {Path(r.source).name for r in HYGIENE}
    assert by_file == {p.name for p in HYGIENE_FILES}


@pytest.mark.parametrize("rule", HYGIENE, ids=[r.id for r in HYGIENE])
def test_rule_shape(rule: Rule) -> None:
    assert rule.category == "hygiene"
    assert rule.severity == "medium"
    assert rule.description
    assert len(rule.examples) >= 3 and len(rule.negative_examples) >= 3
    assert rule.filters, "hygiene rules choose their filters"
    # the secret rules' password-hash filter would hide exactly what the at-rest rules report,
    # and `template` reads `$apr1$...` as a shell variable
    assert "password-hash" not in rule.filters
    name = Path(rule.source).name
    if name == "hygiene-transport.toml":
        assert rule.tags == TRANSPORT_TAGS
    elif name == "hygiene-crypto.toml":
        assert rule.tags == ("SC-13",)
    else:
        assert rule.tags == ("IA-5", "SC-28")
        assert "template" not in rule.filters


@pytest.mark.parametrize("rule", HYGIENE, ids=[r.id for r in HYGIENE])
def test_every_rule_names_a_hygiene_playbook(rule: Rule) -> None:
    books = load_builtin_playbooks()
    assert rule.remediation in books
    assert Path(books[rule.remediation].source).name == "hygiene.toml"


@pytest.mark.parametrize("rule", HYGIENE, ids=[r.id for r in HYGIENE])
def test_examples_through_the_engine(rule: Rule, compiled_any: CompiledRuleset) -> None:
    for seed in range(4):
        problems = check_rule(rule, compiled_any, random.Random(f"{rule.id}/{seed}"))
        assert not problems, "\n".join(map(str, problems))


@pytest.mark.parametrize("rule", HYGIENE, ids=[r.id for r in HYGIENE])
def test_each_example_is_found_once_and_negatives_stay_quiet(
    rule: Rule, compiled: CompiledRuleset
) -> None:
    rng = random.Random(rule.id)
    for template in rule.examples:
        text = expand(template, rule, rng)
        mine = [f for f in findings(compiled, text, rule.example_path) if f.rule_id == rule.id]
        assert mine, text
        assert all(f.category == "hygiene" and f.confidence == rule.confidence for f in mine)
    for template in rule.negative_examples:
        text = expand(template, rule, rng)
        assert rule.id not in rule_ids(compiled, text, rule.example_path), text


# --- the filters -----------------------------------------------------------------------------


def cand(
    match: str, line: str | None = None, head: str = "", secret: str | None = None
) -> Candidate:
    line = match if line is None else line
    return Candidate(secret=secret or match, match=match, line=line, head=head.lower())


PW = _password()
# plain-text documentation without markup, in the manner of git's SubmittingPatches
PLAIN_GUIDE = (
    "Checklist (and a short version for the impatient):\n\n"
    "Make commits of logical units and check for unnecessary whitespace.\n"
    "Describe the change in the log message and say why it is needed.\n"
    "Do not forget to add tests for the new behaviour you introduce.\n"
    "Send the patches to the mailing list and wait for the reviews.\n\n"
    "\thost = imaps://imap.example.com\n\tsslverify = false\n\n"
    "Next, make sure that your mail client does not wrap the long lines.\n"
    "If it does, the patch will not apply and the maintainer will tell you.\n"
    "Use the format-patch command to prepare the series for sending.\n"
    "Each patch goes in its own message with the cover letter first.\n"
)
CASES: dict[str, tuple[list[Candidate], list[Candidate]]] = {
    # filter: ([rejected ...], [kept ...])
    "comment": (
        [
            cand("verify=False", "    # never use verify=False"),
            cand("curl -k", "// curl -k works but do not"),
            cand("InsecureSkipVerify: true", "\t/* InsecureSkipVerify: true */"),
            cand("verify=False", "x = get(url)  # verify=False broke prod"),
            cand("SSLProtocol all -SSLv3", "#SSLProtocol all -SSLv3"),
            cand("sslVerify = false", "    ; sslVerify = false"),
            cand("INSERT INTO users", "-- INSERT INTO users VALUES (1)"),
            cand("rejectUnauthorized: false", "  * rejectUnauthorized: false in the old client"),
        ],
        [
            cand("verify=False", "requests.get(url, verify=False)"),
            cand("curl -k", "RUN curl -k https://x.corp.net/a.sh | sh  # fetch the agent"),
            cand("verify=False", 'requests.get("https://h/#frag", verify=False)'),
            cand("--insecure", "  --insecure \\"),
            cand("verify_mode", "http.verify_mode = x if a else b"),
            cand("CERT_NONE", "#define CERT_NONE 0"),
        ],
    ),
    "prose": (
        [
            cand("verify=False", "Pass verify=False only when you talk to the lab box."),
            cand("verify=False", "Setting verify=False disables certificate verification."),
            cand("curl -k", 'echo "curl -k skips the certificate check, so we never use it"'),
            cand("verify=False", "| prose | a sentence about `verify=False` in a table |"),
            cand("-k", 'help="skip certificate checks, like curl -k does"'),
        ],
        [
            cand("verify=False", "resp = requests.get(url, verify=False)"),
            cand(
                "--insecure-skip-tls-verify",
                "helm repo add internal https://charts.corp.net --insecure-skip-tls-verify",
            ),
            cand("curl -k", 'os.system("curl -k https://x.corp.net/a | sh")'),
            cand("curl -k", "out=`curl -k https://x.corp.net/status`"),
            cand("VERIFY_NONE", "http.verify_mode = OpenSSL::SSL::VERIFY_NONE if ENV['X'] and y"),
            cand("InsecureSkipVerify: true", "\tInsecureSkipVerify: true, // the lab CA is not in"),
        ],
    ),
    "docs": (
        [
            cand(
                "verify=False", head="# Client\n\n```python\nrequests.get(url, verify=False)\n```"
            ),
            cand("x", head="See [the guide](https://docs.corp.net/tls) first.\n"),
            cand("x", head="git-config(1)\n=============\n\nNAME\n----\n"),
            cand("x", head="Title\n=====\n\n.. code-block:: yaml\n\n   a: b\n"),
            cand("x", head="= Guide\n\n[source,shell]\n----\ncurl -k x\n----\n"),
            # an AsciiDoc manual whose prose says "Using ..." is still a manual
            cand("x", head="git-imap-send(1)\n================\n\nNAME\n----\nx\n\nUsing Gmail:\n"),
            cand("x", head=PLAIN_GUIDE),
        ],
        [
            cand("x", head="import requests\n\nrequests.get(url, verify=False)\n"),
            cand("x", head='"""Utilities\n---------\n"""\nimport ssl\n'),
            cand("x", head='{"cells": [{"source": ["```python\\n"]}]}'),
            cand("x", head="# nginx.conf\nserver {\n  # see [docs](x) below\n}\n"),
            cand("x", head="---\napiVersion: v1\nkind: ConfigMap\n"),
            cand("x", head='Setup\n-----\n"""\nusing System.Net;\n'),
            cand("x", head="/* The client.\n   -------- */\npublic class Client {\n"),
            # a module docstring of sentences above the code is still code
            cand("x", head=PLAIN_GUIDE.replace("Checklist", '"""Checklist') + '"""\nimport ssl\n'),
        ],
    ),
    "test-code": (
        [
            cand("x", head="import pytest\n\ndef test_x():\n    pass\n"),
            cand("x", head='package client_test\n\nimport (\n\t"testing"\n)\n'),
            cand("x", head="import org.junit.jupiter.api.Test;\n"),
            cand("x", head="describe('agent', () => {\n  it('works', () => {});\n});\n"),
            cand("x", head="require 'spec_helper'\n\nRSpec.describe Client do\nend\n"),
            cand("x", head="test_description='http'\n. ./test-lib.sh\n"),
            cand("x", head='#include "unit-test.h"\n\nvoid test_x(void) {}\n'),
            cand("x", head="using Xunit;\n\npublic class ClientTests {}\n"),
        ],
        [
            cand("x", head="import requests\n\ndef fetch(url):\n    return requests.get(url)\n"),
            cand("x", head="if (/^v\\d/.test('v1')) { run(); }\n"),
            cand("x", head="def testimonial(request):\n    pass\n"),
            cand("x", head='package client\n\nimport "net/http"\n'),
        ],
    ),
    "linter": (
        [
            cand("verify=False", '    "S501": "requests call with verify=False",'),
            cand("InsecureSkipVerify: true", '"G402": "TLS InsecureSkipVerify: true"'),
            cand("verify=False", "    pattern: requests.get(..., verify=False)"),
            cand(
                "rejectUnauthorized: false",
                '{"selector": "x", "message": "never set rejectUnauthorized: false"}',
            ),
            cand("x", head='{\n  "extends": ["eslint:recommended"],\n  "rules": {}\n}\n'),
            cand("verify=False", "requests.get(url, verify=False)  # nosec B501"),
            cand("verify=False", "get(url, verify=False)  # noqa: S113, S501"),
            cand("InsecureSkipVerify: true", "InsecureSkipVerify: true, //nolint:gosec // lab"),
        ],
        [
            cand("verify=False", "requests.get(url, verify=False)  # noqa: E501"),
            cand("verify=False", "requests.get(url, verify=False)"),
            cand("x", head="module.exports = { module: { rules: [] } }\n"),
        ],
    ),
    "rule-file": (
        [
            cand("x", head='# rules\n\n[[rule]]\nid = "x.y"\n'),
            cand("x", head='[[rules]]\nid = "gitleaks-rule"\n'),
            cand("x", head='[[playbook]]\nid = "p"\n'),
            cand("x", head="rules:\n  - id: no-verify\n    languages: [python]\n"),
        ],
        [
            cand("x", head='[tool.poetry]\nname = "x"\n'),
            cand("x", head="rules:\n  - alert: HighLatency\n"),
        ],
    ),
    "loopback": (
        [
            cand("curl -k https://localhost:8443/healthz"),
            cand("verify=False", 'requests.get("https://127.0.0.1:9443/", verify=False)'),
            cand("sslmode=disable", 'dsn := "host=localhost port=5432 sslmode=disable"'),
            cand("wget --no-check-certificate https://[::1]:8443/"),
            cand("http://u:p@app.localhost:8080/"),
        ],
        [
            cand("curl -k https://vault.corp.net:8200/"),
            cand("sslmode=disable", "PGSSLMODE=disable psql -h db.corp.net"),
            cand("verify=False", "requests.get(url, verify=False)"),
            cand("curl -k https://localhost:1/ https://prod.corp.net/"),
        ],
    ),
    "url-userinfo": (
        [
            cand("http://user:password@proxy.corp.net:3128"),
            cand("http://${USER}:${PASS}@proxy.corp.net"),
            cand("http://guest:guest@rabbit.corp.net:15672/api"),
            cand("http://user:pass@host/repo.git"),
            cand("http://%41:%42@x.y/"),
            cand("http://<user>:<password>@host"),
        ],
        [
            cand(f"http://deploy:{PW}@pypi.corp.net/simple/"),
            cand(f"http://svc:{PW}@10.0.0.5:5000"),
        ],
    ),
}


def test_every_new_filter_has_a_table() -> None:
    assert set(CASES) == set(NEW_FILTERS)
    assert set(NEW_FILTERS) <= set(OPT_IN) <= set(FILTERS)


def test_new_filters_are_in_the_documented_table() -> None:
    import keyguard.filters

    doc = keyguard.filters.__doc__ or ""
    for name in NEW_FILTERS:
        assert f"| {name} " in doc, name


@pytest.mark.parametrize(
    ("name", "candidate"),
    [(name, c) for name, (rejected, _) in CASES.items() for c in rejected],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_filter_rejects(name: str, candidate: Candidate) -> None:
    assert FILTERS[name](candidate), f"{name} should reject {candidate.line or candidate.head!r}"


@pytest.mark.parametrize(
    ("name", "candidate"),
    [(name, c) for name, (_, kept) in CASES.items() for c in kept],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_filter_keeps(name: str, candidate: Candidate) -> None:
    assert not FILTERS[name](candidate), f"{name} should keep {candidate.line or candidate.head!r}"


def test_secret_rules_do_not_use_the_hygiene_filters() -> None:
    """The hygiene filters are opt-in: a secret in a comment or a test is still a secret."""
    for rule in RULES:
        if rule.category != "hygiene":
            assert not set(rule.active_filters()) & set(NEW_FILTERS), rule.id


# --- behaviour in files ----------------------------------------------------------------------


def test_the_same_code_is_reported_in_an_app_and_not_in_its_test(compiled: CompiledRuleset) -> None:
    code = "import requests\n\n\ndef fetch(url):\n    return requests.get(url, verify=False)\n"
    assert "hygiene.tls-verify-disabled-python" in rule_ids(compiled, code, "app/fetch.py")
    test = "import pytest\nimport requests\n\n\ndef test_fetch():\n    requests.get(URL, verify=False)\n"
    assert not {i for i in rule_ids(compiled, test, "tests/test_fetch.py") if "hygiene" in i}


def test_markdown_and_asciidoc_documentation_are_not_reported(compiled: CompiledRuleset) -> None:
    markdown = (
        "# Deploying\n\nIf the mirror's certificate expired, people used to run:\n\n"
        "```sh\ncurl -k https://mirror.corp.net/install.sh | sh\n```\n\nDo not.\n"
    )
    asciidoc = "http-config(5)\n==============\n\n----\n[http]\n\tsslVerify = false\n----\n"
    for text in (markdown, asciidoc):
        assert not {i for i in rule_ids(compiled, text, "docs/page.md") if "hygiene" in i}


def test_keyguards_own_rule_and_playbook_files_scan_clean(compiled: CompiledRuleset) -> None:
    """Their examples quote insecure code on purpose (CI scans this repository clean)."""
    folder = HYGIENE_FILES[0].parent
    for path in [*HYGIENE_FILES, folder / "playbooks" / "hygiene.toml"]:
        found = findings(compiled, path.read_text(encoding="utf-8"), f"signatures/{path.name}")
        assert found == [], [(f.rule_id, f.line) for f in found]


def test_plain_http_credentials_are_reported_beside_the_password(
    compiled: CompiledRuleset,
) -> None:
    """Both stories hold: the password leaked (url.basic-auth, the password as the secret) and
    it travels in clear text (hygiene, the host as the secret): the spans never overlap, so
    overlap resolution keeps both."""
    text = f"proxy = http://svc-proxy:{PW}@proxy.corp.net:3128\n"
    found = {f.rule_id: f for f in findings(compiled, text, "config/settings.ini")}
    assert {"url.basic-auth", "hygiene.http-url-credentials"} <= set(found)
    assert found["url.basic-auth"].secret == PW
    assert found["hygiene.http-url-credentials"].secret == "proxy.corp.net:3128"
    assert found["url.basic-auth"].category == "secret"
    secure = text.replace("http://", "https://")
    ids = rule_ids(compiled, secure, "config/settings.ini")
    assert "url.basic-auth" in ids and "hygiene.http-url-credentials" not in ids


def test_password_hashes_are_hygiene_findings_not_secrets(compiled: CompiledRuleset) -> None:
    """The secret rules' password-hash filter skips hashes; the at-rest rules report them."""
    line = f"admin:$apr1${_chars(8, CRYPT64)}${_chars(22, CRYPT64)}\n"
    found = findings(compiled, line, "deploy/.htpasswd")
    assert [f.rule_id for f in found] == ["hygiene.htpasswd-hash"]
    bcrypt = "$2b$12$" + _chars(53, CRYPT64)
    yaml = f'admin:\n  password: "{bcrypt}"\n'
    assert not [f for f in findings(compiled, yaml, "users.yml") if f.category == "secret"]
    dump = f"INSERT INTO users (id, email, password) VALUES (1, 'a@corp.net', '{bcrypt}');\n"
    assert [f.rule_id for f in findings(compiled, dump, "db/seed.sql")] == [
        "hygiene.sql-dump-password-hash"
    ]


def test_one_finding_per_insert_statement(compiled: CompiledRuleset) -> None:
    rows = ",".join(f"({i},'u{i}','$2y$10${_chars(53, CRYPT64)}')" for i in range(50))
    dump = f"INSERT INTO `users` VALUES {rows};\n"
    found = [f for f in findings(compiled, dump, "db/dump.sql") if f.category == "hygiene"]
    assert len(found) == 1


@pytest.mark.parametrize(
    ("cipher_string", "weak"),
    [
        ("HIGH:!aNULL:!MD5", False),
        ("ECDHE+AESGCM:!RC4:!3DES:-DES:!EXPORT:!eNULL", False),
        ("HIGH:RC4", True),
        ("ECDHE-RSA-AES128-GCM-SHA256:+RC4", False),  # + only moves suites already listed
        ("EECDH+AESGCM:EECDH+aRSA+3DES", True),
        ("DEFAULT:AECDH-AES128-SHA", True),
        ("ECDHE-RSA-AES256-SHA384:EXP-RC4-MD5:!aNULL", True),
    ],
)
def test_cipher_strings_flag_enabled_weak_suites_only(
    compiled: CompiledRuleset, cipher_string: str, weak: bool
) -> None:
    text = f"ssl_ciphers {cipher_string};\n"
    found = "hygiene.weak-tls-cipher-string" in rule_ids(compiled, text, "nginx/site.conf")
    assert found is weak


@pytest.mark.parametrize(
    ("directive", "old"),
    [
        ("SSLProtocol all -SSLv3", True),
        ("SSLProtocol all -SSLv3 -TLSv1", True),
        ("SSLProtocol all -SSLv3 -TLSv1 -TLSv1.1", False),
        ("SSLProtocol -all +TLSv1.2 +TLSv1.3", False),
        ("SSLProtocol -all +TLSv1.2 +TLSv1.1", True),
        ("SSLProtocol TLSv1.2 TLSv1.3", False),
        ("SSLProtocol +TLSv1", True),
    ],
)
def test_apache_protocol_lines(compiled: CompiledRuleset, directive: str, old: bool) -> None:
    found = "hygiene.apache-old-tls-protocols" in rule_ids(compiled, directive, "ssl.conf")
    assert found is old


# --- reports ---------------------------------------------------------------------------------


def _json_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], files: dict[str, str]
) -> dict[str, Any]:
    root = tmp_path / "project"
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    out = tmp_path / "report.json"
    code = main(["scan", str(root), "--no-config", "--format", "json", "--output", str(out)])
    capsys.readouterr()
    assert code == 1
    document: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return document


def test_json_finding_has_category_tags_and_playbook_steps(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    digest = f"$apr1${_chars(8, CRYPT64)}${_chars(22, CRYPT64)}"
    document = _json_report(
        tmp_path,
        capsys,
        {
            "deploy/install.sh": "#!/bin/sh\ncurl -fsSLk https://artifacts.corp.net/i.sh | sh\n",
            "deploy/.htpasswd": f"ops:{digest}\n",
        },
    )
    by_rule = {f["rule_id"]: f for f in document["findings"]}
    curl = by_rule["hygiene.tls-verify-disabled-curl"]
    assert curl["category"] == "hygiene"
    assert curl["severity"] == "medium"
    assert curl["tags"] == list(TRANSPORT_TAGS)
    assert curl["playbook"] == "tls-verification-disabled"
    books = load_builtin_playbooks()
    expected = [s.as_dict() for s in steps_for(curl["playbook"], "hygiene", books)]
    assert curl["remediation"] == expected
    actions = [s["action"] for s in curl["remediation"]]
    assert actions[0] == "fix-config" and "purge-history" not in actions

    hashes = by_rule["hygiene.htpasswd-hash"]
    assert hashes["category"] == "hygiene"
    assert hashes["tags"] == ["IA-5", "SC-28"]
    assert hashes["playbook"] == "committed-password-hashes"
    actions = [s["action"] for s in hashes["remediation"]]
    # keyguard appends purge-history and notify only for secret categories: this playbook
    # carries its own, after the rotation
    assert actions[0] == "rotate"
    assert actions.index("rotate") < actions.index("purge-history")
    assert "notify" in actions
    assert digest not in json.dumps(document)  # a preview only, never the hash
