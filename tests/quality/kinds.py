"""Catalogue of single-line credential kinds and how to generate them.

Each entry makes a fresh random value in the provider's real format and lists variable names under
which such a value is typically assigned (the names matter for kinds that can only be recognised
from their context, like a 32-hex-digit Datadog key).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote

from .gen import B32, BECH32, LOWER, LOWER_ALNUM, Gen, b64, b64url_nopad


@dataclass(frozen=True)
class Kind:
    name: str
    make: Callable[[Gen], str]
    names: tuple[str, ...]
    weight: int = 1  # how many instances a corpus gets (before random extras)


def _aws_secret(g: Gen) -> str:
    return g.b64chars(40)


def _azure_key(g: Gen) -> str:
    return g.b64bytes(64)


def _azure_ad_secret(g: Gen) -> str:
    return (
        g.alnum(3)
        + g.digits(1)
        + "Q~"
        + g.chars(34, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_~.-")
    )


def _sas(g: Gen) -> str:
    sig = quote(g.b64bytes(32), safe="")
    return (
        f"https://{g.word()}{g.lower_alnum(6)}.blob.core.windows.net/{g.word()}?sv=2022-11-02&ss=bfqt"
        f"&srt=sco&sp=rwdlacupiytfx&se=2026-0{g.num(1, 9)}-1{g.num(0, 9)}T0{g.num(0, 9)}:00:00Z"
        f"&st=2024-0{g.num(1, 9)}-0{g.num(1, 9)}T00:00:00Z&spr=https&sig={sig}"
    )


def _storage_cs(g: Gen) -> str:
    return (
        f"DefaultEndpointsProtocol=https;AccountName={g.word()}{g.lower_alnum(8)};"
        f"AccountKey={_azure_key(g)};EndpointSuffix=core.windows.net"
    )


def _slack_bot(g: Gen) -> str:
    return f"xoxb-{g.digits(12)}-{g.digits(13)}-{g.alnum(24)}"


def _slack_user(g: Gen) -> str:
    return f"xoxp-{g.digits(12)}-{g.digits(12)}-{g.digits(13)}-{g.hex(32)}"


def _slack_app(g: Gen) -> str:
    return f"xapp-1-A{g.upper_alnum(10)}-{g.digits(13)}-{g.hex(64)}"


def _slack_webhook(g: Gen) -> str:
    return (
        f"https://hooks.slack.com/services/T{g.upper_alnum(10)}/B{g.upper_alnum(10)}/{g.alnum(24)}"
    )


def _discord_bot(g: Gen) -> str:
    user_id = str(g.num(100_000_000_000_000_000, 999_999_999_999_999_999))
    return f"{b64(user_id.encode()).rstrip('=')}.{g.b64url(6)}.{g.b64url(38)}"


def _discord_webhook(g: Gen) -> str:
    return f"https://discord.com/api/webhooks/{g.digits(19)}/{g.b64url(68)}"


def _teams_webhook(g: Gen) -> str:
    return (
        f"https://{g.word()}.webhook.office.com/webhookb2/{g.uuid()}@{g.uuid()}"
        f"/IncomingWebhook/{g.hex(32)}/{g.uuid()}"
    )


def _mapbox_secret(g: Gen) -> str:
    payload = json.dumps(
        {"u": f"{g.word()}{g.lower_alnum(3)}", "a": g.lower_alnum(25)}, separators=(",", ":")
    )
    return f"sk.{b64url_nopad(payload.encode())}.{g.b64url(22)}"


def _grafana_cloud(g: Gen) -> str:
    payload = json.dumps(
        {
            "o": g.digits(6),
            "n": f"stack-{g.digits(6)}-hm-{g.word()}",
            "k": g.alnum(24),
            "m": {"r": g.pick(("prod-us-east-0", "prod-eu-west-2"))},
        },
        separators=(",", ":"),
    )
    return "glc_" + b64(payload.encode())


def _grafana_legacy(g: Gen) -> str:
    payload = json.dumps(
        {"k": g.alnum(32), "n": g.word(), "id": g.num(1, 99)}, separators=(",", ":")
    )
    return b64(payload.encode())


def _sentry_org(g: Gen) -> str:
    payload = json.dumps(
        {
            "iat": g.num(1_690_000_000, 1_760_000_000),
            "url": "https://sentry.io",
            "region_url": "https://us.sentry.io",
            "org": g.word(),
        },
        separators=(",", ":"),
    )
    return f"sntrys_{b64(payload.encode()).rstrip('=')}_{g.b64url(43).replace('-', 'a').replace('_', 'b')}"


def _onepassword(g: Gen) -> str:
    account_key = "A3-" + g.upper_alnum(6)
    payload = json.dumps(
        {
            "signInAddress": f"{g.word()}.1password.com",
            "userAuth": {
                "method": "SRPg-4096",
                "alg": "PBES2g-HS256",
                "iterations": 650000,
                "salt": g.b64url(22),
            },
            "email": f"{g.lower_alnum(13)}@1passwordserviceaccounts.com",
            "srpX": g.hex(64),
            "muk": {
                "alg": "A256GCM",
                "ext": True,
                "k": g.b64url(43),
                "key_ops": ["encrypt", "decrypt"],
                "kty": "oct",
                "kid": "mp",
            },
            "secretKey": account_key,
        },
        separators=(",", ":"),
    )
    return "ops_" + b64url_nopad(payload.encode())


def _pg_url(g: Gen) -> str:
    return f"postgres://{g.username()}:{g.url_password()}@{g.host()}:5432/{g.word()}"


def _mysql_url(g: Gen) -> str:
    return f"mysql://{g.username()}:{g.url_password()}@{g.host()}:3306/{g.word()}"


def _mongo_url(g: Gen) -> str:
    return (
        f"mongodb+srv://{g.username()}:{g.url_password()}@cluster0.{g.lower_alnum(5)}.mongodb.net/"
        f"{g.word()}?retryWrites=true&w=majority"
    )


def _redis_url(g: Gen) -> str:
    return f"redis://default:{g.url_password()}@{g.host()}:6379/0"


def _amqp_url(g: Gen) -> str:
    return f"amqp://{g.username()}:{g.url_password()}@{g.host()}:5672/{g.word()}"


def _jdbc_pg(g: Gen) -> str:
    return f"jdbc:postgresql://{g.host()}:5432/{g.word()}?user={g.username()}&password={g.url_password()}"


def _jdbc_mysql(g: Gen) -> str:
    return f"jdbc:mysql://{g.host()}:3306/{g.word()}?user={g.username()}&password={g.url_password()}&useSSL=true"


def _jdbc_sqlserver(g: Gen) -> str:
    return (
        f"jdbc:sqlserver://{g.host()}:1433;databaseName={g.word()};user={g.username()};"
        f"password={g.password('!^*-_+.?~')};encrypt=true"
    )


def _mssql_ado(g: Gen) -> str:
    return (
        f"Server=tcp:{g.word()}-sql.database.windows.net,1433;Initial Catalog={g.word()};"
        f"User ID={g.username()};Password={g.password('!^*-_+.?~')};Encrypt=True;"
    )


def _basic_url(g: Gen) -> str:
    return f"https://{g.username()}:{g.url_password()}@{g.word()}.{g.pick(('example.net', 'corp.io', 'dev'))}/api/v2"


def _smtp_url(g: Gen) -> str:
    return f"smtp://{g.username()}%40{g.word()}.io:{g.url_password()}@smtp.{g.word()}.io:587"


def _cloudinary(g: Gen) -> str:
    return f"cloudinary://{g.digits(15)}:{g.b64url(27)}@{g.word()}{g.lower_alnum(3)}"


def _django(g: Gen) -> str:
    return g.chars(50, LOWER_ALNUM + "!@^*(-_=+)")


KINDS: tuple[Kind, ...] = (
    # --- cloud -------------------------------------------------------------------------------
    Kind(
        "aws.access_key_id",
        lambda g: "AKIA" + g.chars(16, B32),
        ("AWS_ACCESS_KEY_ID", "AWS_ACCESS_KEY"),
        3,
    ),
    Kind("aws.secret_access_key", _aws_secret, ("AWS_SECRET_ACCESS_KEY", "AWS_SECRET_KEY"), 3),
    Kind("aws.temp_access_key_id", lambda g: "ASIA" + g.chars(16, B32), ("AWS_ACCESS_KEY_ID",)),
    Kind(
        "aws.session_token", lambda g: "IQoJb3JpZ2luX2Vj" + g.b64chars(340), ("AWS_SESSION_TOKEN",)
    ),
    Kind("aws.mws_auth_token", lambda g: "amzn.mws." + g.uuid(), ("MWS_AUTH_TOKEN",)),
    Kind(
        "gcp.api_key",
        lambda g: "AIza" + g.b64url(35),
        ("GOOGLE_API_KEY", "GOOGLE_MAPS_API_KEY", "YOUTUBE_API_KEY", "GEMINI_API_KEY"),
        3,
    ),
    Kind("gcp.oauth_client_secret", lambda g: "GOCSPX-" + g.b64url(28), ("GOOGLE_CLIENT_SECRET",)),
    Kind("gcp.oauth_access_token", lambda g: "ya29.a0" + g.b64url(150), ("GOOGLE_ACCESS_TOKEN",)),
    Kind("gcp.oauth_refresh_token", lambda g: "1//0" + g.b64url(99), ("GOOGLE_REFRESH_TOKEN",)),
    Kind(
        "firebase.fcm_server_key",
        lambda g: "AAAA" + g.b64url(7) + ":APA91b" + g.b64url(134),
        ("FCM_SERVER_KEY",),
    ),
    Kind(
        "azure.storage_connection_string",
        _storage_cs,
        ("AZURE_STORAGE_CONNECTION_STRING", "AzureWebJobsStorage"),
        2,
    ),
    Kind(
        "azure.storage_account_key", _azure_key, ("AZURE_STORAGE_KEY", "AZURE_STORAGE_ACCOUNT_KEY")
    ),
    Kind("azure.sas_url", _sas, ("AZURE_BLOB_SAS_URL", "BACKUP_CONTAINER_SAS")),
    Kind(
        "azure.ad_client_secret", _azure_ad_secret, ("AZURE_CLIENT_SECRET", "ARM_CLIENT_SECRET"), 2
    ),
    Kind(
        "azure.cosmos_connection_string",
        lambda g: (
            f"AccountEndpoint=https://{g.word()}-cosmos.documents.azure.com:443/;AccountKey={_azure_key(g)};"
        ),
        ("COSMOS_CONNECTION_STRING",),
    ),
    Kind(
        "azure.servicebus_connection_string",
        lambda g: (
            f"Endpoint=sb://{g.word()}-bus.servicebus.windows.net/;SharedAccessKeyName="
            f"RootManageSharedAccessKey;SharedAccessKey={g.b64bytes(32)}"
        ),
        ("SERVICEBUS_CONNECTION_STRING", "EVENTHUB_CONNECTION_STRING"),
    ),
    Kind(
        "azure.appconfig_connection_string",
        lambda g: (
            f"Endpoint=https://{g.word()}-cfg.azconfig.io;Id={g.alnum(4)}-l0-s0:{g.alnum(20)};Secret={g.b64bytes(32)}"
        ),
        ("APP_CONFIGURATION_CONNECTION_STRING",),
    ),
    Kind(
        "azure.devops_pat",
        lambda g: g.chars(52, LOWER + "234567"),
        ("AZURE_DEVOPS_PAT", "AZURE_DEVOPS_EXT_PAT"),
    ),
    Kind("azure.cognitive_key", lambda g: g.hex(32), ("AZURE_OPENAI_API_KEY", "AZURE_SPEECH_KEY")),
    Kind(
        "alibaba.access_key_id",
        lambda g: "LTAI" + g.alnum(20),
        ("ALIBABA_CLOUD_ACCESS_KEY_ID", "ALICLOUD_ACCESS_KEY"),
    ),
    Kind(
        "alibaba.access_key_secret",
        lambda g: g.alnum(30),
        ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "ALICLOUD_SECRET_KEY"),
    ),
    Kind("tencent.secret_id", lambda g: "AKID" + g.alnum(32), ("TENCENTCLOUD_SECRET_ID",)),
    Kind("ibm.cloud_api_key", lambda g: g.b64url(44), ("IBMCLOUD_API_KEY", "IC_API_KEY")),
    Kind(
        "digitalocean.pat", lambda g: "dop_v1_" + g.hex(64), ("DIGITALOCEAN_TOKEN", "DO_API_TOKEN")
    ),
    Kind(
        "digitalocean.oauth_token", lambda g: "doo_v1_" + g.hex(64), ("DIGITALOCEAN_ACCESS_TOKEN",)
    ),
    Kind(
        "digitalocean.refresh_token",
        lambda g: "dor_v1_" + g.hex(64),
        ("DIGITALOCEAN_REFRESH_TOKEN",),
    ),
    Kind("heroku.api_key", lambda g: g.uuid(), ("HEROKU_API_KEY",)),
    Kind("linode.token", lambda g: g.hex(64), ("LINODE_TOKEN", "LINODE_API_TOKEN")),
    Kind("vultr.api_key", lambda g: g.upper_alnum(36), ("VULTR_API_KEY",)),
    Kind("hetzner.token", lambda g: g.alnum(64), ("HCLOUD_TOKEN",)),
    Kind("scaleway.secret_key", lambda g: g.uuid(), ("SCW_SECRET_KEY",)),
    Kind("cloudflare.api_token", lambda g: g.b64url(40), ("CLOUDFLARE_API_TOKEN", "CF_API_TOKEN")),
    Kind("cloudflare.global_api_key", lambda g: g.hex(37), ("CLOUDFLARE_API_KEY", "CF_API_KEY")),
    Kind(
        "cloudflare.origin_ca_key",
        lambda g: f"v1.0-{g.hex(24)}-{g.hex(146)}",
        ("CF_ORIGIN_CA_KEY",),
    ),
    Kind("fastly.api_token", lambda g: g.b64url(32), ("FASTLY_API_TOKEN",)),
    Kind("netlify.token", lambda g: g.b64url(43), ("NETLIFY_AUTH_TOKEN",)),
    Kind("vercel.token", lambda g: g.alnum(24), ("VERCEL_TOKEN",)),
    Kind("render.api_key", lambda g: "rnd_" + g.alnum(32), ("RENDER_API_KEY",)),
    Kind("supabase.access_token", lambda g: "sbp_" + g.hex(40), ("SUPABASE_ACCESS_TOKEN",)),
    Kind(
        "planetscale.token", lambda g: "pscale_tkn_" + g.b64url(43), ("PLANETSCALE_SERVICE_TOKEN",)
    ),
    Kind(
        "planetscale.password", lambda g: "pscale_pw_" + g.b64url(43), ("PLANETSCALE_DB_PASSWORD",)
    ),
    Kind("hashicorp.vault_token", lambda g: "hvs.CAESI" + g.b64url(86), ("VAULT_TOKEN",)),
    Kind(
        "hashicorp.terraform_token",
        lambda g: f"{g.alnum(14)}.atlasv1.{g.alnum(67)}",
        ("TFE_TOKEN", "TF_TOKEN_app_terraform_io"),
    ),
    Kind("pulumi.access_token", lambda g: "pul-" + g.hex(40), ("PULUMI_ACCESS_TOKEN",)),
    Kind("doppler.token", lambda g: "dp.pt." + g.alnum(43), ("DOPPLER_TOKEN",)),
    Kind("onepassword.service_account_token", _onepassword, ("OP_SERVICE_ACCOUNT_TOKEN",)),
    Kind(
        "age.secret_key",
        lambda g: "AGE-SECRET-KEY-1" + g.chars(58, BECH32).upper(),
        ("SOPS_AGE_KEY",),
    ),
    Kind(
        "tailscale.auth_key",
        lambda g: f"tskey-auth-k{g.alnum(10)}CNTRL-{g.alnum(33)}",
        ("TS_AUTHKEY", "TAILSCALE_AUTHKEY"),
    ),
    Kind("ngrok.authtoken", lambda g: f"2{g.alnum(26)}_{g.alnum(21)}", ("NGROK_AUTHTOKEN",)),
    # --- observability ------------------------------------------------------------------------
    Kind("grafana.cloud_token", _grafana_cloud, ("GRAFANA_CLOUD_TOKEN",)),
    Kind(
        "grafana.service_account_token",
        lambda g: f"glsa_{g.alnum(32)}_{g.hex(8)}",
        ("GRAFANA_SA_TOKEN", "GRAFANA_TOKEN"),
    ),
    Kind("grafana.api_key", _grafana_legacy, ("GRAFANA_API_KEY",)),
    Kind("datadog.api_key", lambda g: g.hex(32), ("DD_API_KEY", "DATADOG_API_KEY"), 2),
    Kind("datadog.app_key", lambda g: g.hex(40), ("DD_APP_KEY", "DATADOG_APP_KEY")),
    Kind("newrelic.user_key", lambda g: "NRAK-" + g.upper_alnum(27), ("NEW_RELIC_API_KEY",)),
    Kind("newrelic.license_key", lambda g: g.hex(36) + "NRAL", ("NEW_RELIC_LICENSE_KEY",)),
    Kind("sentry.user_token", lambda g: "sntryu_" + g.hex(64), ("SENTRY_AUTH_TOKEN",)),
    Kind("sentry.org_token", _sentry_org, ("SENTRY_AUTH_TOKEN",)),
    Kind(
        "dynatrace.token",
        lambda g: f"dt0c01.{g.upper_alnum(24)}.{g.upper_alnum(64)}",
        ("DT_API_TOKEN",),
    ),
    Kind("rollbar.token", lambda g: g.hex(32), ("ROLLBAR_ACCESS_TOKEN",)),
    Kind("splunk.hec_token", lambda g: g.uuid(), ("SPLUNK_HEC_TOKEN",)),
    Kind("opsgenie.api_key", lambda g: g.uuid(), ("OPSGENIE_API_KEY",)),
    Kind("pagerduty.token", lambda g: "u+" + g.b64url(18), ("PAGERDUTY_TOKEN",)),
    Kind(
        "elastic.api_key",
        lambda g: b64(f"{g.b64url(20)}:{g.b64url(22)}".encode()),
        ("ELASTIC_API_KEY",),
    ),
    # --- source hosting, CI, registries -----------------------------------------------------
    Kind(
        "github.pat", lambda g: g.crc_token("ghp_"), ("GITHUB_TOKEN", "GH_TOKEN", "GITHUB_PAT"), 4
    ),
    Kind("github.oauth_token", lambda g: g.crc_token("gho_"), ("GITHUB_OAUTH_TOKEN",)),
    Kind("github.user_to_server_token", lambda g: g.crc_token("ghu_"), ("GITHUB_USER_TOKEN",)),
    Kind("github.app_installation_token", lambda g: g.crc_token("ghs_"), ("GITHUB_APP_TOKEN",)),
    Kind("github.refresh_token", lambda g: g.crc_token("ghr_"), ("GITHUB_REFRESH_TOKEN",)),
    Kind(
        "github.fine_grained_pat", lambda g: g.github_fine_grained(), ("GITHUB_TOKEN", "GH_PAT"), 2
    ),
    Kind(
        "gitlab.pat", lambda g: "glpat-" + g.b64url(20), ("GITLAB_TOKEN", "GITLAB_PRIVATE_TOKEN"), 2
    ),
    Kind("gitlab.deploy_token", lambda g: "gldt-" + g.b64url(20), ("GITLAB_DEPLOY_TOKEN",)),
    Kind("gitlab.runner_token", lambda g: "glrt-" + g.b64url(20), ("RUNNER_TOKEN",)),
    Kind(
        "gitlab.runner_registration_token",
        lambda g: "GR1348941" + g.b64url(20),
        ("REGISTRATION_TOKEN",),
    ),
    Kind(
        "gitlab.pipeline_trigger_token", lambda g: "glptt-" + g.hex(40), ("GITLAB_TRIGGER_TOKEN",)
    ),
    Kind("gitlab.oauth_app_secret", lambda g: "gloas-" + g.hex(64), ("GITLAB_OAUTH_SECRET",)),
    Kind("bitbucket.app_password", lambda g: "ATBB" + g.alnum(32), ("BITBUCKET_APP_PASSWORD",)),
    Kind(
        "atlassian.api_token",
        lambda g: "ATATT3xFfGF0" + g.b64url(171) + "=" + g.hexu(8),
        ("JIRA_API_TOKEN", "ATLASSIAN_API_TOKEN"),
    ),
    Kind(
        "atlassian.legacy_api_token",
        lambda g: g.alnum(24),
        ("JIRA_API_TOKEN", "CONFLUENCE_API_TOKEN"),
    ),
    Kind(
        "circleci.pat",
        lambda g: f"CCIPAT_{g.alnum(22)}_{g.hex(40)}",
        ("CIRCLECI_TOKEN", "CIRCLE_TOKEN"),
    ),
    Kind("buildkite.token", lambda g: "bkua_" + g.hex(40), ("BUILDKITE_API_TOKEN",)),
    Kind("jenkins.api_token", lambda g: "11" + g.hex(32), ("JENKINS_API_TOKEN",)),
    Kind("codecov.token", lambda g: g.uuid(), ("CODECOV_TOKEN",)),
    Kind("sonarqube.user_token", lambda g: "squ_" + g.hex(40), ("SONAR_TOKEN",)),
    Kind("sonarqube.project_token", lambda g: "sqp_" + g.hex(40), ("SONAR_TOKEN",)),
    Kind("snyk.token", lambda g: g.uuid(), ("SNYK_TOKEN",)),
    Kind("octopus.api_key", lambda g: "API-" + g.upper_alnum(26), ("OCTOPUS_API_KEY",)),
    Kind("npm.token", lambda g: g.crc_token("npm_"), ("NPM_TOKEN", "NODE_AUTH_TOKEN"), 2),
    Kind(
        "pypi.token",
        lambda g: "pypi-AgEIcHlwaS5vcmc" + g.b64url(160),
        ("PYPI_TOKEN", "TWINE_PASSWORD"),
        2,
    ),
    Kind("rubygems.api_key", lambda g: "rubygems_" + g.hex(48), ("GEM_HOST_API_KEY",)),
    Kind("nuget.api_key", lambda g: "oy2" + g.chars(43, LOWER_ALNUM), ("NUGET_API_KEY",)),
    Kind(
        "dockerhub.pat",
        lambda g: "dckr_pat_" + g.b64url(27),
        ("DOCKERHUB_TOKEN", "DOCKER_PASSWORD"),
    ),
    Kind("jfrog.api_key", lambda g: "AKCp" + g.alnum(69), ("ARTIFACTORY_API_KEY",)),
    # --- payments, commerce ----------------------------------------------------------------
    Kind(
        "stripe.secret_key",
        lambda g: "sk_live_" + g.alnum(g.pick((24, 99))),
        ("STRIPE_SECRET_KEY", "STRIPE_API_KEY"),
        3,
    ),
    Kind(
        "stripe.restricted_key",
        lambda g: "rk_live_" + g.alnum(g.pick((24, 99))),
        ("STRIPE_RESTRICTED_KEY",),
    ),
    Kind("stripe.webhook_secret", lambda g: "whsec_" + g.alnum(32), ("STRIPE_WEBHOOK_SECRET",)),
    Kind("square.access_token", lambda g: "EAAA" + g.b64url(60), ("SQUARE_ACCESS_TOKEN",)),
    Kind("square.oauth_secret", lambda g: "sq0csp-" + g.b64url(43), ("SQUARE_OAUTH_SECRET",)),
    Kind(
        "braintree.access_token",
        lambda g: f"access_token$production${g.lower_alnum(16)}${g.hex(32)}",
        ("BRAINTREE_ACCESS_TOKEN",),
    ),
    Kind("paypal.client_secret", lambda g: "E" + g.b64url(79), ("PAYPAL_CLIENT_SECRET",)),
    Kind("shopify.access_token", lambda g: "shpat_" + g.hex(32), ("SHOPIFY_ACCESS_TOKEN",)),
    Kind("shopify.shared_secret", lambda g: "shpss_" + g.hex(32), ("SHOPIFY_API_SECRET",)),
    Kind("shopify.custom_app_token", lambda g: "shpca_" + g.hex(32), ("SHOPIFY_ADMIN_TOKEN",)),
    Kind("shopify.private_app_password", lambda g: "shppa_" + g.hex(32), ("SHOPIFY_PASSWORD",)),
    Kind("plaid.access_token", lambda g: "access-production-" + g.uuid(), ("PLAID_ACCESS_TOKEN",)),
    Kind("plaid.secret", lambda g: g.hex(30), ("PLAID_SECRET",)),
    Kind("flutterwave.secret_key", lambda g: f"FLWSECK-{g.hex(32)}-X", ("FLW_SECRET_KEY",)),
    Kind("mollie.api_key", lambda g: "live_" + g.alnum(30), ("MOLLIE_API_KEY",)),
    Kind("shippo.token", lambda g: "shippo_live_" + g.hex(40), ("SHIPPO_API_TOKEN",)),
    Kind("easypost.api_key", lambda g: "EZAK" + g.alnum(54), ("EASYPOST_API_KEY",)),
    Kind("duffel.token", lambda g: "duffel_live_" + g.b64url(43), ("DUFFEL_ACCESS_TOKEN",)),
    # --- messaging, email ------------------------------------------------------------------
    Kind("slack.bot_token", _slack_bot, ("SLACK_BOT_TOKEN", "SLACK_TOKEN"), 2),
    Kind("slack.user_token", _slack_user, ("SLACK_USER_TOKEN",)),
    Kind("slack.app_token", _slack_app, ("SLACK_APP_TOKEN",)),
    Kind("slack.webhook_url", _slack_webhook, ("SLACK_WEBHOOK_URL", "ALERTS_WEBHOOK"), 2),
    Kind("discord.bot_token", _discord_bot, ("DISCORD_BOT_TOKEN", "DISCORD_TOKEN")),
    Kind("discord.webhook_url", _discord_webhook, ("DISCORD_WEBHOOK_URL",)),
    Kind("teams.webhook_url", _teams_webhook, ("TEAMS_WEBHOOK_URL",)),
    Kind(
        "telegram.bot_token", lambda g: f"{g.digits(10)}:AA{g.b64url(33)}", ("TELEGRAM_BOT_TOKEN",)
    ),
    Kind(
        "twilio.api_key_secret",
        lambda g: g.alnum(32),
        ("TWILIO_API_SECRET", "TWILIO_API_KEY_SECRET"),
    ),
    Kind("twilio.auth_token", lambda g: g.hex(32), ("TWILIO_AUTH_TOKEN",)),
    Kind(
        "sendgrid.api_key", lambda g: f"SG.{g.b64url(22)}.{g.b64url(43)}", ("SENDGRID_API_KEY",), 2
    ),
    Kind("mailgun.api_key", lambda g: "key-" + g.hex(32), ("MAILGUN_API_KEY",)),
    Kind("mailchimp.api_key", lambda g: f"{g.hex(32)}-us{g.num(1, 21)}", ("MAILCHIMP_API_KEY",)),
    Kind(
        "brevo.api_key",
        lambda g: f"xkeysib-{g.hex(64)}-{g.alnum(16)}",
        ("BREVO_API_KEY", "SENDINBLUE_API_KEY"),
    ),
    Kind("postmark.server_token", lambda g: g.uuid(), ("POSTMARK_SERVER_TOKEN",)),
    Kind("sparkpost.api_key", lambda g: g.hex(40), ("SPARKPOST_API_KEY",)),
    Kind("vonage.api_secret", lambda g: g.alnum(16), ("VONAGE_API_SECRET", "NEXMO_API_SECRET")),
    Kind("pusher.app_secret", lambda g: g.hex(20), ("PUSHER_APP_SECRET",)),
    Kind("zendesk.api_token", lambda g: g.alnum(40), ("ZENDESK_API_TOKEN",)),
    Kind("hubspot.private_app_token", lambda g: "pat-na1-" + g.uuid(), ("HUBSPOT_ACCESS_TOKEN",)),
    Kind(
        "zapier.webhook_url",
        lambda g: f"https://hooks.zapier.com/hooks/catch/{g.digits(7)}/{g.lower_alnum(6)}/",
        ("ZAPIER_WEBHOOK_URL",),
    ),
    # --- AI / ML -------------------------------------------------------------------------------
    Kind(
        "openai.api_key", lambda g: f"sk-{g.alnum(20)}T3BlbkFJ{g.alnum(20)}", ("OPENAI_API_KEY",), 2
    ),
    Kind(
        "openai.project_key",
        lambda g: f"sk-proj-{g.b64url(74)}T3BlbkFJ{g.b64url(74)}",
        ("OPENAI_API_KEY",),
        2,
    ),
    Kind(
        "anthropic.api_key", lambda g: f"sk-ant-api03-{g.b64url(93)}AA", ("ANTHROPIC_API_KEY",), 2
    ),
    Kind(
        "anthropic.admin_key",
        lambda g: f"sk-ant-admin01-{g.b64url(93)}AA",
        ("ANTHROPIC_ADMIN_KEY",),
    ),
    Kind(
        "huggingface.token",
        lambda g: "hf_" + g.chars(34, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"),
        ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"),
        2,
    ),
    Kind("cohere.api_key", lambda g: g.alnum(40), ("COHERE_API_KEY", "CO_API_KEY")),
    Kind("mistral.api_key", lambda g: g.alnum(32), ("MISTRAL_API_KEY",)),
    Kind("groq.api_key", lambda g: "gsk_" + g.alnum(52), ("GROQ_API_KEY",)),
    Kind("replicate.api_token", lambda g: "r8_" + g.alnum(37), ("REPLICATE_API_TOKEN",)),
    Kind("perplexity.api_key", lambda g: "pplx-" + g.alnum(48), ("PERPLEXITY_API_KEY",)),
    Kind("xai.api_key", lambda g: "xai-" + g.alnum(80), ("XAI_API_KEY",)),
    Kind(
        "langsmith.api_key",
        lambda g: f"lsv2_pt_{g.hex(32)}_{g.hex(10)}",
        ("LANGSMITH_API_KEY", "LANGCHAIN_API_KEY"),
    ),
    Kind("pinecone.api_key", lambda g: g.uuid(), ("PINECONE_API_KEY",)),
    Kind("wandb.api_key", lambda g: g.hex(40), ("WANDB_API_KEY",)),
    Kind("elevenlabs.api_key", lambda g: "sk_" + g.hex(48), ("ELEVENLABS_API_KEY",)),
    # --- SaaS ---------------------------------------------------------------------------------
    Kind("notion.token", lambda g: "secret_" + g.alnum(43), ("NOTION_TOKEN", "NOTION_API_KEY")),
    Kind("linear.api_key", lambda g: "lin_api_" + g.alnum(40), ("LINEAR_API_KEY",)),
    Kind("airtable.pat", lambda g: f"pat{g.alnum(14)}.{g.hex(64)}", ("AIRTABLE_TOKEN",)),
    Kind("asana.pat", lambda g: f"1/{g.digits(16)}:{g.hex(32)}", ("ASANA_ACCESS_TOKEN",)),
    Kind("figma.pat", lambda g: "figd_" + g.b64url(40), ("FIGMA_TOKEN",)),
    Kind("postman.api_key", lambda g: f"PMAK-{g.hex(24)}-{g.hex(34)}", ("POSTMAN_API_KEY",)),
    Kind("contentful.pat", lambda g: "CFPAT-" + g.b64url(43), ("CONTENTFUL_MANAGEMENT_TOKEN",)),
    Kind("databricks.token", lambda g: "dapi" + g.hex(32), ("DATABRICKS_TOKEN",)),
    Kind("dropbox.access_token", lambda g: "sl." + g.b64url(135), ("DROPBOX_ACCESS_TOKEN",)),
    Kind("mapbox.secret_token", _mapbox_secret, ("MAPBOX_SECRET_TOKEN", "MAPBOX_DOWNLOADS_TOKEN")),
    Kind("algolia.admin_key", lambda g: g.hex(32), ("ALGOLIA_ADMIN_API_KEY",)),
    Kind(
        "twitter.bearer_token",
        lambda g: "A" * 21 + g.alnum(25) + "%2B" + g.alnum(10) + "%3D" + g.alnum(50),
        ("TWITTER_BEARER_TOKEN",),
    ),
    Kind("facebook.access_token", lambda g: "EAAG" + g.alnum(160), ("FACEBOOK_ACCESS_TOKEN",)),
    Kind("okta.api_token", lambda g: "00" + g.b64url(40), ("OKTA_API_TOKEN",)),
    Kind("auth0.client_secret", lambda g: g.b64url(64), ("AUTH0_CLIENT_SECRET",)),
    Kind("launchdarkly.sdk_key", lambda g: "sdk-" + g.uuid(), ("LAUNCHDARKLY_SDK_KEY",)),
    Kind("prefect.api_key", lambda g: "pnu_" + g.alnum(36), ("PREFECT_API_KEY",)),
    Kind("adafruit.io_key", lambda g: "aio_" + g.alnum(28), ("ADAFRUIT_IO_KEY",)),
    Kind("cloudinary.url", _cloudinary, ("CLOUDINARY_URL",)),
    # --- frameworks ----------------------------------------------------------------------------
    Kind("django.secret_key", _django, ("SECRET_KEY", "DJANGO_SECRET_KEY")),
    Kind("rails.secret_key_base", lambda g: g.hex(128), ("SECRET_KEY_BASE",)),
    Kind("laravel.app_key", lambda g: "base64:" + g.b64bytes(32), ("APP_KEY",)),
    Kind(
        "jwt",
        lambda g: g.jwt(g.pick(("HS256", "RS256"))),
        ("ID_TOKEN", "SERVICE_JWT", "SUPABASE_SERVICE_ROLE_KEY", "API_JWT"),
        3,
    ),
    # --- connection strings and URLs with passwords -------------------------------------------
    Kind("db.postgres_url", _pg_url, ("DATABASE_URL", "SQLALCHEMY_DATABASE_URI"), 3),
    Kind("db.mysql_url", _mysql_url, ("MYSQL_URL", "DATABASE_URL"), 2),
    Kind("db.mongodb_url", _mongo_url, ("MONGODB_URI", "MONGO_URL"), 2),
    Kind("db.redis_url", _redis_url, ("REDIS_URL", "CACHE_URL"), 2),
    Kind("db.amqp_url", _amqp_url, ("AMQP_URL", "CELERY_BROKER_URL")),
    Kind("db.jdbc_postgres", _jdbc_pg, ("JDBC_URL", "DB_URL")),
    Kind("db.jdbc_mysql", _jdbc_mysql, ("JDBC_URL", "DB_URL")),
    Kind("db.jdbc_sqlserver", _jdbc_sqlserver, ("JDBC_URL",)),
    Kind(
        "db.sqlserver_connection_string",
        _mssql_ado,
        ("SQL_CONNECTION_STRING", "DefaultConnection"),
        2,
    ),
    Kind("url.basic_auth", _basic_url, ("REGISTRY_URL", "UPSTREAM_URL", "ARTIFACTS_URL"), 2),
    Kind("url.smtp", _smtp_url, ("SMTP_URL", "EMAIL_URL")),
    # --- generic ------------------------------------------------------------------------------
    Kind(
        "generic.password",
        lambda g: g.any_password(),
        (
            "DB_PASSWORD",
            "ADMIN_PASSWORD",
            "SMTP_PASSWORD",
            "REDIS_PASSWORD",
            "MYSQL_ROOT_PASSWORD",
            "POSTGRES_PASSWORD",
            "LDAP_BIND_PASSWORD",
            "KEYSTORE_PASSWORD",
            "RABBITMQ_DEFAULT_PASS",
            "MAIL_PASSWORD",
            "DB_PASS",
            "SFTP_PASSWORD",
            "ELASTIC_PASSWORD",
            "DATABASE_PASSWORD",
            "PG_PASSWORD",
            "MONGO_INITDB_ROOT_PASSWORD",
            "SMTP_PASS",
            "DB_PWD",
            "MSSQL_SA_PASSWORD",
            "KEYCLOAK_ADMIN_PASSWORD",
            "GF_SECURITY_ADMIN_PASSWORD",
            "PASSWORD",
            "PASSWD",
            "TRUSTSTORE_PASS",
        ),
        13,
    ),
    Kind(
        "generic.api_key",
        lambda g: g.alnum(g.pick((32, 40, 48))),
        (
            "PAYMENTS_API_KEY",
            "INTERNAL_API_KEY",
            "PARTNER_API_KEY",
            "GEOCODER_API_KEY",
            "X_API_KEY",
            "WEATHER_API_KEY",
            "SEARCH_API_KEY",
            "API_KEY",
            "APIKEY",
            "SERVICE_API_KEY",
            "VENDOR_APIKEY",
        ),
        6,
    ),
    Kind(
        "generic.secret",
        lambda g: g.pick((g.b64url(g.pick((32, 43, 64))), g.hex(g.pick((32, 64))), g.b64bytes(32))),
        (
            "CLIENT_SECRET",
            "APP_SECRET",
            "WEBHOOK_SECRET",
            "SIGNING_SECRET",
            "SESSION_SECRET",
            "JWT_SECRET",
            "OAUTH_CLIENT_SECRET",
            "COOKIE_SECRET",
            "HMAC_SECRET",
            "SHARED_SECRET",
            "CONSUMER_SECRET",
            "SECRET_TOKEN",
        ),
        6,
    ),
    Kind(
        "generic.token",
        lambda g: g.pick((g.alnum(g.pick((32, 40))), g.b64url(40), g.hex(40))),
        (
            "AUTH_TOKEN",
            "ACCESS_TOKEN",
            "BEARER_TOKEN",
            "SERVICE_TOKEN",
            "API_TOKEN",
            "PRIVATE_TOKEN",
            "REFRESH_TOKEN",
            "TOKEN",
        ),
        5,
    ),
    Kind(
        "generic.encryption_key",
        lambda g: g.pick((g.hex(64), g.b64bytes(32))),
        (
            "ENCRYPTION_KEY",
            "AES_KEY",
            "MASTER_KEY",
            "DATA_KEY",
            "CIPHER_KEY",
            "HMAC_KEY",
            "FIELD_ENCRYPTION_KEY",
        ),
        3,
    ),
)

KIND_BY_NAME: dict[str, Kind] = {k.name: k for k in KINDS}

# Kinds produced only by dedicated file writers (multi-line keys, dotfiles, ...).
SPECIAL_KINDS: tuple[str, ...] = (
    "privatekey.rsa",
    "privatekey.ec",
    "privatekey.dsa",
    "privatekey.openssh",
    "privatekey.pkcs8",
    "privatekey.pgp",
    "privatekey.putty",
    "gcp.service_account",
    "wireguard.private_key",
    "http.basic_auth_header",
    "docker.registry_auth",
    "npm.legacy_auth",
    "kubernetes.client_key_data",
    "kubernetes.token",
    "openvpn.static_key",
)
