"""Assignment-style files: each holds a shuffled mix of credentials, hard negatives and plain config."""

from __future__ import annotations

from dataclasses import dataclass

from .gen import Gen
from .labels import Doc
from .syntax import SYNTAXES


@dataclass(frozen=True)
class Item:
    """One value to place: a credential (positive) or a hard negative."""

    kind: str
    name: str
    value: str | None  # None: the syntax's environment reference for ``name`` (a negative)
    positive: bool
    variant: str = ""


@dataclass(frozen=True)
class HostSpec:
    path: str
    fmt: str
    syntax: str
    weight: int
    header: tuple[str, ...] = ()
    footer: tuple[str, ...] = ()
    indent: str = ""
    crlf: bool = False
    bom: bool = False
    base64_ok: bool = False
    comment: str = "#"


HOSTS: tuple[HostSpec, ...] = (
    HostSpec(
        ".env",
        "dotenv",
        "env",
        14,
        ("# local overrides - do not commit (too late)",),
        base64_ok=True,
    ),
    HostSpec(
        "home/.zshrc",
        "shell-rc",
        "export",
        5,
        ('export PATH="$HOME/.local/bin:$PATH"', "alias k=kubectl"),
    ),
    HostSpec(
        "config/config.yaml",
        "yaml",
        "yaml",
        10,
        ("app:", "  name: billing", "  credentials:"),
        indent="    ",
        base64_ok=True,
    ),
    HostSpec(
        "docker-compose.yml",
        "compose",
        "compose_list",
        8,
        ("services:", "  api:", "    image: ghcr.io/acme/api:1.4.2", "    environment:"),
        ("    ports:", '      - "8080:8080"'),
        indent="      ",
    ),
    HostSpec(
        "deploy/docker-compose.prod.yml",
        "compose",
        "compose_map",
        4,
        ("services:", "  worker:", "    image: ghcr.io/acme/worker:1.4.2", "    environment:"),
        indent="      ",
    ),
    HostSpec(
        "helm/values.yaml",
        "helm",
        "yaml_camel",
        6,
        ("replicaCount: 2", "image:", "  repository: acme/api", '  tag: "1.4.2"', "secrets:"),
        indent="  ",
    ),
    HostSpec(
        "terraform/terraform.tfvars", "tfvars", "hcl", 6, ('region = "eu-west-1"',), comment="#"
    ),
    HostSpec("app/settings.py", "python", "python", 10, ("import os", "", "DEBUG = False")),
    HostSpec("app/jobs/sync.py", "python", "python_get", 4, ("import os", "import logging", "")),
    HostSpec(
        "web/src/config.js",
        "javascript",
        "js_obj",
        8,
        ("'use strict';", "", "module.exports = {"),
        ("};",),
        indent="  ",
        comment="//",
    ),
    HostSpec("web/src/api.ts", "typescript", "ts", 6, ("// runtime configuration",), comment="//"),
    HostSpec(
        "cmd/server/config.go",
        "go",
        "go",
        6,
        ("package main", "", 'import "os"', "", "var ("),
        (")",),
        indent="\t",
        comment="//",
    ),
    HostSpec(
        "src/main/java/com/acme/billing/Credentials.java",
        "java",
        "java",
        6,
        ("package com.acme.billing;", "", "public final class Credentials {"),
        ("}",),
        indent="    ",
        comment="//",
    ),
    HostSpec(
        "src/Acme.Api/Secrets.cs",
        "csharp",
        "csharp",
        5,
        ("namespace Acme.Api;", "", "public static class Secrets", "{"),
        ("}",),
        indent="    ",
        comment="//",
    ),
    HostSpec(
        "config/initializers/services.rb",
        "ruby",
        "ruby",
        5,
        ("Rails.application.configure do",),
        ("end",),
        indent="  ",
    ),
    HostSpec(
        "config/services.php",
        "php",
        "php",
        5,
        ("<?php", "", "return ["),
        ("];",),
        indent="    ",
        comment="//",
    ),
    HostSpec(
        "src/main/resources/application.properties",
        "properties",
        "properties",
        7,
        ("spring.application.name=billing",),
    ),
    HostSpec(
        "web.config",
        "xml",
        "xml_add",
        5,
        ('<?xml version="1.0" encoding="utf-8"?>', "<configuration>", "  <appSettings>"),
        ("  </appSettings>", "</configuration>"),
        indent="    ",
        crlf=True,
        comment="",
    ),
    HostSpec(
        "Dockerfile",
        "dockerfile",
        "dockerfile",
        4,
        ("FROM python:3.12-slim", "WORKDIR /app"),
        ("COPY . .", 'CMD ["gunicorn", "app:app"]'),
    ),
    HostSpec(
        ".github/workflows/deploy.yml",
        "github-actions",
        "gh_env",
        5,
        (
            "name: deploy",
            "on:",
            "  push:",
            "    branches: [main]",
            "jobs:",
            "  deploy:",
            "    runs-on: ubuntu-latest",
            "    env:",
        ),
        ("    steps:", "      - uses: actions/checkout@v4", "      - run: make deploy"),
        indent="      ",
    ),
    HostSpec(
        "docs/SETUP.md",
        "markdown",
        "md_shell",
        6,
        (
            "# Setting up a development machine",
            "",
            "Export these before running `make dev`:",
            "",
            "```bash",
        ),
        ("```", "", "Ask in #platform if something is missing."),
        comment="",
    ),
    HostSpec("config/legacy.ini", "ini", "ini", 5, ("[service]",), crlf=True, comment=";"),
    HostSpec(
        "scripts/setup.bat",
        "batch",
        "bat",
        4,
        ("@echo off",),
        ("call deploy.cmd",),
        crlf=True,
        comment="REM",
    ),
    HostSpec("config/app.toml", "toml", "toml", 5, ('title = "billing"', "", "[service]")),
    HostSpec("logs/debug.log", "log", "log", 5, comment=""),
    HostSpec(
        "Jenkinsfile",
        "groovy",
        "groovy",
        4,
        ("pipeline {", "  agent any", "  environment {"),
        (
            "  }",
            "  stages {",
            "    stage('Deploy') {",
            "      steps { sh 'make deploy' }",
            "    }",
            "  }",
            "}",
        ),
        indent="    ",
        comment="//",
    ),
    HostSpec("ansible/group_vars/production.yml", "ansible", "yaml", 4, ("---",)),
)

_NEUTRAL: tuple[tuple[str, str], ...] = (
    ("LOG_LEVEL", "info"),
    ("PORT", "8080"),
    ("REGION", "eu-west-1"),
    ("APP_ENV", "production"),
    ("MAX_CONNECTIONS", "50"),
    ("CACHE_TTL", "300"),
    ("FEATURE_SEARCH", "true"),
    ("TIMEZONE", "UTC"),
    ("WORKERS", "4"),
    ("REQUEST_TIMEOUT", "30"),
    ("RETRY_LIMIT", "5"),
    ("METRICS_ENABLED", "true"),
)

_COMMENTS = (
    "rotate quarterly",
    "TODO move to vault",
    "prod values",
    "ask ops before changing",
    "legacy integration",
    "used by the nightly export",
)


def neutral(g: Gen) -> tuple[str, str]:
    name, value = g.pick(_NEUTRAL)
    if g.chance(0.3):
        return g.pick(
            (
                ("DB_HOST", g.host()),
                ("BASE_URL", f"https://api.{g.word()}.io"),
                ("DB_USER", g.username()),
                ("BUCKET_NAME", f"{g.word()}-assets"),
            )
        )
    return name, value


def render_host(g: Gen, spec: HostSpec, items: list[Item]) -> Doc:
    doc = Doc(spec.path, spec.fmt, crlf=spec.crlf, bom=spec.bom)
    doc.add(*spec.header)
    syntax = SYNTAXES[spec.syntax]
    for item in items:
        if g.chance(0.35):
            doc.add(spec.indent + syntax.assign(*neutral(g)))
        if spec.comment and g.chance(0.12):
            doc.add(f"{spec.indent}{spec.comment} {g.pick(_COMMENTS)}")
        if item.value is None:
            if syntax.ref is None:
                raise ValueError(f"{spec.syntax} has no reference form")
            doc.neg(spec.indent + syntax.ref(item.name), item.kind)
        elif item.positive:
            doc.pos(
                spec.indent + syntax.assign(item.name, item.value),
                item.kind,
                item.value,
                item.variant,
            )
        else:
            doc.neg(spec.indent + syntax.assign(item.name, item.value), item.kind)
    doc.add(*spec.footer)
    return doc
