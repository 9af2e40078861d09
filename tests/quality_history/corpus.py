"""A labelled git HISTORY corpus: a real repository whose leak events are known by construction.

`build_history(root, seed)` creates, with the git CLI, a ~33-commit repository: branches (one never
merged), tags (one commit reachable only from a tag), merges (one resolving a conflict by adding a
secret), renames, a rename with edits, a copy, deletions, a secret removed then re-added (by hand
and by `git revert`), a cherry-pick, a secret's line edited without changing the secret, ~23 kinds of credentials in .env, YAML, JSON, Python, shell,
Terraform, PEM, .npmrc, workflow and Markdown files, and hard negatives (placeholders, documented
example keys, environment references, hashes, UUIDs, public keys, certificates).

A leak EVENT is a (commit, path) where a secret appears that the commit's parent did not have at
that path: a re-add after removal and a copy to another path are new events; a pure rename is not;
a merge counts only for what it added itself (here: its conflict resolution); a cherry-pick is a
new commit, hence a new event. `Event.in_head` tells whether the secret value is still anywhere in
HEAD's tree. Every credential is random, in its provider's real format (see secrets.py).
"""

from __future__ import annotations

import base64
import os
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import NamedTuple

from .secrets import AWS_DOC_KEY_ID, AWS_DOC_SECRET, Gen


class Event(NamedTuple):
    """An expected leak event: `line`..`end_line` (1-based, inclusive) in `path` at `commit`."""

    commit: str
    path: str
    line: int
    kind: str
    in_head: bool
    end_line: int = 0  # 0: same as line
    preview: str = ""  # at most the first 4 characters of the value

    @property
    def last_line(self) -> int:
        return self.end_line or self.line


class Negative(NamedTuple):
    """A hard-negative line: something credential-shaped that is not a leak."""

    commit: str
    path: str
    line: int
    kind: str


@dataclass(slots=True)
class HistoryCorpus:
    root: Path
    seed: int
    events: list[Event]
    negatives: list[Negative]
    commits: int
    refs: list[str]
    # Every (commit, path, line) whose file at that commit holds a labelled secret (its first line),
    # with the secret's kind: where a tool that re-reports an old secret at a later commit lands.
    secret_lines: dict[tuple[str, str, int], str] = field(default_factory=dict)

    def summary(self) -> str:
        gone = sum(not e.in_head for e in self.events)
        return (
            f"seed {self.seed}: {self.commits} commits, {len(self.refs)} refs, "
            f"{len(self.events)} leak events of {len({e.kind for e in self.events})} kinds "
            f"({gone} no longer at HEAD), {len(self.negatives)} hard-negative lines"
        )


_AUTHORS = (
    ("Ada Byron", "ada@billing.invalid"),
    ("Grace Murray", "grace@billing.invalid"),
    ("Linus Ng", "linus@billing.invalid"),
)
_START = datetime(2023, 3, 1, 9, 0, tzinfo=UTC)


@dataclass(slots=True)
class _Pending:
    path: str
    kind: str
    needle: list[str]  # the value's lines (one for a single-line value)
    positive: bool


@dataclass(slots=True)
class _Repo:
    root: Path
    tick: int = 0
    pending: list[_Pending] = field(default_factory=list)
    placed: list[tuple[str, _Pending]] = field(default_factory=list)  # (commit, label)

    # -- git -----------------------------------------------------------------------------------
    def env(self) -> dict[str, str]:
        name, email = _AUTHORS[self.tick % len(_AUTHORS)]
        when = (_START + timedelta(days=self.tick, hours=self.tick % 7)).isoformat()
        return {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.root),
            "LANG": "C",
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_AUTHOR_NAME": name,
            "GIT_AUTHOR_EMAIL": email,
            "GIT_AUTHOR_DATE": when,
            "GIT_COMMITTER_NAME": name,
            "GIT_COMMITTER_EMAIL": email,
            "GIT_COMMITTER_DATE": when,
        }

    def git(self, *args: str, check: bool = True) -> str:
        done = subprocess.run(
            [
                "git",
                "-c",
                "commit.gpgsign=false",
                "-c",
                "tag.gpgsign=false",
                "-c",
                "core.autocrlf=false",
                "-c",
                "merge.conflictstyle=merge",
                *args,
            ],
            cwd=self.root,
            env=self.env(),
            capture_output=True,
            text=True,
            check=False,
        )
        if check and done.returncode != 0:
            raise RuntimeError(f"git {' '.join(args)} failed: {done.stderr.strip()}")
        return done.stdout.strip()

    # -- content -------------------------------------------------------------------------------
    def write(
        self,
        path: str,
        lines: list[str],
        leaks: Sequence[tuple[str, str | list[str]]] = (),
        negatives: Sequence[tuple[str, str]] = (),
    ) -> None:
        """Write a file; `leaks` are (kind, value) this commit introduces at `path`."""
        target = self.root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("\n".join(lines) + "\n", encoding="utf-8")
        for kind, value in leaks:
            self.expect(path, kind, value)
        for kind, needle in negatives:
            self.pending.append(_Pending(path, kind, [needle], positive=False))

    def expect(self, path: str, kind: str, value: str | list[str]) -> None:
        needle = value if isinstance(value, list) else [value]
        self.pending.append(_Pending(path, kind, needle, positive=True))

    def commit(self, message: str) -> str:
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message)
        return self.settle()

    def settle(self) -> str:
        """Attach the pending labels to HEAD's commit, then move the clock on."""
        sha = self.git("rev-parse", "HEAD")
        for label in self.pending:
            self.placed.append((sha, label))
        self.pending = []
        self.tick += 1
        return sha

    def lines_at(self, commit: str, path: str) -> list[str]:
        return self.git("show", f"{commit}:{path}").split("\n")

    def head_text(self) -> str:
        files = self.git("ls-tree", "-r", "--name-only", "HEAD").splitlines()
        return "\n".join(self.git("show", f"HEAD:{f}") for f in files)


def _locate(lines: list[str], needle: list[str], where: str) -> tuple[int, int]:
    hits = [i for i, text in enumerate(lines) if needle[0] in text]
    if len(hits) != 1:
        raise AssertionError(f"{where}: value found on {len(hits)} lines, expected exactly 1")
    start = hits[0]
    for offset, part in enumerate(needle[1:], start=1):
        if start + offset >= len(lines) or part not in lines[start + offset]:
            raise AssertionError(f"{where}: multi-line value is not contiguous")
    return start + 1, start + len(needle)


def build_history(root: Path, seed: int) -> list[Event]:
    """Create the repository at `root` (empty or missing) and return its expected leak events."""
    return build_corpus(root, seed).events


def build_corpus(root: Path, seed: int) -> HistoryCorpus:
    root.mkdir(parents=True, exist_ok=True)
    if any(root.iterdir()):
        raise ValueError(f"{root} is not empty")
    g = Gen(seed)
    r = _Repo(root)
    r.git("init", "-q", "-b", "main")

    # Every value is drawn up front so that re-adds reuse the same secret.
    pw_db, pw_tf, pw_compose, pw_backup = g.password(), g.password(), g.password(), g.password()
    pw_registry, pw_k8s, pw_pgpass = g.password(), g.url_password(), g.url_password()
    db_pw = g.url_password()
    db_url = f"postgres://billing:{db_pw}@db.internal:5432/billing"
    slack_hook, slack_bot = g.slack_webhook(), g.slack_bot()
    aws1, aws1s, aws2, aws2s = g.aws_key_id(), g.aws_secret(), g.aws_key_id(), g.aws_secret()
    gh_pat, gh_oauth, npm = g.github("ghp_"), g.github("gho_"), g.npm()
    stripe1, stripe2, stripe_rk = g.stripe(), g.stripe(), g.stripe("rk_live_")
    openai1, openai2, anthropic = g.openai(), g.openai(), g.anthropic()
    sendgrid, jwt, gitlab = g.sendgrid(), g.jwt(), g.gitlab()
    twilio_sk, twilio_auth, twilio_ac = g.twilio_key_sid(), g.twilio_auth(), "AC" + g.sha1()[:32]
    google, mailgun, hf, django = g.google(), g.mailgun(), g.huggingface(), g.django()
    private_key = g.rsa_private_key()

    # 1 ------------------------------------------------------------------------------------------
    r.write("README.md", ["# billing", "", "Invoices and payments.", ""])
    r.write(
        "app.py",
        ["import os", "", "", "def main() -> None:", '    print(os.environ.get("APP_ENV"))', ""],
    )
    r.write(".gitignore", ["__pycache__/", "*.pyc", "node_modules/"])
    r.write(
        ".env.example",
        [
            "APP_ENV=development",
            "STRIPE_SECRET_KEY=sk_live_xxxxxxxxxxxxxxxxxxxxxxxx",
            "OPENAI_API_KEY=<your-openai-api-key>",
            "DATABASE_URL=postgres://user:password@localhost:5432/billing",
            "GITHUB_TOKEN=${GITHUB_TOKEN}",
        ],
        negatives=[
            ("placeholder", "sk_live_xxx"),
            ("placeholder", "<your-openai"),
            ("placeholder", "user:password@localhost"),
            ("env_reference", "${GITHUB_TOKEN}"),
        ],
    )
    r.commit("Initial commit")

    # 2: secrets in YAML -------------------------------------------------------------------------
    build_sha, request_id = g.sha1(), g.uuid()
    settings = [
        "service:",
        "  name: billing",
        "  log_level: debug",
        "  timeout_seconds: 30",
        "database:",
        "  host: db.internal",
        "  port: 5432",
        "  user: billing",
        f'  password: "{pw_db}"',
        "notifications:",
        f'  slack_webhook: "{slack_hook}"',
        '  channel: "#billing-alerts"',
        "build:",
        f"  commit: {build_sha}",
        f"  request_id: {request_id}",
    ]
    r.write(
        "config/settings.yaml",
        settings,
        leaks=[("generic.password", pw_db), ("slack.webhook_url", slack_hook)],
        negatives=[("git_sha", build_sha), ("uuid", request_id)],
    )
    r.commit("Add service configuration")

    # 3-4: shell script, cleaned up in the next commit ------------------------------------------
    r.write(
        "deploy.sh",
        [
            "#!/usr/bin/env bash",
            "set -euo pipefail",
            f"export AWS_ACCESS_KEY_ID={aws1}",
            f"export AWS_SECRET_ACCESS_KEY={aws1s}",
            f"export GITHUB_TOKEN={gh_pat}",
            "aws s3 sync ./dist s3://billing-artifacts/",
            'curl -s -H "Authorization: token $GITHUB_TOKEN" https://api.github.com/repos/acme/billing',
        ],
        leaks=[
            ("aws.access_key_id", aws1),
            ("aws.secret_access_key", aws1s),
            ("github.pat", gh_pat),
        ],
    )
    r.commit("Add deploy script")
    r.write(
        "deploy.sh",
        [
            "#!/usr/bin/env bash",
            "set -euo pipefail",
            ': "${AWS_ACCESS_KEY_ID:?}" "${AWS_SECRET_ACCESS_KEY:?}" "${GITHUB_TOKEN:?}"',
            "aws s3 sync ./dist s3://billing-artifacts/",
            'curl -s -H "Authorization: token $GITHUB_TOKEN" https://api.github.com/repos/acme/billing',
        ],
        negatives=[("env_reference", "${AWS_SECRET_ACCESS_KEY:?}")],
    )
    r.commit("Read deploy credentials from the environment")

    # 5: .env ------------------------------------------------------------------------------------
    r.write(
        ".env",
        [
            "APP_ENV=production",
            f"STRIPE_SECRET_KEY={stripe1}",
            f"OPENAI_API_KEY={openai1}",
            f"DATABASE_URL={db_url}",
            "SESSION_TTL=3600",
        ],
        leaks=[
            ("stripe.secret_key", stripe1),
            ("openai.api_key", openai1),
            ("db.postgres_url", db_url),
        ],
    )
    r.commit("Add production environment")

    # 6: pure rename -----------------------------------------------------------------------------
    r.git("mv", "config/settings.yaml", "config/app.yaml")
    r.commit("Rename settings.yaml to app.yaml")

    # 7: .npmrc + lockfile, tagged v1.0.0 ------------------------------------------------------
    integrity = g.integrity()
    r.write(
        ".npmrc",
        [
            "registry=https://registry.npmjs.org/",
            f"//registry.npmjs.org/:_authToken={npm}",
            "always-auth=true",
        ],
        leaks=[("npm.token", npm)],
    )
    r.write(
        "package-lock.json",
        [
            "{",
            '  "name": "billing",',
            '  "lockfileVersion": 3,',
            '  "packages": {',
            '    "node_modules/left-pad": {',
            '      "version": "1.3.0",',
            f'      "integrity": "{integrity}"',
            "    }",
            "  }",
            "}",
        ],
        negatives=[("integrity_hash", integrity)],
    )
    docker_auth = base64.b64encode(f"deploy:{pw_registry}".encode()).decode()
    r.write(
        ".docker/config.json",
        [
            "{",
            '  "auths": {',
            f'    "registry.billing.internal": {{"auth": "{docker_auth}"}}',
            "  }",
            "}",
        ],
        leaks=[("docker.registry_auth", docker_auth)],
    )
    r.commit("Publish to the private registry")
    r.git("tag", "-a", "v1.0.0", "-m", "v1.0.0")

    # 8: deletion --------------------------------------------------------------------------------
    r.git("rm", "-q", ".env")
    r.commit("Stop tracking .env")

    # feature/payments (merged later) ------------------------------------------------------------
    template_id = "d-" + g.sha1()[:32]
    r.git("checkout", "-q", "-b", "feature/payments")
    r.write(
        "payments/client.py",
        [
            "import stripe",
            "",
            f'stripe.api_key = "{stripe2}"',
            f'SENDGRID_API_KEY = "{sendgrid}"',
            f'RECEIPT_TEMPLATE = "{template_id}"',
            "",
            "",
            "def charge(amount: int, customer: str) -> str:",
            "    return stripe.Charge.create(amount=amount, customer=customer).id",
        ],
        leaks=[("stripe.secret_key", stripe2), ("sendgrid.api_key", sendgrid)],
        negatives=[("identifier", template_id)],
    )
    r.write(
        "payments/webhooks.py",
        [
            "import os",
            "",
            f'STRIPE_RESTRICTED_KEY = "{stripe_rk}"',
            'ENDPOINT_SECRET = os.environ["STRIPE_ENDPOINT_SECRET"]',
        ],
        leaks=[("stripe.restricted_key", stripe_rk)],
        negatives=[("env_reference", "STRIPE_ENDPOINT_SECRET")],
    )
    r.commit("Payments client and webhooks")
    r.write(
        "infra/main.tf",
        [
            'provider "aws" {',
            '  region     = "eu-west-1"',
            f'  access_key = "{aws2}"',
            f'  secret_key = "{aws2s}"',
            "}",
            "",
            'resource "aws_db_instance" "payments" {',
            '  identifier        = "payments"',
            '  engine            = "postgres"',
            '  instance_class    = "db.t3.micro"',
            '  username          = "payments"',
            f'  password          = "{pw_tf}"',
            "  allocated_storage = 20",
            "}",
        ],
        leaks=[
            ("aws.access_key_id", aws2),
            ("aws.secret_access_key", aws2s),
            ("generic.password", pw_tf),
        ],
    )
    r.commit("Terraform for the payments database")

    # main: JSON, shifted lines, a copy, then the merge ------------------------------------------
    r.git("checkout", "-q", "main")
    kid = g.uuid()
    r.write(
        "auth/jwt_config.json",
        [
            "{",
            '  "issuer": "billing",',
            '  "audience": "internal",',
            f'  "service_jwt": "{jwt}",',
            f'  "kid": "{kid}"',
            "}",
        ],
        leaks=[("jwt", jwt)],
        negatives=[("uuid", kid)],
    )
    settings = ["# Billing service settings", "# Owner: payments team", *settings]
    r.write("config/app.yaml", settings)  # same secrets, shifted two lines down: no event
    r.commit("Service-to-service JWT")
    r.write(
        "config/staging.yaml",
        settings,
        leaks=[("generic.password", pw_db), ("slack.webhook_url", slack_hook)],
    )
    r.commit("Staging configuration (copy of app.yaml)")
    r.git("merge", "-q", "--no-ff", "feature/payments", "-m", "Merge branch 'feature/payments'")
    r.settle()

    r.write(
        "infra/main.tf",
        [
            'provider "aws" {',
            "  region = var.region",
            "}",
            "",
            'resource "aws_db_instance" "payments" {',
            '  identifier        = "payments"',
            '  engine            = "postgres"',
            '  instance_class    = "db.t3.micro"',
            '  username          = "payments"',
            "  password          = var.db_password",
            "  allocated_storage = 20",
            "}",
        ],
        negatives=[("env_reference", "var.db_password")],
    )
    r.commit("Terraform: credentials from variables")

    # hotfix/sms: conflicts with main on log_level; the resolution adds a secret ---------------
    r.git("checkout", "-q", "-b", "hotfix/sms")
    r.write(
        "notify/sms.py",
        [
            "from twilio.rest import Client",
            "",
            f'TWILIO_ACCOUNT_SID = "{twilio_ac}"',
            f'TWILIO_API_KEY = "{twilio_sk}"',
            f'TWILIO_AUTH_TOKEN = "{twilio_auth}"',
            "",
            "client = Client(TWILIO_API_KEY, TWILIO_AUTH_TOKEN, TWILIO_ACCOUNT_SID)",
        ],
        leaks=[("twilio.api_key", twilio_sk), ("twilio.auth_token", twilio_auth)],
        negatives=[("identifier", twilio_ac)],
    )
    hotfix_settings = [s.replace("log_level: debug", "log_level: info") for s in settings]
    r.write("config/app.yaml", hotfix_settings)
    r.commit("Hotfix: SMS notifications")
    r.git("checkout", "-q", "main")
    # The password line is edited (unquoted) but keeps its value: not a new event.
    main_settings = [
        s.replace("log_level: debug", "log_level: warn").replace(f'"{pw_db}"', pw_db)
        for s in settings
    ]
    r.write("config/app.yaml", main_settings)
    r.commit("Quieter logs, unquoted values")
    r.git("merge", "-q", "--no-ff", "hotfix/sms", "-m", "Merge branch 'hotfix/sms'", check=False)
    resolved = [s.replace("log_level: warn", "log_level: info") for s in main_settings]
    resolved += ["ci:", f'  gitlab_token: "{gitlab}"']
    r.write("config/app.yaml", resolved, leaks=[("gitlab.pat", gitlab)])
    r.git("add", "config/app.yaml")
    r.git("commit", "-q", "--no-edit")
    r.settle()

    r.write(
        "payments/client.py",
        [
            "import os",
            "",
            "import stripe",
            "",
            'stripe.api_key = os.environ["STRIPE_SECRET_KEY"]',
            'SENDGRID_API_KEY = os.environ["SENDGRID_API_KEY"]',
            f'RECEIPT_TEMPLATE = "{template_id}"',
        ],
    )
    r.commit("Payments: keys from the environment")

    # re-add after removal (same values) plus a new one -----------------------------------------
    r.write(
        ".env",
        [
            "APP_ENV=development",
            f"OPENAI_API_KEY={openai1}",
            f"ANTHROPIC_API_KEY={anthropic}",
            f"DATABASE_URL={db_url}",
        ],
        leaks=[
            ("openai.api_key", openai1),
            ("anthropic.api_key", anthropic),
            ("db.postgres_url", db_url),
        ],
    )
    r.commit("Restore .env for local development")

    # PEM private key, deleted in the next commit ----------------------------------------------
    cert = g.certificate()
    r.write("certs/server.key", private_key, leaks=[("private_key.rsa", private_key)])
    r.write("certs/server.crt", cert, negatives=[("certificate", cert[1])])
    r.commit("TLS for the local proxy")
    r.git("rm", "-q", "certs/server.key")
    r.commit("Remove the private key")

    # experiment/ml: never merged; its first commit is cherry-picked onto main -----------------
    revision = g.sha1()
    r.git("checkout", "-q", "-b", "experiment/ml")
    ml = [
        "import os",
        "",
        f'HF_TOKEN = "{hf}"',
        f'OPENAI_API_KEY = "{openai2}"',
        f'MODEL_REVISION = "{revision}"',
    ]
    r.write(
        "ml/train.py",
        ml,
        leaks=[("huggingface.token", hf), ("openai.api_key", openai2)],
        negatives=[("git_sha", revision)],
    )
    ml_commit = r.commit("Churn model training")
    r.write("ml/train.py", [s.replace(f'"{hf}"', 'os.environ["HF_TOKEN"]') for s in ml])
    r.commit("Training: HF token from the environment")
    r.git("checkout", "-q", "main")
    r.expect("ml/train.py", "huggingface.token", hf)
    r.expect("ml/train.py", "openai.api_key", openai2)
    r.git("cherry-pick", ml_commit)
    r.settle()

    # workflow ----------------------------------------------------------------------------------
    action_sha = g.sha1()
    r.write(
        ".github/workflows/ci.yml",
        [
            "name: ci",
            "on: [push]",
            "jobs:",
            "  test:",
            "    runs-on: ubuntu-latest",
            "    env:",
            f"      GOOGLE_MAPS_API_KEY: {google}",
            "      NPM_TOKEN: ${{ secrets.NPM_TOKEN }}",
            "    steps:",
            f"      - uses: actions/checkout@{action_sha}",
            "      - run: npm ci",
        ],
        leaks=[("google.api_key", google)],
        negatives=[("env_reference", "secrets.NPM_TOKEN"), ("git_sha", action_sha)],
    )
    r.commit("CI workflow")

    # rename with edits: only the added value is an event --------------------------------------
    r.git("mv", "auth/jwt_config.json", "config/jwt.json")
    r.write(
        "config/jwt.json",
        [
            "{",
            '  "issuer": "billing",',
            '  "audience": "internal",',
            f'  "service_jwt": "{jwt}",',
            f'  "mailgun_api_key": "{mailgun}",',
            f'  "kid": "{kid}"',
            "}",
        ],
        leaks=[("mailgun.api_key", mailgun)],
    )
    r.commit("Move the JWT config under config/, add mail")

    # a commit reachable only from a tag ---------------------------------------------------------
    r.git("checkout", "-q", "-b", "release-tmp")
    r.write(
        "scripts/release.sh",
        [
            "#!/bin/sh",
            f"GH_RELEASE_TOKEN={gh_oauth}",
            'gh release create "$1" --notes-file CHANGELOG.md',
        ],
        leaks=[("github.oauth_token", gh_oauth)],
    )
    r.commit("Release helper")
    r.git("tag", "-a", "v1.1.0-rc1", "-m", "release candidate")
    r.git("checkout", "-q", "main")
    r.git("branch", "-q", "-D", "release-tmp")

    # docs: a token, removed, then restored by `git revert` -------------------------------------
    docs = [
        "# Setup",
        "",
        f"AWS examples use `{AWS_DOC_KEY_ID}` / `{AWS_DOC_SECRET}`.",
        "Set `STRIPE_SECRET_KEY=sk_live_...` and `GITHUB_TOKEN=<token>` in your shell.",
        "",
        "Post a message:",
        "",
        "```sh",
        f'curl -H "Authorization: Bearer {slack_bot}" https://slack.com/api/chat.postMessage',
        "```",
    ]
    r.write(
        "docs/setup.md",
        docs,
        leaks=[("slack.bot_token", slack_bot)],
        negatives=[("documented_example", AWS_DOC_KEY_ID), ("placeholder", "sk_live_...")],
    )
    r.commit("Setup docs")
    r.write("docs/setup.md", [s.replace(slack_bot, "$SLACK_BOT_TOKEN") for s in docs])
    removal = r.commit("Docs: token from the environment")
    r.expect("docs/setup.md", "slack.bot_token", slack_bot)
    r.git("revert", "--no-edit", removal)
    r.settle()

    # compose + Django + backup script (some stay at HEAD) --------------------------------------
    digest, ssh_key = g.sha256(), g.ssh_public()
    r.write(
        "docker-compose.yml",
        [
            "services:",
            "  db:",
            f"    image: postgres@sha256:{digest}",
            "    environment:",
            "      POSTGRES_USER: billing",
            f"      POSTGRES_PASSWORD: {pw_compose}",
            "  app:",
            "    build: .",
            "    environment:",
            "      DATABASE_PASSWORD: ${DATABASE_PASSWORD}",
        ],
        leaks=[("generic.password", pw_compose)],
        negatives=[("hash", digest), ("env_reference", "${DATABASE_PASSWORD}")],
    )
    r.commit("Docker compose for local runs")
    r.write(
        "web/settings.py",
        [
            "import os",
            "",
            f'SECRET_KEY = "{django}"',
            "DEBUG = False",
            'ALLOWED_HOSTS = ["billing.internal"]',
            'DATABASE_PASSWORD = os.environ.get("DB_PASSWORD", "")',
            f'DEPLOY_KEY_PUB = "{ssh_key}"',
        ],
        leaks=[("django.secret_key", django)],
        negatives=[("env_reference", "DB_PASSWORD"), ("public_key", "ssh-ed25519")],
    )
    r.write(
        "scripts/backup.sh",
        [
            "#!/bin/sh",
            f"export PGPASSWORD='{pw_backup}'",
            "pg_dump -h db.internal -U billing billing > backup.sql",
        ],
        leaks=[("generic.password", pw_backup)],
    )
    r.write(
        ".pgpass",
        [f"db.internal:5432:billing:billing:{pw_pgpass}"],
        leaks=[("postgres.pgpass", pw_pgpass)],
    )
    k8s_value = base64.b64encode(pw_k8s.encode()).decode()
    r.write(
        "k8s/db-secret.yaml",
        [
            "apiVersion: v1",
            "kind: Secret",
            "metadata:",
            "  name: billing-db",
            "type: Opaque",
            "data:",
            "  username: YmlsbGluZw==",
            f"  password: {k8s_value}",
        ],
        leaks=[("kubernetes.secret_data", k8s_value)],
        negatives=[("encoded_identifier", "YmlsbGluZw==")],
    )
    r.commit("Django settings, backup script, k8s secret")

    # scrub: many secrets leave HEAD ---------------------------------------------------------------
    scrubbed = [
        s.replace(pw_db, "${DB_PASSWORD}").replace(slack_hook, "${SLACK_WEBHOOK_URL}")
        for s in resolved[:-2]
    ]
    r.write("config/app.yaml", scrubbed)
    r.write("config/staging.yaml", scrubbed)
    r.write(
        "notify/sms.py",
        [
            "import os",
            "",
            "from twilio.rest import Client",
            "",
            'client = Client(os.environ["TWILIO_API_KEY"], os.environ["TWILIO_AUTH_TOKEN"])',
        ],
    )
    r.write(".npmrc", ["registry=https://registry.npmjs.org/", "always-auth=true"])
    r.write("ml/train.py", [s.replace(f'"{hf}"', 'os.environ["HF_TOKEN"]') for s in ml])
    r.write(
        "scripts/backup.sh",
        ["#!/bin/sh", "pg_dump -h db.internal -U billing billing > backup.sql"],
    )
    r.git("rm", "-q", ".pgpass")
    r.commit("Scrub credentials from configuration")

    return _finish(r, seed)


def _finish(r: _Repo, seed: int) -> HistoryCorpus:
    head = r.head_text()
    events: list[Event] = []
    negatives: list[Negative] = []
    cache: dict[tuple[str, str], list[str]] = {}
    for commit, label in r.placed:
        key = (commit, label.path)
        if key not in cache:
            cache[key] = r.lines_at(commit, label.path)
        first, last = _locate(cache[key], label.needle, f"{commit[:8]}:{label.path}")
        if label.positive:
            value = "\n".join(label.needle)
            events.append(
                Event(
                    commit,
                    label.path,
                    first,
                    label.kind,
                    value in head,
                    last if last != first else 0,
                    value[:4],
                )
            )
        else:
            negatives.append(Negative(commit, label.path, first, label.kind))
    commits = r.git("rev-list", "--all").splitlines()
    refs = r.git("for-each-ref", "--format=%(refname)").splitlines()
    values = {label.needle[0]: label.kind for _, label in r.placed if label.positive}
    return HistoryCorpus(
        r.root, seed, events, negatives, len(commits), refs, _secret_lines(r, commits, values)
    )


def _secret_lines(
    r: _Repo, commits: list[str], values: dict[str, str]
) -> dict[tuple[str, str, int], str]:
    trees: dict[str, list[tuple[str, str]]] = {}  # commit -> [(blob, path)]
    for commit in commits:
        rows = r.git("ls-tree", "-r", commit).splitlines()
        trees[commit] = [(row.split()[2], row.split("\t", 1)[1]) for row in rows]
    blobs = sorted({blob for entries in trees.values() for blob, _ in entries})
    done = subprocess.run(
        ["git", "cat-file", "--batch"],
        cwd=r.root,
        input="".join(f"{b}\n" for b in blobs).encode(),
        capture_output=True,
        check=True,
    )
    hits: dict[str, list[tuple[int, str]]] = {}
    data, pos = done.stdout, 0
    for blob in blobs:
        header_end = data.index(b"\n", pos)
        size = int(data[pos:header_end].split()[2])
        text = data[header_end + 1 : header_end + 1 + size].decode("utf-8", "replace")
        pos = header_end + 1 + size + 1
        found = [
            (number, kind)
            for number, line in enumerate(text.split("\n"), start=1)
            for value, kind in values.items()
            if value in line
        ]
        if found:
            hits[blob] = found
    return {
        (commit, path, number): kind
        for commit, entries in trees.items()
        for blob, path in entries
        for number, kind in hits.get(blob, [])
    }
