"""Infrastructure files: Kubernetes, Helm, Terraform, sops/ansible-vault/sealed secrets, GCP keys."""

from __future__ import annotations

import json

from . import pem
from .files_keys import body_line
from .gen import B64, Gen, b64, wrap
from .hosts import Item
from .kinds import KIND_BY_NAME
from .labels import Doc


def make(g: Gen, kind: str) -> str:
    return KIND_BY_NAME[kind].make(g)


def service_account_json(g: Gen) -> tuple[dict[str, str], str]:
    project = f"{g.word()}-{g.word()}-{g.digits(6)}"
    key = pem.one_line(pem.pkcs8_pem(g)).replace("\\n", "\n")
    account = f"{g.word()}-sa@{project}.iam.gserviceaccount.com"
    data = {
        "type": "service_account",
        "project_id": project,
        "private_key_id": g.hex(40),
        "private_key": key,
        "client_email": account,
        "client_id": g.digits(21),
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": "https://oauth2.googleapis.com/token",
        "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
        "client_x509_cert_url": f"https://www.googleapis.com/robot/v1/metadata/x509/{account.replace('@', '%40')}",
        "universe_domain": "googleapis.com",
    }
    return data, key


def _gcp(g: Gen) -> list[Doc]:
    doc = Doc("gcp/service-account.json", "json")
    data, key = service_account_json(g)
    lines = json.dumps(data, indent=2).split("\n")
    doc.pos_block(lines, "gcp.service_account", json.dumps(key)[1:-1], "json")
    return [doc]


def k8s_secret(g: Gen, items: list[Item]) -> Doc:
    """An Opaque Secret whose ``data`` values are base64 (the usual way) plus a ``stringData`` block."""
    doc = Doc("k8s/secrets.yaml", "kubernetes")
    doc.add(
        "apiVersion: v1",
        "kind: Secret",
        "metadata:",
        f"  name: {g.word()}-credentials",
        "  namespace: billing",
        "type: Opaque",
        "data:",
    )
    plain = [it for it in items if it.variant != "base64"]
    encoded = [it for it in items if it.variant == "base64"]
    for it in encoded:
        assert it.value is not None
        key = it.name.lower().replace("_", "-")
        if it.positive:
            doc.pos(f"  {key}: {it.value}", it.kind, it.value, "base64")
        else:
            doc.neg(f"  {key}: {it.value}", it.kind)
    doc.add("stringData:")
    for it in plain:
        assert it.value is not None
        key = it.name.lower().replace("_", "-")
        line = f'  {key}: "{it.value}"'
        if it.positive:
            doc.pos(line, it.kind, it.value)
        else:
            doc.neg(line, it.kind)

    # TLS secret: the certificate is public, the key is not.
    doc.add(
        "---",
        "apiVersion: v1",
        "kind: Secret",
        "metadata:",
        "  name: ingress-tls",
        "type: kubernetes.io/tls",
        "data:",
    )
    doc.neg(f"  tls.crt: {b64(chr(10).join(pem.certificate_pem(g)).encode())}", "certificate")
    key = b64("\n".join(pem.rsa_private_pem(g)).encode())
    doc.pos(f"  tls.key: {key}", "privatekey.rsa", key, "base64")

    # Registry credentials: base64 of a docker config.json whose auth is itself base64.
    docker_cfg = json.dumps(
        {"auths": {"ghcr.io": {"auth": b64(f"ci:{make(g, 'github.pat')}".encode())}}}
    )
    enc = b64(docker_cfg.encode())
    doc.add(
        "---",
        "apiVersion: v1",
        "kind: Secret",
        "metadata:",
        "  name: ghcr-pull",
        "type: kubernetes.io/dockerconfigjson",
        "data:",
    )
    doc.pos(f"  .dockerconfigjson: {enc}", "docker.registry_auth", enc, "base64")

    # A plain-text TLS key pasted into stringData with a YAML block scalar.
    doc.add(
        "---",
        "apiVersion: v1",
        "kind: Secret",
        "metadata:",
        "  name: webhook-signing",
        "stringData:",
        "  signing.key: |",
    )
    block = ["    " + line for line in pem.ec_private_pem(g)]
    doc.pos_block(block, "privatekey.ec", body_line(block).strip())
    return doc


def _k8s_negatives(g: Gen) -> list[Doc]:
    deploy = Doc("k8s/deployment.yaml", "kubernetes")
    deploy.add(
        "apiVersion: apps/v1",
        "kind: Deployment",
        "metadata:",
        "  name: api",
        "spec:",
        "  template:",
        "    spec:",
        "      containers:",
        "        - name: api",
    )
    deploy.neg(f"          image: ghcr.io/acme/api@sha256:{g.hex(64)}", "hash")
    deploy.add(
        "          env:",
        "            - name: DB_PASSWORD",
        "              valueFrom:",
        "                secretKeyRef:",
        "                  name: db-credentials",
    )
    deploy.neg("                  key: password", "env_reference")
    deploy.add(
        "            - name: API_TOKEN",
        "              valueFrom:",
        "                secretKeyRef:",
        "                  name: api-credentials",
    )
    deploy.neg("                  key: token", "env_reference")
    deploy.neg(f'            - {{name: BUILD_SHA, value: "{g.hex(40)}"}}', "git_sha")
    deploy.neg(f'            - {{name: REQUEST_SIGNING_KEY_ID, value: "{g.uuid()}"}}', "uuid")
    deploy.add("          envFrom:", "            - secretRef:")
    deploy.neg("                name: app-secrets", "env_reference")

    sealed = Doc("k8s/sealed-secret.yaml", "kubernetes")
    sealed.add(
        "apiVersion: bitnami.com/v1alpha1",
        "kind: SealedSecret",
        "metadata:",
        "  name: db-credentials",
        "  namespace: billing",
        "spec:",
        "  encryptedData:",
    )
    for key in ("password", "username", "api-token", "stripe-secret-key"):
        sealed.neg(f"    {key}: AgB{g.chars(g.num(360, 700), B64)}", "encrypted_value")
    sealed.add("  template:", "    metadata:", "      name: db-credentials")

    helm = Doc("helm/templates/secret.yaml", "helm")
    helm.add(
        "apiVersion: v1",
        "kind: Secret",
        "metadata:",
        '  name: {{ include "api.fullname" . }}',
        "data:",
    )
    for key in ("dbPassword", "stripeSecretKey", "githubToken", "sentryDsn"):
        helm.neg(f"  {key}: {{{{ .Values.secrets.{key} | b64enc | quote }}}}", "template")
    helm.neg(
        '  apiKey: {{ required "secrets.apiKey is required" .Values.secrets.apiKey | b64enc }}',
        "template",
    )
    return [deploy, sealed, helm]


def _terraform(g: Gen) -> list[Doc]:
    doc = Doc("terraform/main.tf", "terraform")
    key_id, secret = make(g, "aws.access_key_id"), make(g, "aws.secret_access_key")
    doc.add('provider "aws" {', '  region     = "eu-west-1"')
    doc.pos(f'  access_key = "{key_id}"', "aws.access_key_id", key_id)
    doc.pos(f'  secret_key = "{secret}"', "aws.secret_access_key", secret)
    doc.add("}", "", 'provider "azurerm" {', "  features {}")
    doc.neg(f'  tenant_id       = "{g.uuid()}"', "uuid")
    doc.neg(f'  client_id       = "{g.uuid()}"', "uuid")
    ad = make(g, "azure.ad_client_secret")
    doc.pos(f'  client_secret   = "{ad}"', "azure.ad_client_secret", ad)
    doc.add(
        "}",
        "",
        'resource "aws_db_instance" "main" {',
        '  engine   = "postgres"',
        '  username = "app"',
    )
    pw = g.any_password()
    doc.pos(f'  password = "{pw}"', "terraform.password", pw)
    doc.add("}", "", 'resource "aws_db_instance" "replica" {')
    doc.neg("  password = random_password.replica.result", "env_reference")
    doc.neg(f'  kms_key_id = "arn:aws:kms:eu-west-1:{g.digits(12)}:key/{g.uuid()}"', "identifier")
    doc.add("}", "", 'resource "aws_db_instance" "analytics" {')
    doc.neg("  password = var.analytics_db_password", "env_reference")
    doc.add("}", "", 'data "aws_secretsmanager_secret_version" "stripe" {')
    doc.neg('  secret_id = "prod/billing/stripe"', "benign_config")
    doc.add(
        "}",
        "",
        'resource "kubernetes_secret" "tls" {',
        '  metadata { name = "edge-tls" }',
        "  data = {",
    )
    block = pem.rsa_private_pem(g)
    doc.add('    "tls.key" = <<-EOT')
    doc.pos_block(["      " + line for line in block], "privatekey.rsa", body_line(block))
    doc.add(
        "    EOT",
        "  }",
        "}",
        "",
        'variable "analytics_db_password" {',
        "  type      = string",
        "  sensitive = true",
    )
    doc.neg('  default   = ""', "placeholder")
    doc.add(
        "}",
        "",
        'resource "github_actions_secret" "npm" {',
        '  repository      = "api"',
        '  secret_name     = "NPM_TOKEN"',
    )
    doc.neg("  plaintext_value = var.npm_token", "env_reference")
    doc.add("}")

    lock = Doc("terraform/.terraform.lock.hcl", "terraform-lock")
    lock.add('# This file is maintained automatically by "terraform init".', "")
    for provider in ("hashicorp/aws", "hashicorp/azurerm", "hashicorp/random"):
        lock.add(
            f'provider "registry.terraform.io/{provider}" {{',
            f'  version     = "5.{g.num(10, 80)}.0"',
            "  hashes = [",
        )
        lock.neg(f'    "h1:{g.b64bytes(32)}",', "integrity")
        for _ in range(2):
            lock.neg(f'    "zh:{g.hex(64)}",', "integrity")
        lock.add("  ]", "}", "")
    return [doc, lock]


def _encrypted_files(g: Gen) -> list[Doc]:
    sops = Doc("secrets/app.enc.yaml", "sops")
    for key in ("db_password", "stripe_secret_key", "github_token", "jwt_signing_key"):
        sops.neg(
            f"{key}: ENC[AES256_GCM,data:{b64(g.raw(g.num(16, 60)))},iv:{b64(g.raw(32))},tag:{b64(g.raw(16))},type:str]",
            "encrypted_value",
        )
    sops.add("sops:", "    age:")
    sops.neg(
        f"        - recipient: age1{g.chars(58, 'qpzry9x8gf2tvdw0s3jn54khce6mua7l')}", "public_key"
    )
    sops.add("          enc: |")
    age = pem.age_encrypted(g)
    sops.neg_block(["            " + line for line in age], "encrypted_value")
    sops.add(f'    lastmodified: "2024-0{g.num(1, 9)}-1{g.num(0, 9)}T10:00:00Z"')
    sops.neg(
        f"    mac: ENC[AES256_GCM,data:{b64(g.raw(32))},iv:{b64(g.raw(32))},tag:{b64(g.raw(16))},type:str]",
        "encrypted_value",
    )
    sops.add("    version: 3.8.1")

    vault = Doc("ansible/group_vars/vault.yml", "ansible-vault")
    body = "".join(g.hex(80) for _ in range(9))
    vault.neg_block(["$ANSIBLE_VAULT;1.1;AES256", *wrap(body, 80)], "encrypted_file")

    inline = Doc("ansible/host_vars/db1.yml", "ansible")
    inline.add("---", "postgresql_version: 16")
    inline.add("postgresql_admin_password: !vault |")
    inline.neg_block(
        [
            "  $ANSIBLE_VAULT;1.1;AES256",
            *["  " + line for line in wrap("".join(g.hex(80) for _ in range(5)), 80)],
        ],
        "encrypted_value",
    )
    inline.neg('replication_password: "{{ vault_replication_password }}"', "template")
    pw = g.any_password()
    inline.pos(f'monitoring_password: "{pw}"', "ansible.password", pw)
    inline.add("ansible_user: deploy")
    pw2 = g.password("!^*-_+.?~")
    inline.pos(f"ansible_become_password: {pw2}", "ansible.password", pw2)

    inventory = Doc("ansible/inventory.ini", "ini")
    inventory.add("[web]")
    pw = g.password("!^*-_+.?~")
    inventory.pos(
        f"web1.{g.word()}.internal ansible_user=deploy ansible_password={pw}",
        "ansible.password",
        pw,
    )
    inventory.neg(
        'web2.example.internal ansible_user=deploy ansible_password="{{ vault_web_password }}"',
        "template",
    )
    inventory.add("", "[db]", "db1.example.internal")
    return [sops, vault, inline, inventory]


def write_infra(g: Gen, k8s_items: list[Item]) -> list[Doc]:
    return [
        *_gcp(g),
        k8s_secret(g, k8s_items),
        *_k8s_negatives(g),
        *_terraform(g),
        *_encrypted_files(g),
    ]
