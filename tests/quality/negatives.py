"""Hard negatives: values that look like credentials but are safe to commit.

``make_negative(g, kind)`` returns an assignment ``(name, value)`` of one negative kind. Documented
example keys are spliced together at run time, so this file holds none of them verbatim.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from .gen import B64, CRYPT64, Gen, b64, b64url_nopad
from .kinds import KINDS

# Documented example values, split so that no scanner finds them in this source file.
AWS_EXAMPLE_KEY_IDS = ("AKIAIOSF" + "ODNN7EXAMPLE", "AKIAI44Q" + "H8DHBEXAMPLE")
AWS_EXAMPLE_SECRETS = (
    "wJalrXUtnFEMI/K7MDENG/" + "bPxRfiCYEXAMPLEKEY",
    "je7MtGbClwBF/2Zp9Utk/" + "h3yCo8nvbEXAMPLEKEY",
)
JWT_IO_SAMPLE = (
    b64url_nopad(b'{"alg":"HS256","typ":"JWT"}')
    + "."
    + b64url_nopad(b'{"sub":"1234567890","name":"John Doe","iat":1516239022}')
    + "."
    + "SflKxwRJSMeKKF2QT4fwpMeJf36P"
    + "Ok6yJV_adQssw5c"
)
STRIPE_DOC_SECRET = "sk_" + "test_" + "4eC39HqLyjWDarjtT1zdp7dc"
STRIPE_DOC_PUBLISHABLE = "pk_" + "test_" + "TYooMQauvdEDq54NiTphI7jx"
SLACK_DOC_WEBHOOK = "https://hooks.slack.com/services/" + "T00000000/B00000000/" + "X" * 24
SLACK_DOC_TOKEN = "xoxb-" + "not-a-real-token-this-will-not-work"
AZURITE_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq" + "/K1SZFPTOtr/KBHBeksoGMGw=="
)
AZURITE_CONNECTION = (
    "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey="
    + AZURITE_KEY
    + ";BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;"
)


@dataclass(frozen=True)
class Negative:
    kind: str
    name: str
    value: str


def _secret_name(g: Gen) -> str:
    return g.pick(g.pick(KINDS).names)


def _placeholder(g: Gen) -> tuple[str, str]:
    name = _secret_name(g)
    value = g.pick(
        (
            "your-api-key-here",
            "<YOUR_API_KEY>",
            "<TOKEN>",
            "changeme",
            "CHANGE_ME",
            "REPLACE_ME",
            "xxxxxxxxxxxxxxxxxxxxxxxx",
            "XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
            "********",
            "TODO",
            "dummy",
            "<insert-secret-here>",
            "your_secret_here",
            "[REDACTED]",
            "<redacted>",
            "placeholder",
            "ghp_" + "x" * 36,
            "sk_live_" + "X" * 24,
            "AKIA" + "X" * 16,
            "xoxb-your-bot-token",
            "sk-...",
            "npm_" + "x" * 36,
            "glpat-" + "x" * 20,
            "<your-password>",
            "enter-your-key",
            "0" * 32,
            "sk-ant-api03-" + "x" * 20,
            "hf_" + "x" * 34,
            "SG.xxxxxxxxxxxxxxxxxxxxxx.yyyyyyyyyy",
            "secret",
            "password",
        )
    )
    return name, value


def _template(g: Gen) -> tuple[str, str]:
    name = _secret_name(g)
    up = name.upper()
    low = name.lower()
    value = g.pick(
        (
            f"${{{up}}}",
            f"${{{up}:-}}",
            f"${up}",
            f"{{{{ .Values.secrets.{low} }}}}",
            f"{{{{ {low} }}}}",
            f"${{{{ secrets.{up} }}}}",
            f"#{{{up}}}",
            f"%{up}%",
            f"<%= ENV.fetch(:{up}) %>",
            f"@@{up}@@",
            f"$({up})",
            f"{{{{ env.{up} }}}}",
            f"${{var.{low}}}",
            f"${{env:{up}}}",
            f"__{up}__",
            f"{{{{ vault.secret_data_app.{low} }}}}",
            f"${{file:/run/secrets/{low}}}",
            f"{{{low}}}",
        )
    )
    return name, value


def _example(g: Gen) -> tuple[str, str]:
    return g.pick(
        (
            ("AWS_ACCESS_KEY_ID", g.pick(AWS_EXAMPLE_KEY_IDS)),
            ("AWS_SECRET_ACCESS_KEY", g.pick(AWS_EXAMPLE_SECRETS)),
            ("ID_TOKEN", JWT_IO_SAMPLE),
            ("STRIPE_SECRET_KEY", STRIPE_DOC_SECRET),
            ("SLACK_WEBHOOK_URL", SLACK_DOC_WEBHOOK),
            ("SLACK_BOT_TOKEN", SLACK_DOC_TOKEN),
            ("AZURE_STORAGE_CONNECTION_STRING", AZURITE_CONNECTION),
            ("AZURE_STORAGE_KEY", AZURITE_KEY),
        )
    )


def _hash(g: Gen) -> tuple[str, str]:
    return g.pick(
        (
            ("CHECKSUM_SHA256", g.hex(64)),
            ("ASSET_MD5", g.hex(32)),
            ("BUILD_DIGEST", "sha256:" + g.hex(64)),
            ("ETAG", g.hex(32)),
            ("CONTENT_SHA1", g.hex(40)),
            ("CACHE_KEY", g.hex(64)),
            ("FILE_HASH", g.hex(40)),
            ("SCHEMA_FINGERPRINT", g.hex(64)),
            ("ARTIFACT_SHA512", g.hex(128)),
            ("LOCKFILE_HASH", g.hex(32)),
            ("SSH_HOST_FINGERPRINT", "SHA256:" + b64(g.raw(32)).rstrip("=")),
        )
    )


def _uuid(g: Gen) -> tuple[str, str]:
    return g.pick(
        (
            "REQUEST_ID",
            "AZURE_TENANT_ID",
            "AZURE_CLIENT_ID",
            "AZURE_SUBSCRIPTION_ID",
            "ORG_ID",
            "TRACE_ID",
            "INSTALLATION_ID",
            "WORKSPACE_ID",
            "CORRELATION_ID",
            "ARM_TENANT_ID",
        )
    ), g.uuid()


def _git_sha(g: Gen) -> tuple[str, str]:
    return g.pick(
        ("GIT_COMMIT", "BUILD_SHA", "RELEASE_SHA", "BASE_REF_SHA", "SOURCE_VERSION")
    ), g.hex(40)


def _password_hash(g: Gen) -> tuple[str, str]:
    name = g.pick(
        (
            "ADMIN_PASSWORD_HASH",
            "PASSWORD_HASH",
            "ROOT_PASSWORD_HASH",
            "HASHED_PASSWORD",
            "ADMIN_PASSWORD",
            "BASIC_AUTH_PASSWORD",
        )
    )
    value = g.pick(
        (
            f"$2b$12${g.chars(53, CRYPT64)}",
            f"$2y$10${g.chars(53, CRYPT64)}",
            f"$argon2id$v=19$m=65536,t=3,p=4${b64(g.raw(16)).rstrip('=')}${b64(g.raw(32)).rstrip('=')}",
            f"$6$rounds=656000${g.chars(16, CRYPT64)}${g.chars(86, CRYPT64)}",
            f"$6${g.chars(16, CRYPT64)}${g.chars(86, CRYPT64)}",
            f"pbkdf2_sha256$600000${g.alnum(22)}${g.b64bytes(32)}",
            f"$apr1${g.chars(8, CRYPT64)}${g.chars(22, CRYPT64)}",
        )
    )
    return name, value


def _integrity(g: Gen) -> tuple[str, str]:
    return g.pick(
        (
            ("SCRIPT_INTEGRITY", "sha384-" + g.b64bytes(48)),
            ("PACKAGE_INTEGRITY", "sha512-" + g.b64bytes(64)),
            ("BUNDLE_SRI", "sha256-" + g.b64bytes(32)),
        )
    )


def png_data_uri(g: Gen, nbytes: int = 300) -> str:
    return "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAA" + b64(g.raw(nbytes))


def _data_uri(g: Gen) -> tuple[str, str]:
    return g.pick(
        (
            ("LOGO_DATA_URI", png_data_uri(g, g.num(120, 600))),
            ("FONT_INLINE", "data:font/woff2;base64,d09GMgABAAAA" + b64(g.raw(g.num(200, 500)))),
            (
                "PLACEHOLDER_SVG",
                "data:image/svg+xml;base64,"
                + b64(
                    f'<svg xmlns="http://www.w3.org/2000/svg" '
                    f'width="{g.num(8, 64)}" height="8"/>'.encode()
                ),
            ),
        )
    )


def mapbox_public(g: Gen) -> str:
    payload = json.dumps(
        {"u": f"{g.word()}{g.lower_alnum(3)}", "a": g.lower_alnum(25)}, separators=(",", ":")
    )
    return f"pk.{b64url_nopad(payload.encode())}.{g.b64url(22)}"


def _publishable(g: Gen) -> tuple[str, str]:
    return g.pick(
        (
            ("STRIPE_PUBLISHABLE_KEY", "pk_live_" + g.alnum(g.pick((24, 99)))),
            ("NEXT_PUBLIC_STRIPE_PUBLISHABLE_KEY", "pk_live_" + g.alnum(99)),
            ("STRIPE_PUBLISHABLE_KEY", STRIPE_DOC_PUBLISHABLE),
            ("MAPBOX_PUBLIC_TOKEN", mapbox_public(g)),
            ("RECAPTCHA_SITE_KEY", "6L" + g.b64url(38)),
            ("NEXT_PUBLIC_POSTHOG_KEY", "phc_" + g.alnum(43)),
            ("SQUARE_APPLICATION_ID", "sq0idp-" + g.b64url(22)),
            ("ALGOLIA_SEARCH_ONLY_API_KEY", g.hex(32)),
            ("SENTRY_DSN", f"https://{g.hex(32)}@o{g.digits(6)}.ingest.sentry.io/{g.digits(7)}"),
            ("CLERK_PUBLISHABLE_KEY", "pk_live_" + b64(f"clerk.{g.word()}.com$".encode())),
            ("GOOGLE_CLIENT_ID", f"{g.digits(12)}-{g.lower_alnum(32)}.apps.googleusercontent.com"),
            ("LAUNCHDARKLY_CLIENT_SIDE_ID", g.hex(24)),
        )
    )


def _identifier(g: Gen) -> tuple[str, str]:
    account = g.digits(12)
    return g.pick(
        (
            ("STRIPE_PRICE_ID", "price_1" + g.alnum(23)),
            ("STRIPE_ACCOUNT_ID", "acct_1" + g.alnum(15)),
            ("STRIPE_PRODUCT_ID", "prod_" + g.alnum(14)),
            ("AMI_ID", "ami-0" + g.hex(16)),
            ("AWS_ACCOUNT_ID", account),
            ("DEPLOY_ROLE_ARN", f"arn:aws:iam::{account}:role/{g.word()}-deployer"),
            ("KMS_KEY_ARN", f"arn:aws:kms:eu-west-1:{account}:key/{g.uuid()}"),
            (
                "DB_SECRET_ARN",
                f"arn:aws:secretsmanager:us-east-1:{account}:secret:prod/{g.word()}/db-{g.alnum(6)}",
            ),
            ("TWILIO_ACCOUNT_SID", "AC" + g.hex(32)),
            ("GA_MEASUREMENT_ID", "G-" + g.upper_alnum(10)),
            ("SLACK_CHANNEL_ID", "C0" + g.upper_alnum(9)),
            ("CLOUDFLARE_ZONE_ID", g.hex(32)),
            ("CLOUDFLARE_ACCOUNT_ID", g.hex(32)),
            ("OKTA_CLIENT_ID", "0oa" + g.alnum(17)),
            ("COGNITO_USER_POOL_ID", "us-east-1_" + g.alnum(9)),
            ("MONGO_OBJECT_ID", g.hex(24)),
            ("SUBNET_ID", "subnet-0" + g.hex(16)),
            ("SECURITY_GROUP_ID", "sg-0" + g.hex(16)),
            ("FIREBASE_APP_ID", f"1:{g.digits(12)}:web:{g.hex(22)}"),
            ("GCP_PROJECT_NUMBER", g.digits(12)),
        )
    )


def _encrypted(g: Gen) -> tuple[str, str]:
    name = _secret_name(g)
    data = b64(g.raw(g.num(12, 60)))
    value = g.pick(
        (
            f"ENC[AES256_GCM,data:{data},iv:{b64(g.raw(32))},tag:{b64(g.raw(16))},type:str]",
            f"ENC({b64(g.raw(48))})",
            f"vault:v1:{b64(g.raw(g.num(40, 80)))}",
            f"{{cipher}}{g.hex(96)}",
            "AgB" + g.chars(300, B64),
        )
    )
    return name, value


def _benign(g: Gen) -> tuple[str, str]:
    return g.pick(
        (
            ("TOKEN_EXPIRY_SECONDS", "3600"),
            ("PASSWORD_MIN_LENGTH", "12"),
            ("SECRET_NAME", f"prod/{g.word()}/database"),
            ("API_KEY_HEADER", "X-Api-Key"),
            ("TOKEN_URL", f"https://auth.{g.word()}.io/oauth2/token"),
            ("PASSWORD_RESET_PATH", "/account/reset-password"),
            ("KMS_KEY_ALIAS", "alias/app-secrets"),
            ("TOKEN_TYPE", "Bearer"),
            ("SECRET_BACKEND", "vault"),
            ("AUTH_METHOD", "oidc"),
            ("KEY_ROTATION_DAYS", "90"),
            ("SESSION_COOKIE_NAME", "__Host-session"),
            ("PASSWORD_HASHER", "argon2"),
            ("JWT_ALGORITHM", "RS256"),
            ("TOKEN_AUDIENCE", "api://default"),
            ("SECRET_MOUNT_PATH", "/var/run/secrets/app"),
            ("AWS_SHARED_CREDENTIALS_FILE", "~/.aws/credentials"),
            ("PRIVATE_KEY_PATH", "/etc/ssl/private/server.key"),
            ("API_KEY_ROTATION", "weekly"),
            ("SECRETS_PROVIDER", "aws-secrets-manager"),
            ("GITHUB_TOKEN_PERMISSIONS", "contents:read"),
            ("PASSWORD_POLICY", "min=12,upper,digit,symbol"),
        )
    )


NEGATIVE_MAKERS: dict[str, Callable[[Gen], tuple[str, str]]] = {
    "placeholder": _placeholder,
    "template": _template,
    "example_key": _example,
    "hash": _hash,
    "uuid": _uuid,
    "git_sha": _git_sha,
    "password_hash": _password_hash,
    "integrity": _integrity,
    "data_uri": _data_uri,
    "publishable_key": _publishable,
    "identifier": _identifier,
    "encrypted_value": _encrypted,
    "benign_config": _benign,
}

# How many of each kind a corpus spreads over its assignment-style files.
NEGATIVE_WEIGHTS: dict[str, int] = {
    "placeholder": 36,
    "template": 26,
    "example_key": 12,
    "hash": 22,
    "uuid": 16,
    "git_sha": 8,
    "password_hash": 12,
    "integrity": 5,
    "data_uri": 5,
    "publishable_key": 18,
    "identifier": 22,
    "encrypted_value": 9,
    "benign_config": 22,
}


def make_negative(g: Gen, kind: str) -> Negative:
    name, value = NEGATIVE_MAKERS[kind](g)
    return Negative(kind, name, value)


def minified_filler(g: Gen, size: int) -> str:
    """Harmless minified-JavaScript-looking text of about ``size`` characters."""
    parts: list[str] = []
    total = 0
    while total < size:
        a, b, c = (g.chars(g.num(1, 2), "abcdefghijklmnopqrstuvwxyz") for _ in range(3))
        piece = g.pick(
            (
                f"function {a}({b},{c}){{return {b}&&{c}.{g.word()}({b})}}",
                f'var {a}="{g.word()} {g.word()}",{b}={g.num(0, 9999)};',
                f"{a}.prototype.{g.word()}=function(){{this.{b}=[{g.num(0, 99)},{g.num(0, 99)}]}};",
                f'if({a}.{g.word()}==="{g.word()}"){{{b}({c},{g.num(1, 500)})}}',
                f"{a}=Object.assign({{}},{b},{{{g.word()}:!0}});",
                f'case {g.num(0, 50)}:{a}.push("{g.word()}-{g.word()}");break;',
                f"{a}.{g.word()}&&{a}.{g.word()}({b}.length>{g.num(1, 9)}?{c}:null);",
            )
        )
        parts.append(piece)
        total += len(piece)
    return "".join(parts)
