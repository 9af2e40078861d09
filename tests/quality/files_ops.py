"""Operations files: .NET settings, HTTP client files, logs, SQL, shell scripts, service configs, docs."""

from __future__ import annotations

import json
from urllib.parse import quote

from . import pem
from .files_infra import service_account_json
from .gen import CRYPT64, Gen, b64
from .kinds import KIND_BY_NAME
from .labels import Doc
from .negatives import (
    AWS_EXAMPLE_KEY_IDS,
    AWS_EXAMPLE_SECRETS,
    AZURITE_CONNECTION,
    JWT_IO_SAMPLE,
    SLACK_DOC_TOKEN,
    SLACK_DOC_WEBHOOK,
    STRIPE_DOC_PUBLISHABLE,
    STRIPE_DOC_SECRET,
)


def make(g: Gen, kind: str) -> str:
    return KIND_BY_NAME[kind].make(g)


def _dotnet(g: Gen) -> list[Doc]:
    doc = Doc("src/Acme.Api/appsettings.Production.json", "json", bom=True)
    conn, ad, stripe, jwt_key = (
        make(g, "db.sqlserver_connection_string"),
        make(g, "azure.ad_client_secret"),
        make(g, "stripe.secret_key"),
        make(g, "generic.secret"),
    )
    tenant, client, pk = g.uuid(), g.uuid(), "pk_live_" + g.alnum(99)
    data = {
        "Logging": {"LogLevel": {"Default": "Information", "Microsoft.AspNetCore": "Warning"}},
        "ConnectionStrings": {
            "DefaultConnection": conn,
            "Redis": "redis-cache:6379,abortConnect=false",
        },
        "AzureAd": {
            "Instance": "https://login.microsoftonline.com/",
            "TenantId": tenant,
            "ClientId": client,
            "ClientSecret": ad,
        },
        "Stripe": {"PublishableKey": pk, "SecretKey": stripe},
        "Jwt": {"Issuer": "https://api.acme.io", "SigningKey": jwt_key, "ExpiryMinutes": 60},
        "Smtp": {"Host": "smtp.office365.com", "Password": ""},
        "AllowedHosts": "*",
    }
    doc.text(json.dumps(data, indent=2))
    doc.mark_pos(conn, "db.sqlserver_connection_string")
    doc.mark_pos(ad, "azure.ad_client_secret")
    doc.mark_pos(stripe, "stripe.secret_key")
    doc.mark_pos(jwt_key, "generic.secret")
    doc.mark_neg(tenant, "uuid")
    doc.mark_neg(client, "uuid")
    doc.mark_neg(pk, "publishable_key")
    doc.mark_neg('"Password": ""', "placeholder")

    local = Doc("functions/local.settings.json", "json")
    bus = make(g, "azure.servicebus_connection_string")
    storage = make(g, "azure.storage_connection_string")
    values = {
        "IsEncrypted": False,
        "Values": {
            "AzureWebJobsStorage": "UseDevelopmentStorage=true",
            "FUNCTIONS_WORKER_RUNTIME": "dotnet-isolated",
            "ServiceBusConnection": bus,
            "ArchiveStorage": storage,
            "EmulatorStorage": AZURITE_CONNECTION,
        },
    }
    local.text(json.dumps(values, indent=2))
    local.mark_pos(bus, "azure.servicebus_connection_string")
    local.mark_pos(storage, "azure.storage_connection_string")
    local.mark_neg("UseDevelopmentStorage=true", "placeholder")
    local.mark_neg(AZURITE_CONNECTION, "example_key")
    return [doc, local]


_URLENC_PARAMS: dict[str, tuple[str, ...]] = {
    "aws.secret_access_key": ("aws_secret_access_key", "AWSSecretKey"),
    "azure.storage_account_key": ("account_key", "AccountKey"),
    "generic.password": ("password", "client_secret", "pwd"),
    "slack.webhook_url": ("webhook_url", "callback"),
    "db.postgres_url": ("dsn", "database_url"),
    "twitter.bearer_token": ("bearer_token", "access_token"),
}


def _urlenc_value(g: Gen) -> tuple[str, str, str]:
    """(kind, query parameter, URL-encoded value) of a credential whose encoding changes it."""
    while True:
        kind = g.pick((*_URLENC_PARAMS, "generic.password"))
        value = g.password() if kind == "generic.password" else make(g, kind)
        encoded = quote(value, safe="")
        if encoded != value:
            return kind, g.pick(_URLENC_PARAMS[kind]), encoded


def _http(g: Gen) -> list[Doc]:
    doc = Doc("api/requests.http", "http")
    doc.add("@host = https://api.acme.io", "", "### List invoices", "GET {{host}}/v1/invoices")
    doc.neg("Authorization: Bearer {{token}}", "template")
    doc.add("", "### Legacy partner endpoint", f"GET https://partner.{g.word()}.io/v2/orders")
    basic = b64(f"{g.username()}:{g.password('!^*-_+.?~')}".encode())
    doc.pos(f"Authorization: Basic {basic}", "http.basic_auth_header", basic, "base64")
    doc.add("", "### Geocoder", f"GET https://geo.{g.word()}.io/v1/lookup?q=berlin")
    key = make(g, "generic.api_key")
    doc.pos(f"X-Api-Key: {key}", "http.api_key_header", key)
    for _ in range(3):
        kind, param, enc = _urlenc_value(g)
        doc.add("", "### Export")
        doc.pos(
            f"GET https://export.{g.word()}.io/v1/run?format=csv&{param}={enc}",
            kind,
            enc,
            "urlencoded",
        )
    gh = make(g, "github.pat")
    payload = quote(json.dumps({"token": gh, "repo": "acme/api"}), safe="")
    doc.add("", "### Webhook relay")
    doc.pos(
        f"POST https://relay.{g.word()}.io/hook?payload={payload}", "github.pat", gh, "urlencoded"
    )
    doc.add("", "### Health")
    doc.neg("Authorization: Basic {{basicAuth}}", "template")

    log = Doc("logs/access.log", "log")
    for _ in range(4):
        log.add(
            f'10.0.{g.num(0, 9)}.{g.num(2, 250)} - - [12/May/2024:10:{g.num(10, 59)}:01 +0000] "GET /healthz HTTP/1.1" 200 2'
        )
        kind, param, enc = _urlenc_value(g)
        log.pos(
            f"10.0.{g.num(0, 9)}.{g.num(2, 250)} - - [12/May/2024:10:{g.num(10, 59)}:07 +0000] "
            f'"GET /oauth/callback?state={g.hex(16)}&{param}={enc} HTTP/1.1" 302 0',
            kind,
            enc,
            "urlencoded",
        )
    log.neg(
        f'10.0.1.9 - - [12/May/2024:10:31:02 +0000] "GET /api/v1/items?request_id={g.uuid()} HTTP/1.1" 200 512',
        "uuid",
    )
    log.neg(
        f'10.0.1.9 - - [12/May/2024:10:31:04 +0000] "GET /static/app.{g.hex(20)}.js HTTP/1.1" 200 90211',
        "hash",
    )
    bearer = g.jwt()
    log.pos(
        f"2024-05-12T10:31:05Z WARN upstream rejected request headers={{'Authorization': 'Bearer {bearer}'}}",
        "jwt",
        bearer,
    )
    return [doc, log]


def _sql_and_services(g: Gen) -> list[Doc]:
    sql = Doc("db/migrations/0007_service_accounts.sql", "sql")
    pw = g.password("!^*-_+.?~")
    sql.pos(f"CREATE USER reporting WITH PASSWORD '{pw}';", "sql.user_password", pw)
    sql.add("GRANT SELECT ON ALL TABLES IN SCHEMA public TO reporting;")
    pw = g.password("!^*-_+.?~")
    sql.pos(f"ALTER USER 'etl'@'%' IDENTIFIED BY '{pw}';", "sql.user_password", pw)
    sql.neg("CREATE USER readonly WITH PASSWORD :'readonly_password';", "template")
    sql.add("INSERT INTO users (email, password_hash, role) VALUES")
    for i in range(3):
        sep = "," if i < 2 else ";"
        sql.neg(
            f"  ('user{i}@acme.io', '$2b$12${g.chars(53, CRYPT64)}', 'admin'){sep}", "password_hash"
        )
    sql.neg(f"INSERT INTO api_keys (name, key_sha256) VALUES ('ci', '{g.hex(64)}');", "hash")
    sql.neg(f"INSERT INTO tenants (id, name) VALUES ('{g.uuid()}', 'acme');", "uuid")

    redis = Doc("deploy/redis/redis.conf", "redis-conf")
    redis.add("bind 0.0.0.0", "port 6379", "# requirepass foobared")
    pw = g.password("!^*-_+.?~")
    redis.pos(f"requirepass {pw}", "redis.requirepass", pw)
    pw = g.password("!^*-_+.?~")
    redis.pos(f"masterauth {pw}", "redis.requirepass", pw)
    redis.add("maxmemory 2gb", "maxmemory-policy allkeys-lru")

    wg = Doc("deploy/wireguard/wg0.conf", "wireguard")
    wg.add("[Interface]", "Address = 10.8.0.1/24", "ListenPort = 51820")
    key = pem.wireguard_key(g)
    wg.pos(f"PrivateKey = {key}", "wireguard.private_key", key)
    wg.add("", "[Peer]")
    wg.neg(f"PublicKey = {pem.wireguard_key(g)}", "public_key")
    psk = pem.wireguard_key(g)
    wg.pos(f"PresharedKey = {psk}", "wireguard.preshared_key", psk)
    wg.add("AllowedIPs = 10.8.0.2/32")
    return [sql, redis, wg]


def _shell(g: Gen) -> list[Doc]:
    sh = Doc("scripts/deploy.sh", "shell")
    sh.add("#!/usr/bin/env bash", "set -euo pipefail", "")
    pw = g.password("^*-_+.?~")
    sh.pos(f"mysql -h {g.host()} -u root -p'{pw}' billing < dump.sql", "cli.mysql_password", pw)
    sh.neg(
        'mysql -h "$DB_HOST" -u root -p"$MYSQL_ROOT_PASSWORD" billing < dump.sql', "env_reference"
    )
    pw = g.password("^*-_+.?~")
    sh.pos(
        f"curl -fsS -u admin:{pw} https://grafana.{g.word()}.internal/api/dashboards/db",
        "cli.curl_basic_auth",
        pw,
    )
    sh.neg(
        'curl -fsS -u "admin:${GRAFANA_PASSWORD}" https://grafana.example.internal/api/health',
        "env_reference",
    )
    pw = g.password("^*-_+.?~")
    sh.pos(
        f"sshpass -p '{pw}' ssh deploy@{g.host()} 'sudo systemctl restart api'", "cli.sshpass", pw
    )
    tok = make(g, "dockerhub.pat")
    sh.pos(f"docker login -u acmeci -p {tok}", "dockerhub.pat", tok)
    sh.neg('echo "$DOCKER_TOKEN" | docker login -u acmeci --password-stdin', "env_reference")
    pw = g.password("^*-_+.?~")
    sh.pos(f"PGPASSWORD='{pw}' psql -h {g.host()} -U app -c 'select 1'", "cli.pgpassword", pw)
    pw = g.password("^*-_+.?~")
    sh.pos(f"redis-cli -h {g.host()} -a '{pw}' ping", "cli.redis_password", pw)
    secret = make(g, "aws.secret_access_key")
    sh.pos(
        f"aws configure set aws_secret_access_key {secret} --profile deploy",
        "aws.secret_access_key",
        secret,
    )
    sh.neg('read -rsp "Vault token: " VAULT_TOKEN', "benign_config")
    sh.neg('export VAULT_TOKEN="$(cat ~/.vault-token)"', "env_reference")
    sh.neg(f"echo '{g.hex(64)}  release.tar.gz' | sha256sum -c -", "hash")
    tok = make(g, "generic.token")
    sh.pos(
        f'curl -H "X-Auth-Token: {tok}" https://status.{g.word()}.io/api/incidents',
        "http.api_key_header",
        tok,
    )

    gitlab = Doc(".gitlab-ci.yml", "gitlab-ci")
    sa, _ = service_account_json(g)
    encoded = b64(json.dumps(sa).encode())
    gitlab.add("variables:", "  DOCKER_DRIVER: overlay2")
    gitlab.pos(f"  GOOGLE_CREDENTIALS_B64: {encoded}", "gcp.service_account", encoded, "base64")
    gitlab.neg("  DEPLOY_TOKEN: $CI_JOB_TOKEN", "env_reference")
    gitlab.add(
        "deploy:",
        "  image: google/cloud-sdk:slim",
        "  script:",
        '    - echo "$GOOGLE_CREDENTIALS_B64" | base64 -d > /tmp/sa.json',
        "    - gcloud auth activate-service-account --key-file /tmp/sa.json",
    )
    return [sh, gitlab]


def _docs(g: Gen) -> list[Doc]:
    readme = Doc("docs/README.md", "markdown")
    readme.add(
        "# Acme API",
        "",
        "## Configuration",
        "",
        "The AWS SDK reads credentials from the environment:",
        "",
        "```ini",
    )
    readme.neg(f"aws_access_key_id = {AWS_EXAMPLE_KEY_IDS[1]}", "example_key")
    readme.neg(f"aws_secret_access_key = {AWS_EXAMPLE_SECRETS[1]}", "example_key")
    readme.add("```", "", "Tokens are JWTs, for example:", "")
    readme.neg(f"    Authorization: Bearer {JWT_IO_SAMPLE}", "example_key")
    readme.add("", "Use Stripe's test keys while developing:", "", "```js")
    readme.neg(f"const stripe = require('stripe')('{STRIPE_DOC_SECRET}');", "example_key")
    readme.neg(f"const pk = '{STRIPE_DOC_PUBLISHABLE}';", "publishable_key")
    readme.add("```", "", "Slack notifications:", "", "```bash")
    readme.neg(f"export SLACK_WEBHOOK_URL={SLACK_DOC_WEBHOOK}", "example_key")
    readme.neg(f"export SLACK_BOT_TOKEN={SLACK_DOC_TOKEN}", "example_key")
    readme.neg("export GITHUB_TOKEN=ghp_" + "X" * 36, "placeholder")
    readme.neg("export OPENAI_API_KEY=sk-proj-...", "placeholder")
    readme.neg("export ANTHROPIC_API_KEY=<your-anthropic-key>", "placeholder")
    readme.add("```", "", "Private keys look like this (never commit a real one):", "", "```")
    readme.neg_block(
        [
            pem.armor_begin("RSA PRIVATE KEY"),
            "MIIEpAIBAAKCAQEA...",
            "...",
            pem.armor_end("RSA PRIVATE KEY"),
        ],
        "placeholder",
    )
    readme.add("```", "", "Connection strings use environment substitution:", "", "```")
    readme.neg("DATABASE_URL=postgres://app:${DB_PASSWORD}@db:5432/app", "template")
    readme.neg("DATABASE_URL=postgres://user:password@localhost:5432/app", "placeholder")
    readme.neg(
        "MONGO_URL=mongodb://<username>:<password>@cluster0.example.mongodb.net/test", "placeholder"
    )
    readme.neg("REDIS_URL=redis://:changeme@localhost:6379/0", "placeholder")
    readme.add("```", "", "Password hashes in `users.yml` are bcrypt:", "")
    readme.neg(f'    password: "$2b$10${g.chars(53, CRYPT64)}"', "password_hash")
    readme.add("", "Release artifacts are signed; verify with:", "")
    readme.neg(f"    sha256: {g.hex(64)}", "hash")
    readme.neg(f"    commit: {g.hex(40)}", "git_sha")

    example = Doc(".env.example", "dotenv")
    example.add("# Copy to .env and fill in")
    for line, kind in (
        ("DATABASE_URL=postgres://USER:PASSWORD@localhost:5432/acme", "placeholder"),
        ("STRIPE_SECRET_KEY=sk_live_...", "placeholder"),
        ("STRIPE_PUBLISHABLE_KEY=pk_live_" + g.alnum(24), "publishable_key"),
        ("GITHUB_TOKEN=", "placeholder"),
        ("AWS_ACCESS_KEY_ID=" + AWS_EXAMPLE_KEY_IDS[0], "example_key"),
        ("AWS_SECRET_ACCESS_KEY=" + AWS_EXAMPLE_SECRETS[0], "example_key"),
        ("SENDGRID_API_KEY=SG.your-key-here", "placeholder"),
        ("JWT_SECRET=${JWT_SECRET}", "template"),
        ("SLACK_WEBHOOK_URL=https://hooks.slack.com/services/XXX/YYY/ZZZ", "placeholder"),
        ("OPENAI_API_KEY=sk-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "placeholder"),
        ("SESSION_SECRET=replace-with-64-random-chars", "placeholder"),
        ("ADMIN_PASSWORD=admin", "placeholder"),
    ):
        example.neg(line, kind)
    return [readme, example]


def write_ops(g: Gen) -> list[Doc]:
    return [*_dotnet(g), *_http(g), *_sql_and_services(g), *_shell(g), *_docs(g)]
