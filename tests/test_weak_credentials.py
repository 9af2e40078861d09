"""Weak passwords in a tool's own credential file, and the credential-file shapes found on a
public collection of leaked files (benchmarks/COLLECTION.md): each class is tested here with
variants generated at test time, not with the collection's lines.

A weak password (a word and a number, a default) in code or documentation is usually a default
or an example and stays unreported; in a file a tool writes to hold a credential (.netrc,
.pgpass, sftp-config.json, a .env) it is a leaked credential all the same, reported with
confidence "low" (`downgrade = ["weak-password"]` in the rule). Placeholders stay unreported
everywhere."""

from __future__ import annotations

import json
import random
import string
import textwrap
from pathlib import Path
from typing import Any

import pytest

from keyguard.cli import main
from keyguard.errors import ConfigError
from keyguard.signatures import parse_rule
from keyguard.validators import VALIDATORS

WORDS = ("falcon", "summer", "harbor", "violet", "ranger", "cobalt", "walnut", "meadow", "tigers")


def weak(rng: random.Random) -> str:
    """A weak password as people choose them: a lowercase word (or a default) and a number."""
    word = rng.choice([*WORDS, "admin", "hunter", "welcome", "letmein"])
    return word + str(rng.randint(1, 9999))


def strong(rng: random.Random) -> str:
    pool = string.ascii_letters + string.digits
    return "".join(rng.choice(pool) for _ in range(14)) + rng.choice("!#%^*?") + "42"


def scan(capsys: pytest.CaptureFixture[str], root: Path) -> list[dict[str, Any]]:
    code = main(["scan", str(root), "--no-config", "--format", "json", "-j", "1"])
    out, _ = capsys.readouterr()
    findings: list[dict[str, Any]] = json.loads(out)["findings"]
    assert code == (1 if findings else 0)
    # one value in several files is also a key-reuse finding: not what these tests are about
    return [f for f in findings if f["rule_id"] != "hygiene.key-reuse"]


def write(root: Path, name: str, text: str) -> None:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"))


def credential_files(root: Path, value: str) -> dict[str, str]:
    """Each tool's credential file holding `value`; returns path -> the rule that reports it."""
    write(root, ".netrc", f"machine ftp.corp.net login deploy password {value}\n")
    write(root, "db/.pgpass", f"db.corp.net:5432:app:app_rw:{value}\n")
    write(
        root,
        "sftp-config.json",
        f'{{\n    "type": "sftp",\n    "host": "web.corp.net",\n    "user": "deploy",\n'
        f'    "password": "{value}",\n    "remote_path": "/var/www/"\n}}\n',
    )
    write(
        root,
        ".remote-sync.json",
        f'{{\n  "transport": "ftp",\n  "hostname": "web.corp.net",\n  "username": "web",\n'
        f'  "password": "{value}"\n}}\n',
    )
    write(root, "ventrilo_srv.ini", f"[Server]\nName=Guild\nAuth=1\nAdminPassword={value}\n")
    write(root, "config/.my.cnf", f"[client]\nuser=backup\npassword={value}\n")
    write(root, "deploy/.env", f"APP_ENV=production\nDB_HOST=db.corp.net\nDB_PASSWORD={value}\n")
    return {
        ".netrc": "netrc.password",
        "db/.pgpass": "pgpass.password",
        "sftp-config.json": "sftp.config-password",
        ".remote-sync.json": "sftp.config-password",
        "ventrilo_srv.ini": "voice-server.password",
        "config/.my.cnf": "mysql.option-file-password",
        "deploy/.env": "dotenv.credential",
    }


@pytest.mark.parametrize("seed", range(6))
def test_weak_password_in_a_credential_file_is_reported_low(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], seed: int
) -> None:
    rng = random.Random(f"weak-{seed}")
    value = weak(rng)
    expected = credential_files(tmp_path, value)
    findings = scan(capsys, tmp_path)
    by_path = {f["path"]: f for f in findings}
    for path, rule in expected.items():
        assert path in by_path, f"{value!r} in {path} not reported"
        assert by_path[path]["rule_id"] == rule
        assert by_path[path]["confidence"] == "low"
    assert len(findings) == len(expected)


def test_strong_password_in_a_credential_file_keeps_its_confidence(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    expected = credential_files(tmp_path, strong(random.Random("strong")))
    findings = scan(capsys, tmp_path)
    assert {f["path"] for f in findings} == set(expected)
    assert {f["path"] for f in findings if f["confidence"] == "low"} <= {"deploy/.env"}


@pytest.mark.parametrize(
    "value",
    ["password", "mypassword", "mysecretpassword", "your_password", "changeme", "${DB_PASS}"],
)
def test_placeholders_in_credential_files_stay_unreported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], value: str
) -> None:
    credential_files(tmp_path, value)
    assert scan(capsys, tmp_path) == []


@pytest.mark.parametrize("seed", range(4))
def test_weak_password_in_code_and_docs_stays_unreported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], seed: int
) -> None:
    value = weak(random.Random(f"code-{seed}"))
    write(tmp_path, "app/settings.py", f'DATABASE = {{"USER": "app", "PASSWORD": "{value}"}}\n')
    write(tmp_path, "config.yaml", f"database:\n  user: app\n  password: {value}\n")
    write(tmp_path, "README.md", f"Log in with `admin` / `{value}` and change it.\n")
    write(
        tmp_path,
        "docker-compose.yml",
        f"services:\n  db:\n    environment:\n      POSTGRES_PASSWORD: {value}\n",
    )
    assert scan(capsys, tmp_path) == []


def test_git_credentials_with_an_unencoded_email_user(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    value = strong(random.Random("git-cred")).replace("!", "#@")
    write(tmp_path, ".git-credentials", f"https://ops@corp.example:{value}@git.corp.net\n")
    findings = scan(capsys, tmp_path)
    assert [(f["rule_id"], f["line"]) for f in findings] == [("git.credentials-file", 1)]
    assert findings[0]["end_column"] - findings[0]["column"] == len(value)


def test_passwd_format_files_with_hashes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rng = random.Random("passwd")
    salt = "".join(rng.choice(string.ascii_letters + "./") for _ in range(16))
    digest = "".join(rng.choice(string.ascii_letters + string.digits + "./") for _ in range(86))
    write(
        tmp_path,
        "ftp/ftpd.passwd",
        f"web:$6${salt}${digest}:2001:2001::/srv/ftp/web:/sbin/nologin\n"
        "anon:*:2002:2002:Anonymous:/srv/ftp/pub:/sbin/nologin\n",
    )
    write(
        tmp_path,
        "etc/passwd",
        "root:x:0:0:root:/root:/bin/bash\nftp:*:14:50:FTP:/var/ftp:/sbin/nologin\n",
    )
    findings = scan(capsys, tmp_path)
    assert [(f["path"], f["rule_id"], f["line"]) for f in findings] == [
        ("ftp/ftpd.passwd", "hygiene.shadow-hash", 1)
    ]


def jetbrains_encode(text: str) -> str:
    return "".join(f"{ord(ch) ^ 0xDFFF:04x}" for ch in text)


def test_jetbrains_webservers_password(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    encoded = jetbrains_encode(strong(random.Random("idea")))
    write(
        tmp_path,
        "site/.idea/webServers.xml",
        f"""
        <?xml version="1.0" encoding="UTF-8"?>
        <project version="4">
          <component name="WebServers">
            <option name="servers">
              <webServer id="a1" name="prod" url="https://shop.corp.net">
                <fileTransfer host="shop.corp.net" port="21" password="{encoded}" username="web" />
              </webServer>
              <webServer id="a2" name="stage" url="https://stage.corp.net">
                <fileTransfer host="stage.corp.net" port="22" accessType="SFTP" keyPair="true" />
              </webServer>
            </option>
          </component>
        </project>
        """,
    )
    findings = scan(capsys, tmp_path)
    assert [(f["path"], f["rule_id"], f["line"]) for f in findings] == [
        ("site/.idea/webServers.xml", "jetbrains.webservers-password", 6)
    ]


def test_firefox_store_reports_each_saved_login(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rng = random.Random("firefox")
    logins = [
        {
            "id": n,
            "hostname": f"https://app{n}.corp.net",
            "encryptedUsername": VALIDATORS["nss-sdr"].fix(f"user-{rng.random()}"),
            "encryptedPassword": VALIDATORS["nss-sdr"].fix(f"pass-{rng.random()}"),
            "encType": 1,
        }
        for n in range(1, 4)
    ]
    document = {"nextId": 4, "logins": logins, "version": 3}
    write(tmp_path, "a/logins.json", json.dumps(document, indent=4) + "\n")
    write(tmp_path, "b/logins.json", json.dumps(document) + "\n")  # Firefox writes one line
    findings = scan(capsys, tmp_path)
    assert sorted({f["rule_id"] for f in findings}) == ["firefox.saved-logins"]
    assert len([f for f in findings if f["path"] == "a/logins.json"]) == 3
    assert len([f for f in findings if f["path"] == "b/logins.json"]) == 3


def test_filezilla_base64_with_a_trailing_newline(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import base64

    value = strong(random.Random("fz"))
    encoded = base64.b64encode((value + "\n").encode()).decode()  # `echo pw | base64`
    write(
        tmp_path,
        "filezilla/recentservers.xml",
        f"<FileZilla3><RecentServers><Server><Host>ftp.corp.net</Host><User>web</User>\n"
        f'<Pass encoding="base64">{encoded}</Pass></Server></RecentServers></FileZilla3>\n',
    )
    findings = scan(capsys, tmp_path)
    assert [(f["rule_id"], f["line"]) for f in findings] == [("filezilla.password", 2)]


def _entry(**extra: object) -> dict[str, object]:
    return {
        "id": "corp.weak",
        "title": "t",
        "provider": "p",
        "category": "secret",
        "severity": "high",
        "keywords": ["pw="],
        "pattern": "pw=(?P<secret>\\S+)",
        "examples": ["pw=Zx81kQ0pLm"],
        **extra,
    }


def test_downgrade_names_known_filters_once() -> None:
    assert parse_rule(_entry(downgrade=["weak-password"]), "r.toml", 0).downgrade == (
        "weak-password",
    )
    with pytest.raises(ConfigError, match="unknown filter"):
        parse_rule(_entry(downgrade=["weak-pasword"]), "r.toml", 0)
    with pytest.raises(ConfigError, match="both"):
        parse_rule(_entry(filters=["weak-password"], downgrade=["weak-password"]), "r.toml", 0)
