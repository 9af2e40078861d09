"""Credential dotfiles of developer machines and CI runners."""

from __future__ import annotations

import json

from . import pem
from .gen import CRYPT64, Gen, b64
from .kinds import KIND_BY_NAME
from .labels import Doc
from .negatives import AWS_EXAMPLE_KEY_IDS, AWS_EXAMPLE_SECRETS


def make(g: Gen, kind: str) -> str:
    return KIND_BY_NAME[kind].make(g)


def _aws(g: Gen) -> list[Doc]:
    creds = Doc(".aws/credentials", "ini")
    key_id, secret = make(g, "aws.access_key_id"), make(g, "aws.secret_access_key")
    creds.add("[default]")
    creds.pos(f"aws_access_key_id = {key_id}", "aws.access_key_id", key_id)
    creds.pos(f"aws_secret_access_key = {secret}", "aws.secret_access_key", secret)
    creds.add("region = eu-west-1", "", "[ci]")
    temp, token, secret2 = (
        make(g, "aws.temp_access_key_id"),
        make(g, "aws.session_token"),
        make(g, "aws.secret_access_key"),
    )
    creds.pos(f"aws_access_key_id={temp}", "aws.temp_access_key_id", temp)
    creds.pos(f"aws_secret_access_key={secret2}", "aws.secret_access_key", secret2)
    creds.pos(f"aws_session_token={token}", "aws.session_token", token)
    creds.add("", "[docs-example]")
    creds.neg(f"aws_access_key_id = {AWS_EXAMPLE_KEY_IDS[0]}", "example_key")
    creds.neg(f"aws_secret_access_key = {AWS_EXAMPLE_SECRETS[0]}", "example_key")
    creds.add(
        "", "[sso]", "sso_start_url = https://acme.awsapps.com/start", "sso_role_name = ReadOnly"
    )
    creds.neg(f"sso_account_id = {g.digits(12)}", "identifier")

    root = Doc("aws/rootkey.csv", "csv")
    key_id, secret = make(g, "aws.access_key_id"), make(g, "aws.secret_access_key")
    root.pos(f"AWSAccessKeyId={key_id}", "aws.access_key_id", key_id)
    root.pos(f"AWSSecretKey={secret}", "aws.secret_access_key", secret)

    s3 = Doc("home/.s3cfg", "ini")
    key_id, secret = make(g, "aws.access_key_id"), make(g, "aws.secret_access_key")
    s3.add("[default]")
    s3.pos(f"access_key = {key_id}", "aws.access_key_id", key_id)
    s3.pos(f"secret_key = {secret}", "aws.secret_access_key", secret)
    s3.add(
        "host_base = s3.amazonaws.com",
        "host_bucket = %(bucket)s.s3.amazonaws.com",
        "use_https = True",
    )
    s3.neg("gpg_passphrase = ", "placeholder")
    return [creds, root, s3]


def _npm(g: Gen) -> list[Doc]:
    npmrc = Doc(".npmrc", "npmrc")
    npmrc.add("registry=https://registry.npmjs.org/", "save-exact=true")
    token = make(g, "npm.token")
    npmrc.pos(f"//registry.npmjs.org/:_authToken={token}", "npm.token", token)
    gh = make(g, "github.pat")
    npmrc.add("@acme:registry=https://npm.pkg.github.com")
    npmrc.pos(f"//npm.pkg.github.com/:_authToken={gh}", "github.pat", gh)
    auth = b64(f"{g.username()}:{g.password('!^*-_+.?~')}".encode())
    npmrc.pos(
        f"//nexus.{g.word()}.internal/repository/npm-group/:_auth={auth}",
        "npm.legacy_auth",
        auth,
        "base64",
    )
    npmrc.add("always-auth=true")
    npmrc.neg("//registry.yarnpkg.com/:_authToken=${NPM_TOKEN}", "template")

    yarnrc = Doc(".yarnrc.yml", "yaml")
    yarnrc.add(
        "nodeLinker: node-modules",
        "npmScopes:",
        "  acme:",
        '    npmRegistryServer: "https://npm.pkg.github.com"',
    )
    token = make(g, "npm.token")
    yarnrc.pos(f'    npmAuthToken: "{token}"', "npm.token", token)
    yarnrc.add("  internal:", '    npmRegistryServer: "https://npm.internal.example"')
    yarnrc.neg('    npmAuthToken: "${INTERNAL_NPM_TOKEN}"', "template")
    return [npmrc, yarnrc]


def _python_and_misc(g: Gen) -> list[Doc]:
    pypirc = Doc(".pypirc", "ini")
    pypirc.add(
        "[distutils]",
        "index-servers =",
        "    pypi",
        "    internal",
        "",
        "[pypi]",
        "username = __token__",
    )
    token = make(g, "pypi.token")
    pypirc.pos(f"password = {token}", "pypi.token", token)
    pypirc.add(
        "",
        "[internal]",
        f"repository = https://pypi.{g.word()}.internal/simple",
        f"username = {g.username()}",
    )
    pw = g.any_password()
    pypirc.pos(f"password = {pw}", "pypirc.password", pw)

    netrc = Doc("home/.netrc", "netrc")
    heroku = make(g, "heroku.api_key")
    netrc.pos(
        f"machine api.heroku.com login ops@{g.word()}.io password {heroku}",
        "heroku.api_key",
        heroku,
    )
    gh = make(g, "github.pat")
    netrc.pos(f"machine github.com login ci-bot password {gh}", "github.pat", gh)
    pw = g.any_password()
    netrc.add(f"machine ftp.{g.word()}.internal")
    netrc.add(f"  login {g.username()}")
    netrc.pos(f"  password {pw}", "netrc.password", pw)
    netrc.neg("machine example.com login anonymous password guest@example.com", "placeholder")

    pgpass = Doc("home/.pgpass", "pgpass")
    pgpass.add("# hostname:port:database:username:password")
    for _ in range(3):
        pw = g.any_password("!^*-_+.?~")
        pgpass.pos(f"{g.host()}:5432:{g.word()}:{g.username()}:{pw}", "db.pgpass", pw)
    pgpass.neg("localhost:5432:*:postgres:postgres", "placeholder")

    gitcred = Doc("home/.git-credentials", "git-credentials")
    gh, gl, bb = make(g, "github.pat"), make(g, "gitlab.pat"), make(g, "bitbucket.app_password")
    gitcred.pos(f"https://ci-bot:{gh}@github.com", "github.pat", gh)
    gitcred.pos(f"https://oauth2:{gl}@gitlab.com", "gitlab.pat", gl)
    gitcred.pos(f"https://{g.username()}:{bb}@bitbucket.org", "bitbucket.app_password", bb)

    ghcli = Doc("home/.config/gh/hosts.yml", "yaml")
    oauth = make(g, "github.oauth_token")
    ghcli.add("github.com:", f"    user: {g.username()}")
    ghcli.pos(f"    oauth_token: {oauth}", "github.oauth_token", oauth)
    ghcli.add("    git_protocol: https")

    tfrc = Doc("home/.terraformrc", "hcl")
    tfe = make(g, "hashicorp.terraform_token")
    tfrc.add('credentials "app.terraform.io" {')
    tfrc.pos(f'  token = "{tfe}"', "hashicorp.terraform_token", tfe)
    tfrc.add("}")

    gem = Doc("home/.gem/credentials", "yaml")
    rg = make(g, "rubygems.api_key")
    gem.add("---")
    gem.pos(f":rubygems_api_key: {rg}", "rubygems.api_key", rg)

    vault = Doc("home/.vault-token", "token-file")
    vt = make(g, "hashicorp.vault_token")
    vault.pos(vt, "hashicorp.vault_token", vt)

    history = Doc("home/.bash_history", "shell-history")
    history.add("cd ~/src/billing", "git pull --rebase")
    pw = g.password("^*-_+.?~")
    history.pos(f"mysql -h {g.host()} -u root -p{pw} billing", "cli.mysql_password", pw)
    history.add("kubectl get pods -n billing")
    gh = make(g, "github.pat")
    history.pos(f"export GITHUB_TOKEN={gh}", "github.pat", gh)
    tok = make(g, "generic.token")
    history.pos(
        f'curl -H "Authorization: Bearer {tok}" https://api.{g.word()}.io/v1/jobs',
        "http.bearer_token",
        tok,
    )
    history.neg(
        'curl -H "Authorization: Bearer $API_TOKEN" https://api.example.io/v1/jobs', "env_reference"
    )
    history.neg("aws sts get-caller-identity --profile prod", "benign_config")
    history.neg(f"git checkout {g.hex(40)}", "git_sha")
    return [pypirc, netrc, pgpass, gitcred, ghcli, tfrc, gem, vault, history]


def _docker_kube(g: Gen) -> list[Doc]:
    docker = Doc(".docker/config.json", "json")
    entries = [
        ("https://index.docker.io/v1/", f"{g.username()}:{make(g, 'dockerhub.pat')}"),
        ("ghcr.io", f"{g.username()}:{make(g, 'github.pat')}"),
        (f"registry.{g.word()}.internal", f"{g.username()}:{g.password()}"),
    ]
    auths = {host: {"auth": b64(cred.encode())} for host, cred in entries}
    auths["public.ecr.aws"] = {}
    config = {
        "auths": auths,
        "credHelpers": {"123456789012.dkr.ecr.eu-west-1.amazonaws.com": "ecr-login"},
        "credsStore": "desktop",
    }
    docker.text(json.dumps(config, indent=2))
    for entry in auths.values():
        if "auth" in entry:
            docker.mark_pos(entry["auth"], "docker.registry_auth", "base64")

    kube = Doc(".kube/config", "kubeconfig")
    ca = b64("\n".join(pem.certificate_pem(g)).encode())
    client_cert = b64("\n".join(pem.certificate_pem(g)).encode())
    client_key = b64("\n".join(pem.rsa_private_pem(g)).encode())
    sa_token = g.jwt(
        "RS256",
        {
            "iss": "kubernetes/serviceaccount",
            "kubernetes.io/serviceaccount/namespace": "ci",
            "kubernetes.io/serviceaccount/secret.name": "deployer-token-" + g.lower_alnum(5),
            "sub": "system:serviceaccount:ci:deployer",
        },
    )
    kube.add("apiVersion: v1", "kind: Config", "clusters:", "- cluster:")
    kube.neg(f"    certificate-authority-data: {ca}", "certificate")
    kube.add(
        f"    server: https://k8s.{g.word()}.internal:6443",
        "  name: prod",
        "users:",
        "- name: admin",
        "  user:",
    )
    kube.neg(f"    client-certificate-data: {client_cert}", "certificate")
    kube.pos(
        f"    client-key-data: {client_key}", "kubernetes.client_key_data", client_key, "base64"
    )
    kube.add("- name: deployer", "  user:")
    kube.pos(f"    token: {sa_token}", "kubernetes.token", sa_token)
    kube.add(
        "- name: sso",
        "  user:",
        "    exec:",
        "      apiVersion: client.authentication.k8s.io/v1beta1",
        "      command: aws",
        '      args: ["eks", "get-token", "--cluster-name", "prod"]',
    )
    kube.add(
        "contexts:",
        "- context:",
        "    cluster: prod",
        "    user: admin",
        "  name: prod",
        "current-context: prod",
    )
    return [docker, kube]


def _java_dotnet_php(g: Gen) -> list[Doc]:
    m2 = Doc(".m2/settings.xml", "maven-xml")
    m2.add(
        "<settings>",
        "  <servers>",
        "    <server>",
        "      <id>releases</id>",
        f"      <username>{g.username()}</username>",
    )
    pw = g.password("!^*-_+.?~")
    m2.pos(f"      <password>{pw}</password>", "maven.server_password", pw)
    m2.add(
        "    </server>",
        "    <server>",
        "      <id>snapshots</id>",
        "      <username>deploy</username>",
    )
    m2.neg(f"      <password>{{{b64(g.raw(32))}}}</password>", "encrypted_value")
    m2.add(
        "    </server>",
        "    <server>",
        "      <id>ci</id>",
        "      <username>${env.CI_DEPLOY_USER}</username>",
    )
    m2.neg("      <password>${env.CI_DEPLOY_PASSWORD}</password>", "template")
    m2.add("    </server>", "  </servers>", "</settings>")

    nuget = Doc("NuGet.Config", "xml", crlf=True)
    pat = make(g, "azure.devops_pat")
    nuget.add(
        '<?xml version="1.0" encoding="utf-8"?>',
        "<configuration>",
        "  <packageSources>",
        f'    <add key="acme" value="https://pkgs.dev.azure.com/{g.word()}/_packaging/acme/nuget/v3/index.json" />',
        "  </packageSources>",
        "  <packageSourceCredentials>",
        "    <acme>",
        f'      <add key="Username" value="{g.username()}" />',
    )
    nuget.pos(f'      <add key="ClearTextPassword" value="{pat}" />', "azure.devops_pat", pat)
    nuget.add("    </acme>", "    <github>", '      <add key="Username" value="ci" />')
    nuget.neg('      <add key="ClearTextPassword" value="%GITHUB_PACKAGES_TOKEN%" />', "template")
    nuget.add("    </github>", "  </packageSourceCredentials>", "</configuration>")

    composer = Doc("auth.json", "json")
    gh = make(g, "github.oauth_token")
    pw = g.password()
    data = {
        "github-oauth": {"github.com": gh},
        "http-basic": {"repo.packagist.com": {"username": "token", "password": pw}},
        "bearer": {"satis.example.org": "${SATIS_TOKEN}"},
    }
    composer.text(json.dumps(data, indent=4))
    composer.mark_pos(gh, "github.oauth_token")
    composer.mark_pos(pw, "composer.http_basic_password")
    composer.mark_neg("${SATIS_TOKEN}", "template")

    gradle = Doc("gradle.properties", "properties")
    gradle.add("org.gradle.jvmargs=-Xmx2g", "org.gradle.caching=true")
    gradle.neg(f"signing.keyId={g.hexu(8)}", "identifier")
    pw1, pw2 = g.any_password(), g.any_password()
    gradle.pos(f"signing.password={pw1}", "gradle.signing_password", pw1)
    gradle.add(
        "signing.secretKeyRingFile=/home/ci/.gnupg/secring.gpg", f"ossrhUsername={g.username()}"
    )
    gradle.pos(f"ossrhPassword={pw2}", "gradle.repository_password", pw2)
    gradle.neg("mavenCentralPassword=", "placeholder")
    return [m2, nuget, composer, gradle]


def _hash_files(g: Gen) -> list[Doc]:
    htpasswd = Doc("deploy/nginx/.htpasswd", "htpasswd")
    htpasswd.neg(f"admin:$apr1${g.chars(8, CRYPT64)}${g.chars(22, CRYPT64)}", "password_hash")
    htpasswd.neg(f"grafana:$2y$05${g.chars(53, CRYPT64)}", "password_hash")
    htpasswd.neg(f"legacy:{{SHA}}{b64(g.raw(20))}", "password_hash")

    shadow = Doc("backup/etc/shadow", "shadow")
    shadow.add("root:*:19700:0:99999:7:::", "daemon:*:19700:0:99999:7:::")
    for user in ("deploy", "ubuntu", "backup"):
        shadow.neg(
            f"{user}:$6${g.chars(16, CRYPT64)}${g.chars(86, CRYPT64)}:19801:0:99999:7:::",
            "password_hash",
        )
    shadow.neg(
        f"svc:$y$j9T${g.chars(22, CRYPT64)}${g.chars(43, CRYPT64)}:19802:0:99999:7:::",
        "password_hash",
    )
    return [htpasswd, shadow]


def write_dotfiles(g: Gen) -> list[Doc]:
    return [
        *_aws(g),
        *_npm(g),
        *_python_and_misc(g),
        *_docker_kube(g),
        *_java_dotnet_php(g),
        *_hash_files(g),
    ]
