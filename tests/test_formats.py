"""Credentials where they really live (issue #13): realistic files built at test time, scanned
through the real CLI (`keyguard scan DIR --format json`). Every value is random; each file holds
positives and the negatives that sit beside them in real life (placeholders, hashes, empties)."""

from __future__ import annotations

import base64
import json
import random
import string
import textwrap
from pathlib import Path
from typing import Any

import pytest

from keyguard.cli import main
from keyguard.model import secret_hash
from keyguard.validators import VALIDATORS

ALNUM = string.ascii_letters + string.digits


def password(rng: random.Random) -> str:
    """A password as people pick them when a generator is at hand: mixed, a symbol, digits."""
    head = "".join(rng.choice(string.ascii_letters) for _ in range(rng.randint(8, 12)))
    return head + rng.choice("!#%^*?~+") + "".join(rng.choice(string.digits) for _ in range(3))


def b64(text: str | bytes) -> str:
    return base64.b64encode(text.encode() if isinstance(text, str) else text).decode()


def scan(capsys: pytest.CaptureFixture[str], root: Path) -> list[dict[str, Any]]:
    code = main(["scan", str(root), "--no-config", "--format", "json", "-j", "1"])
    out, _ = capsys.readouterr()
    findings: list[dict[str, Any]] = json.loads(out)["findings"]
    assert code == (1 if findings else 0)
    return findings


def write(root: Path, name: str, text: str) -> Path:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return path


def line_of(path: Path, needle: str) -> int:
    for number, text in enumerate(path.read_text().splitlines(), 1):
        if needle in text:
            return number
    raise AssertionError(f"{needle!r} not in {path}")


def only(findings: list[dict[str, Any]], path: str) -> list[tuple[str, int]]:
    return sorted((f["rule_id"], f["line"]) for f in findings if f["path"] == path)


@pytest.fixture
def rng(request: pytest.FixtureRequest) -> random.Random:
    return random.Random(request.node.name)


def test_filezilla_base64_and_plain_passwords(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], rng: random.Random
) -> None:
    secret, plain = password(rng), password(rng)
    site = write(
        tmp_path,
        "FileZilla/sitemanager.xml",
        f"""
        <?xml version="1.0" encoding="UTF-8" standalone="yes" ?>
        <FileZilla3 version="3.66.1" platform="windows">
          <Servers>
            <Server>
              <Host>ftp.{rng.choice(["acme", "corp"])}.net</Host>
              <Port>21</Port>
              <Protocol>0</Protocol>
              <User>webmaster</User>
              <Pass encoding="base64">{b64(secret)}</Pass>
            </Server>
            <Server>
              <Host>ftp.staging.corp</Host>
              <User>web</User>
              <Pass encoding="base64">{b64("change" + "me")}</Pass>
            </Server>
            <Server>
              <Host>ftp.public.org</Host>
              <User>anonymous</User>
              <Pass></Pass>
            </Server>
          </Servers>
        </FileZilla3>
        """,
    )
    recent = write(
        tmp_path,
        "FileZilla/recentservers.xml",
        f"""
        <FileZilla3>
          <RecentServers>
            <Server><Host>10.0.0.7</Host><User>deploy</User><Pass>{plain}</Pass></Server>
          </RecentServers>
        </FileZilla3>
        """,
    )
    findings = scan(capsys, tmp_path)
    assert only(findings, "FileZilla/sitemanager.xml") == [
        ("filezilla.password", line_of(site, b64(secret)))
    ]
    assert only(findings, "FileZilla/recentservers.xml") == [
        ("filezilla.password", line_of(recent, plain))
    ]


def test_docker_auths_decode_to_user_and_password(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], rng: random.Random
) -> None:
    auth = b64(f"robot:{password(rng)}")
    config = {
        "auths": {
            "registry.corp.io": {"auth": auth},
            "ghcr.io": {"auth": b64("ci:" + "change" + "me")},
            "quay.io": {"auth": b64("".join(rng.choice(ALNUM) for _ in range(24)))},  # no user:
            "docker.io": {"auth": ""},
        },
        "credsStore": "desktop",
    }
    path = write(tmp_path, ".docker/config.json", json.dumps(config, indent=2) + "\n")
    findings = [f for f in scan(capsys, tmp_path) if f["path"] == ".docker/config.json"]
    assert [(f["rule_id"], f["line"], f["confidence"]) for f in findings] == [
        ("docker.config-auth", line_of(path, auth), "high")
    ]
    assert findings[0]["secret_hash"] == secret_hash(auth)


def _pem_private_key(rng: random.Random) -> str:
    der = b"\x30\x82\x02\x5c\x02\x01\x00\x02\x81\x81\x00" + rng.randbytes(593)
    body = textwrap.wrap(b64(der), 64)
    return "\n".join(["-----BEGIN RSA PRIVATE KEY-----", *body, "-----END RSA PRIVATE KEY-----"])


def test_kubeconfig_client_key_data_and_token(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], rng: random.Random
) -> None:
    key_data = b64(_pem_private_key(rng) + "\n")
    token = "".join(rng.choice(string.ascii_lowercase + string.digits) for _ in range(6))
    token += "." + "".join(rng.choice(string.ascii_lowercase + string.digits) for _ in range(16))
    cert = b64(rng.randbytes(600))
    path = write(
        tmp_path,
        ".kube/config",
        f"""
        apiVersion: v1
        clusters:
        - cluster:
            certificate-authority-data: {cert}
            server: https://k8s.corp.io:6443
          name: prod
        contexts:
        - context:
            cluster: prod
            user: admin
          name: prod
        current-context: prod
        kind: Config
        users:
        - name: admin
          user:
            client-certificate-data: {cert}
            client-key-data: {key_data}
        - name: ci
          user:
            token: {token}
        - name: viewer
          user:
            token: REDACTED
        """,
    )
    findings = [f for f in scan(capsys, tmp_path) if f["path"] == ".kube/config"]
    assert sorted((f["rule_id"], f["line"], f["category"]) for f in findings) == [
        ("kubeconfig.client-key-data", line_of(path, "client-key-data"), "private-key"),
        ("kubeconfig.user-token", line_of(path, token), "secret"),
    ]
    key = next(f for f in findings if f["rule_id"] == "kubeconfig.client-key-data")
    assert key["confidence"] == "high"  # the validator decoded a PEM key with a DER body


def test_kubeconfig_placeholders_are_not_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(
        tmp_path,
        "kubeconfig.yaml",
        """
        apiVersion: v1
        kind: Config
        users:
        - name: admin
          user:
            client-certificate-data: DATA+OMITTED
            client-key-data: DATA+OMITTED
            token: ${K8S_TOKEN}
        """,
    )
    assert scan(capsys, tmp_path) == []


def test_sql_dump_reads_the_password_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], rng: random.Random
) -> None:
    plain = password(rng)
    bcrypt = "$2y$10$" + "".join(rng.choice(ALNUM + "./") for _ in range(53))
    md5 = "".join(rng.choice("0123456789abcdef") for _ in range(32))
    dump = write(
        tmp_path,
        "backup/shop.sql",
        f"""
        -- MySQL dump 10.13  Distrib 8.0.36
        DROP TABLE IF EXISTS `users`;
        CREATE TABLE `users` (
          `id` int NOT NULL AUTO_INCREMENT,
          `username` varchar(64) NOT NULL,
          `email` varchar(128) NOT NULL,
          `password` varchar(255) NOT NULL,
          PRIMARY KEY (`id`)
        );
        INSERT INTO `users` (`id`, `username`, `email`, `password`) VALUES
        (1, 'admin', 'admin@corp.io', '{bcrypt}'),
        (2, 'legacy', 'legacy@corp.io', '{plain}'),
        (3, 'bob', 'bob@corp.io', '{md5}');
        INSERT INTO `products` (`id`, `name`, `pass_code`) VALUES (1, 'widget', '{password(rng)}');
        INSERT INTO `users` (`id`, `username`, `email`, `password`) VALUES (4, 'carol', 'c@corp.io', '{md5}');
        """,
    )
    findings = [f for f in scan(capsys, tmp_path) if f["rule_id"] == "sql.dump-plaintext-password"]
    assert [(f["path"], f["line"]) for f in findings] == [("backup/shop.sql", line_of(dump, plain))]
    assert findings[0]["secret_hash"] == secret_hash(plain)


def test_mysqldump_without_column_lists_reads_create_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], rng: random.Random
) -> None:
    """mysqldump's default INSERTs name no columns: the CREATE TABLE before them does."""
    plain = password(rng)
    bcrypt = "$2y$10$" + "".join(rng.choice(ALNUM + "./") for _ in range(53))
    dump = write(
        tmp_path,
        "db/dump.sql",
        f"""
        DROP TABLE IF EXISTS `customers`;
        CREATE TABLE `customers` (
          `id` int(11) NOT NULL AUTO_INCREMENT,
          `name` varchar(64) NOT NULL,
          `credit` decimal(10,2) DEFAULT NULL,
          `pass` varchar(255) NOT NULL,
          `email` varchar(128) DEFAULT NULL,
          PRIMARY KEY (`id`)
        ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
        /*!40101 SET character_set_client = @saved_cs_client */;

        LOCK TABLES `customers` WRITE;
        /*!40000 ALTER TABLE `customers` DISABLE KEYS */;
        INSERT INTO `customers` VALUES (1,'Ann',0.00,'{bcrypt}','a@corp.io'),(2,'Ben',NULL,'{plain}','b@corp.io');
        UNLOCK TABLES;
        CREATE TABLE `orders` (
          `id` int(11) NOT NULL,
          `password` varchar(8) DEFAULT NULL
        );
        INSERT INTO `customers_archive` VALUES (3,'Cy','{password(rng)}');
        """,
    )
    findings = [f for f in scan(capsys, tmp_path) if f["rule_id"] == "sql.dump-plaintext-password"]
    assert [(f["path"], f["line"]) for f in findings] == [("db/dump.sql", line_of(dump, plain))]


def test_pg_dump_copy_block_reads_the_password_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], rng: random.Random
) -> None:
    plain = password(rng)
    bcrypt = "$2a$10$" + "".join(rng.choice(ALNUM + "./") for _ in range(53))
    dump = write(
        tmp_path,
        "backup/app.sql",
        "COPY public.users (id, email, password, created_at) FROM stdin;\n"
        f"1\tops@corp.io\t{bcrypt}\t2024-01-01 00:00:00\n"
        "2\tghost@corp.io\t\\N\t2024-01-02 00:00:00\n"
        f"3\tlegacy@corp.io\t{plain}\t2024-01-03 00:00:00\n"
        "\\.\n",
    )
    found = only(scan(capsys, tmp_path), "backup/app.sql")
    assert ("sql.pg-copy-plaintext-password", line_of(dump, plain)) in found
    assert [rule for rule, _ in found if rule.startswith("sql.")] == [
        "sql.pg-copy-plaintext-password"
    ]


def test_sql_dump_of_hashes_only_has_no_plaintext_finding(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], rng: random.Random
) -> None:
    rows = ",\n".join(
        f"({i}, 'user{i}', '$2b$12$" + "".join(rng.choice(ALNUM + "./") for _ in range(53)) + "')"
        for i in range(1, 4)
    )
    write(
        tmp_path,
        "seed.sql",
        f"INSERT INTO accounts (id, login, password) VALUES\n{rows};\n"
        "INSERT INTO users (id, login, password) VALUES (9, 'guest', 'change' 'me');\n",
    )
    rules = {f["rule_id"] for f in scan(capsys, tmp_path)}
    assert "sql.dump-plaintext-password" not in rules


def test_terraform_state_sensitive_values(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], rng: random.Random
) -> None:
    db_pw, generated, output = password(rng), password(rng), password(rng)
    state = {
        "version": 4,
        "terraform_version": "1.7.5",
        "outputs": {
            "endpoint": {"value": "db.corp.internal", "type": "string"},
            "admin_password": {"value": output, "type": "string", "sensitive": True},
        },
        "resources": [
            {
                "mode": "managed",
                "type": "aws_db_instance",
                "name": "main",
                "instances": [{"attributes": {"username": "app", "password": db_pw, "port": 5432}}],
            },
            {
                "mode": "managed",
                "type": "random_password",
                "name": "api",
                "instances": [{"attributes": {"id": "none", "length": 16, "result": generated}}],
            },
            {
                "mode": "managed",
                "type": "aws_iam_user",
                "name": "ci",
                "instances": [{"attributes": {"name": "ci", "password": ""}}],
            },
        ],
    }
    path = write(tmp_path, "terraform.tfstate", json.dumps(state, indent=2) + "\n")
    found = only(scan(capsys, tmp_path), "terraform.tfstate")
    assert found == sorted(
        [
            ("terraform.state-sensitive-value", line_of(path, output)),
            ("terraform.state-credential", line_of(path, db_pw)),
            ("terraform.state-sensitive-value", line_of(path, generated)),
        ]
    )


def test_winscp_jenkins_and_firefox_stores(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], rng: random.Random
) -> None:
    winscp = VALIDATORS["winscp-password"].fix(str(rng.random()))
    jenkins = VALIDATORS["jenkins-secret"].fix(str(rng.random()))
    nss = VALIDATORS["nss-sdr"].fix(str(rng.random()))
    ini = write(
        tmp_path,
        "WinSCP.ini",
        f"""
        [Configuration\\Interface]
        RandomSeedFile=%APPDATA%\\winscp.rnd
        [Sessions\\deploy@web01]
        HostName=web01.corp.net
        UserName=deploy
        Password={winscp}
        [Sessions\\empty]
        HostName=web02.corp.net
        Password=
        """,
    )
    xml = write(
        tmp_path,
        "jenkins/credentials.xml",
        f"""
        <com.cloudbees.plugins.credentials.SystemCredentialsProvider plugin="credentials@1319">
          <domainCredentialsMap class="hudson.util.CopyOnWriteMap$Hash">
            <com.cloudbees.plugins.credentials.impl.UsernamePasswordCredentialsImpl>
              <id>nexus</id>
              <username>deploy</username>
              <password>{{{jenkins}}}</password>
            </com.cloudbees.plugins.credentials.impl.UsernamePasswordCredentialsImpl>
          </domainCredentialsMap>
        </com.cloudbees.plugins.credentials.SystemCredentialsProvider>
        """,
    )
    logins = {
        "nextId": 2,
        "logins": [
            {
                "id": 1,
                "hostname": "https://intranet.corp",
                "encryptedUsername": VALIDATORS["nss-sdr"].fix("user"),
                "encryptedPassword": nss,
                "encType": 1,
            }
        ],
        "version": 3,
    }
    write(tmp_path, "profile/logins.json", json.dumps(logins) + "\n")
    findings = scan(capsys, tmp_path)
    assert only(findings, "WinSCP.ini") == [("winscp.password", line_of(ini, winscp))]
    assert only(findings, "jenkins/credentials.xml") == [
        ("jenkins.encrypted-credential", line_of(xml, jenkins))
    ]
    assert only(findings, "profile/logins.json") == [("firefox.saved-logins", 1)]
    assert all(f["confidence"] != "low" for f in findings)


def test_git_config_shell_env_and_game_server_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], rng: random.Random
) -> None:
    token = "".join(rng.choice(ALNUM) for _ in range(32))
    key = "".join(rng.choice(ALNUM) for _ in range(32))
    rcon = password(rng)
    git = write(
        tmp_path,
        "backups/api.git/config",
        f"""
        [remote "origin"]
        \turl = https://ci-bot:{token}@git.corp.io/platform/api.git
        [remote "mirror"]
        \turl = https://user:${{GIT_TOKEN}}@git.corp.io/platform/api.git
        """,
    )
    bashrc = write(tmp_path, "home/.bashrc", f"export EDITOR=vim\nexport STRIPE_KEY={key}\n")
    cfg = write(tmp_path, "srv/cfg/server.cfg", f'hostname "corp 24/7"\nrcon_password "{rcon}"\n')
    write(tmp_path, "app/.env.example", "DB_PASSWORD=\nAPI_KEY=your-api-key\n")
    findings = scan(capsys, tmp_path)
    assert only(findings, "backups/api.git/config") == [
        ("git.config-url-credentials", line_of(git, token))
    ]
    assert only(findings, "home/.bashrc") == [("shell.exported-credential", line_of(bashrc, key))]
    assert only(findings, "srv/cfg/server.cfg") == [("gameserver.rcon-password", 2)]
    assert line_of(cfg, rcon) == 2
    assert only(findings, "app/.env.example") == []


def test_git_config_named_on_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], rng: random.Random
) -> None:
    """A work tree's own .git/ is not walked; its config is scanned when named."""
    token = "".join(rng.choice(ALNUM) for _ in range(32))
    config = write(
        tmp_path,
        "repo/.git/config",
        f'[remote "origin"]\n\turl = https://x:{token}@git.corp.io/a.git\n',
    )
    assert scan(capsys, tmp_path) == []
    main(["scan", str(config), "--no-config", "--format", "json", "-j", "1"])
    findings = json.loads(capsys.readouterr().out)["findings"]
    assert [(f["rule_id"], f["line"]) for f in findings] == [("git.config-url-credentials", 2)]


@pytest.mark.parametrize(
    "name", ["basic-auth", "pem-base64", "winscp-password", "jenkins-secret", "nss-sdr"]
)
def test_format_validators_fix_what_they_check(name: str) -> None:
    validator = VALIDATORS[name]
    for seed in range(20):
        value = validator.fix(f"seed-{seed}-{random.Random(seed).random()}")
        assert validator.check(value), (name, value[:12])
    assert not validator.check("A" * 40)


def test_winscp_decoding_recovers_the_password() -> None:
    from keyguard.validators import _winscp_decode

    plain = password(random.Random(7))
    data = bytes([0xFF, 0, len(plain), 2, 0x11, 0x22]) + plain.encode()
    encoded = "".join(f"{(~b & 0xFF) ^ 0xA3:02X}" for b in data)
    assert encoded.startswith("A3")
    assert _winscp_decode(encoded) == plain


def test_dotfiles_and_framework_settings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], rng: random.Random
) -> None:
    """The formats keyguard already knew, in the files they live in, beside their placeholders."""

    def chars(n: int, alphabet: str = ALNUM) -> str:
        return "".join(rng.choice(alphabet) for _ in range(n))

    pg, my, pypi, wp, ftp, ts3 = (password(rng) for _ in range(6))
    npm, s3, gitcred = chars(36), chars(40), chars(40)
    django = chars(50, string.ascii_lowercase + string.digits + "!@#$%^&*(-_=+)")
    laravel = "base64:" + b64(rng.randbytes(32))
    symfony = chars(32, "0123456789abcdef")
    salt = chars(64, ALNUM + "!#%&()*+,.:;<=>?@[]^_{|}~-")
    files = {
        ".pgpass": f"db.corp.internal:5432:orders:orders_app:{pg}\nlocalhost:5432:*:me:mypassword\n",
        ".my.cnf": f"[client]\nuser=backup\npassword={my}\n[mysqldump]\npassword=\n",
        ".npmrc": "\n".join(
            [f"//registry.npmjs.org/:_authToken={npm}", "//npm.corp/:_authToken=${NPM_TOKEN}", ""]
        ),
        ".pypirc": f"[internal]\nusername = deploy\npassword = {pypi}\n[pypi]\npassword = <token>\n",
        ".s3cfg": f"[default]\naccess_key = {chars(20, string.ascii_uppercase)}\nsecret_key = {s3}\n",
        ".git-credentials": f"https://ci:{gitcred}@git.corp.io\nhttps://user:<token>@github.com\n",
        "wp-config.php": (
            f"<?php\ndefine( 'DB_PASSWORD', '{wp}' );\ndefine( 'AUTH_KEY', '{salt}' );\n"
            "define( 'SECURE_AUTH_KEY', 'put your unique phrase here' );\n"
        ),
        "app/settings.py": f"DEBUG = False\nSECRET_KEY = '{django}'\n",
        "laravel/.env": f"APP_KEY={laravel}\nDB_PASSWORD=\nMAIL_PASSWORD=null\n",
        "symfony/.env.local": f"APP_SECRET={symfony}\n",
        "sftp-config.json": f'{{"host": "ftp.corp", "user": "web", "password": "{ftp}"}}\n',
        "ts3server.ini": f"[ts3server]\nserveradmin_password={ts3}\n",
        "server.properties": "enable-rcon=false\nrcon.password=\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    found = {(f["path"], f["rule_id"], f["line"]) for f in scan(capsys, tmp_path)}
    assert found == {
        (".pgpass", "pgpass.password", 1),
        (".my.cnf", "mysql.option-file-password", 3),
        (".npmrc", "npm.authtoken-config", 1),
        (".pypirc", "pypirc.password", 3),
        (".s3cfg", "s3cmd.secret-key", 3),
        (".git-credentials", "git.credentials-file", 1),
        ("wp-config.php", "wordpress.db-password", 2),
        ("wp-config.php", "wordpress.auth-salt", 3),
        ("app/settings.py", "django.secret-key", 2),
        ("laravel/.env", "laravel.app-key", 1),
        ("symfony/.env.local", "symfony.app-secret", 1),
        ("sftp-config.json", "sftp.config-password", 1),
        ("ts3server.ini", "gameserver.rcon-password", 2),
    }
