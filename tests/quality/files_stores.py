"""Credential stores and the files tools write credentials to (issue #13): FTP clients, kubeconfig,
Terraform state, Jenkins and Firefox stores, git remotes, shell profiles, .env files, game server
configuration and SQL dumps. Encoded formats (WinSCP, Jenkins, NSS) are built here, so the corpus
does not depend on the scanner it measures."""

from __future__ import annotations

import json

from . import pem
from .gen import CRYPT64, Gen, b64
from .labels import Doc


def _winscp(plain: str, g: Gen) -> str:
    """WinSCP's obfuscation: flag, reserved byte, length, padding count, padding, password."""
    pad = g.raw(g.num(0, 6))
    data = bytes([0xFF, 0, len(plain), len(pad)]) + pad + plain.encode()
    return "".join(f"{(~b & 0xFF) ^ 0xA3:02X}" for b in data)


def _jenkins(g: Gen) -> str:
    size = 16 * g.num(2, 4)
    raw = b"\x01" + (16).to_bytes(4, "big") + size.to_bytes(4, "big") + g.raw(16 + size)
    return "{" + b64(raw) + "}"


def _nss(g: Gen) -> str:
    cipher = g.raw(8 * g.num(2, 4))
    inner = b"\x04\x10\xf8" + b"\x00" * 14 + b"\x01"
    inner += bytes.fromhex("301406082a864886f70d0307") + b"\x04\x08" + g.raw(8)
    inner += bytes([0x04, len(cipher)]) + cipher
    return b64(bytes([0x30, len(inner)]) + inner)


def _ftp_clients(g: Gen) -> list[Doc]:
    site = Doc("AppData/FileZilla/sitemanager.xml", "xml")
    pw, plain = g.password(), g.password()
    site.add(
        '<?xml version="1.0" encoding="UTF-8" standalone="yes" ?>',
        '<FileZilla3 version="3.66.1" platform="windows">',
        "  <Servers>",
        "    <Server>",
        f"      <Host>ftp.{g.host()}</Host>",
        "      <Port>21</Port>",
        f"      <User>{g.username()}</User>",
    )
    site.pos(
        f'      <Pass encoding="base64">{b64(pw.encode())}</Pass>',
        "filezilla.password",
        b64(pw.encode()),
        "base64",
    )
    site.add("    </Server>", "    <Server>", "      <Host>ftp.staging.corp</Host>")
    site.neg(f'      <Pass encoding="base64">{b64(b"changeme")}</Pass>', "placeholder")
    site.add("    </Server>", "    <Server>", "      <User>anonymous</User>")
    site.neg("      <Pass></Pass>", "placeholder")
    site.add("    </Server>", "  </Servers>", "</FileZilla3>")

    recent = Doc("AppData/FileZilla/recentservers.xml", "xml")
    recent.add("<FileZilla3>", "  <RecentServers>", "    <Server>", "      <Host>10.0.4.12</Host>")
    recent.pos(f"      <Pass>{plain}</Pass>", "filezilla.password", plain)
    recent.add("    </Server>", "  </RecentServers>", "</FileZilla3>")

    winscp = Doc("AppData/WinSCP.ini", "ini")
    encoded = _winscp(g.password(), g)
    winscp.add(
        "[Configuration\\Interface]",
        "RandomSeedFile=%APPDATA%\\winscp.rnd",
        "",
        f"[Sessions\\{g.username()}@{g.word()}]",
        f"HostName={g.host()}",
        "PortNumber=22",
    )
    winscp.pos(f"Password={encoded}", "winscp.password", encoded, "obfuscated")
    winscp.add("", "[Sessions\\keyonly]", f"HostName={g.host()}")
    winscp.neg("Password=", "placeholder")
    winscp.add("PublicKeyFile=C:\\Users\\ops\\.ssh\\id_ed25519.ppk")

    sftp = Doc("site/sftp-config.json", "json")
    pw = g.password()
    sftp.add(
        "{",
        '    "type": "sftp",',
        '    "save_before_upload": true,',
        f'    "host": "{g.host()}",',
        f'    "user": "{g.username()}",',
    )
    sftp.pos(f'    "password": "{pw}",', "sftp.password", pw)
    sftp.neg('    "passphrase": "",', "placeholder")
    sftp.add('    "remote_path": "/var/www/",', '    "connect_timeout": 30', "}")

    ftpconfig = Doc("theme/.ftpconfig", "json")
    pw = g.password()
    data = {"protocol": "ftp", "host": g.host(), "port": 21, "user": "web", "pass": pw}
    ftpconfig.text(json.dumps(data, indent=2))
    ftpconfig.mark_pos(pw, "sftp.password")
    return [site, recent, winscp, sftp, ftpconfig]


def _kube_and_terraform(g: Gen) -> list[Doc]:
    kube = Doc("ops/kubeconfig-prod.yaml", "yaml")
    key = b64("\n".join([*pem.rsa_private_pem(g), ""]).encode())
    bootstrap = ".".join((g.lower_alnum(6), g.lower_alnum(16)))
    cert = b64("\n".join(pem.certificate_pem(g)).encode())
    kube.add(
        "apiVersion: v1",
        "clusters:",
        "- cluster:",
        f"    certificate-authority-data: {cert}",
        f"    server: https://{g.host()}:6443",
        "  name: prod",
        "contexts:",
        "- context:",
        "    cluster: prod",
        "    user: admin",
        "  name: prod",
        "current-context: prod",
        "kind: Config",
        "users:",
        "- name: admin",
        "  user:",
        f"    client-certificate-data: {cert}",
    )
    kube.pos(f"    client-key-data: {key}", "kubeconfig.client_key", key, "base64")
    kube.add("- name: ci", "  user:")
    kube.pos(f"    token: {bootstrap}", "kubeconfig.token", bootstrap)
    kube.add("- name: viewer", "  user:")
    kube.neg("    token: REDACTED", "placeholder")

    state = Doc("infra/terraform.tfstate", "json")
    db_pw, result, output = g.password(), g.password("!#%&*()-_=+"), g.password()
    data = {
        "version": 4,
        "terraform_version": "1.7.5",
        "serial": g.num(10, 400),
        "outputs": {
            "endpoint": {"value": f"db.{g.host()}", "type": "string"},
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
                "instances": [{"attributes": {"id": "none", "length": 24, "result": result}}],
            },
            {
                "mode": "managed",
                "type": "aws_iam_user",
                "name": "ci",
                "instances": [{"attributes": {"name": "ci", "password": "", "id": g.uuid()}}],
            },
        ],
    }
    state.text(json.dumps(data, indent=2))
    state.mark_pos(output, "tfstate.sensitive_output")
    state.mark_pos(db_pw, "tfstate.password")
    state.mark_pos(result, "tfstate.random_password")
    state.mark_neg('"password": ""', "placeholder")
    return [kube, state]


def _stores(g: Gen) -> list[Doc]:
    jenkins = Doc("jenkins_home/credentials.xml", "xml")
    secret, key = _jenkins(g), _jenkins(g)
    jenkins.add(
        "<?xml version='1.1' encoding='UTF-8'?>",
        '<com.cloudbees.plugins.credentials.SystemCredentialsProvider plugin="credentials@1319">',
        "  <domainCredentialsMap>",
        "    <com.cloudbees.plugins.credentials.impl.UsernamePasswordCredentialsImpl>",
        "      <id>nexus</id>",
        f"      <username>{g.username()}</username>",
    )
    jenkins.pos(f"      <password>{secret}</password>", "jenkins.credential", secret[1:-1])
    jenkins.add(
        "    </com.cloudbees.plugins.credentials.impl.UsernamePasswordCredentialsImpl>",
        "    <com.cloudbees.jenkins.plugins.sshcredentials.impl.BasicSSHUserPrivateKey>",
        "      <id>deploy-key</id>",
        "      <privateKeySource>",
    )
    jenkins.pos(f"        <privateKey>{key}</privateKey>", "jenkins.credential", key[1:-1])
    jenkins.add(
        "      </privateKeySource>",
        "    </com.cloudbees.jenkins.plugins.sshcredentials.impl.BasicSSHUserPrivateKey>",
        "  </domainCredentialsMap>",
        "</com.cloudbees.plugins.credentials.SystemCredentialsProvider>",
    )

    logins = Doc("backup/firefox/logins.json", "json")
    record = _nss(g)
    entry = {
        "id": 1,
        "hostname": f"https://{g.host()}",
        "formSubmitURL": f"https://{g.host()}",
        "usernameField": "user",
        "passwordField": "pass",
        "encryptedUsername": _nss(g),
        "encryptedPassword": record,
        "encType": 1,
        "timesUsed": g.num(1, 40),
    }
    logins.text(json.dumps({"nextId": 2, "logins": [entry], "version": 3}))
    logins.mark_pos(record, "firefox.logins")

    empty = Doc("backup/firefox-new/logins.json", "json")
    empty.neg(
        '{"nextId":1,"logins":[],"potentiallyVulnerablePasswords":[],"version":3}', "placeholder"
    )
    return [jenkins, logins, empty]


def _profiles_and_servers(g: Gen) -> list[Doc]:
    git = Doc("backups/api.git/config", "ini")
    token = g.alnum(40)
    git.add("[core]", "\trepositoryformatversion = 0", "\tbare = true", '[remote "origin"]')
    git.pos(
        f"\turl = https://ci-bot:{token}@git.{g.host()}/platform/api.git",
        "git.remote_credentials",
        token,
    )
    git.add("\tfetch = +refs/heads/*:refs/remotes/origin/*", '[remote "mirror"]')
    git.neg("\turl = https://ci-bot:${GIT_TOKEN}@git.corp/platform/api.git", "template")

    bashrc = Doc("home/ops/.bashrc", "shell")
    key = g.alnum(32)
    bashrc.add("# ~/.bashrc", 'export PATH="$HOME/bin:$PATH"', "export EDITOR=vim")
    bashrc.pos(f"export MAPS_KEY={key}", "shell.export_key", key)
    bashrc.neg("export GITHUB_TOKEN=$(gh auth token)", "template")
    bashrc.neg("export DB_PASSWORD=changeme", "placeholder")

    env = Doc("deploy/prod.env", "dotenv")
    key, salt = g.alnum(32), g.password()
    env.add("APP_ENV=production", "APP_DEBUG=false")
    env.pos(f"STRIPE_KEY={key}", "dotenv.key", key)
    env.pos(f"HASH_SALT={salt}", "dotenv.key", salt)
    env.neg(f"STRIPE_PUBLISHABLE_KEY={g.alnum(32)}", "public")
    env.neg("SECRET_KEY_FILE=/run/secrets/app_key", "identifier")
    app_secret = g.hex(32)
    env.pos(f"APP_SECRET={app_secret}", "symfony.app_secret", app_secret)

    server = Doc("srv/csgo/cfg/server.cfg", "cfg")
    rcon = g.password("!#%^*?~+")
    server.add(f'hostname "{g.word().capitalize()} 24/7"', "sv_lan 0")
    server.pos(f'rcon_password "{rcon}"', "gameserver.rcon_password", rcon)
    server.neg('sv_password ""', "placeholder")

    props = Doc("srv/minecraft/server.properties", "properties")
    rcon = g.password("!#%^*?~+")
    props.add("enable-rcon=true", "rcon.port=25575")
    props.pos(f"rcon.password={rcon}", "gameserver.rcon_password", rcon)

    ts3 = Doc("srv/teamspeak/ts3server.ini", "ini")
    admin = g.password("!#%^*?~+")
    ts3.add("[ts3server]", "voice_ip=0.0.0.0", "default_voice_port=9987")
    ts3.pos(f"serveradmin_password={admin}", "gameserver.rcon_password", admin)
    return [git, bashrc, env, server, props, ts3]


def _sql_dump(g: Gen) -> list[Doc]:
    dump = Doc("backup/shop-2024.sql", "sql")
    plain = g.password("!#%^*?~+")
    bcrypt = f"$2y$10${g.chars(53, CRYPT64)}"
    md5 = g.hex(32)
    dump.add(
        "-- MySQL dump 10.13  Distrib 8.0.36",
        "DROP TABLE IF EXISTS `users`;",
        "INSERT INTO `users` (`id`, `username`, `email`, `password`) VALUES",
    )
    dump.neg(f"(1, 'admin', 'admin@{g.host()}', '{bcrypt}'),", "password_hash")
    dump.pos(f"(2, 'legacy', 'legacy@{g.host()}', '{plain}'),", "sql_dump.password", plain)
    dump.neg(f"(3, 'bob', 'bob@{g.host()}', '{md5}');", "password_hash")
    dump.neg(
        f"INSERT INTO `products` (`id`, `name`, `sku`) VALUES (1, 'widget', '{g.upper_alnum(12)}');",
        "identifier",
    )
    dump.neg(
        f"INSERT INTO `members` (`id`, `login`, `password`) VALUES (9, 'wp', '$P$B{g.chars(30, CRYPT64)}');",
        "password_hash",
    )
    grant = g.password("!#%^*?~+")
    dump.pos(f"CREATE USER 'report'@'%' IDENTIFIED BY '{grant}';", "sql.user_password", grant)

    # mysqldump's default: INSERTs without column lists, the columns in the CREATE TABLE
    plain = g.password("!#%^*?~+")
    old = Doc("backup/legacy-crm.sql", "sql")
    old.add(
        "DROP TABLE IF EXISTS `members`;",
        "CREATE TABLE `members` (",
        "  `id` int(11) NOT NULL AUTO_INCREMENT,",
        "  `nick` varchar(64) NOT NULL,",
        "  `passwd` varchar(64) NOT NULL,",
        "  PRIMARY KEY (`id`)",
        ") ENGINE=MyISAM DEFAULT CHARSET=latin1;",
        "LOCK TABLES `members` WRITE;",
    )
    old.pos(f"INSERT INTO `members` VALUES (1,'{g.word()}','{plain}');", "sql_dump.password", plain)
    old.add("UNLOCK TABLES;")
    return [dump, old]


def write_stores(g: Gen) -> list[Doc]:
    return [
        *_ftp_clients(g),
        *_kube_and_terraform(g),
        *_stores(g),
        *_profiles_and_servers(g),
        *_sql_dump(g),
    ]
