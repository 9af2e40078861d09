"""File formats the standard corpus never uses, for the unseen-variants corpus (see unseen.py).

Each ``Format`` spells an assignment of ``name`` to ``value`` in one language or container that no
keyguard rule was written against: Kotlin and Swift string literals, Go short declarations, R's
``<-``, Perl, PowerShell, Makefile ``?=``, a Terraform heredoc, Spring XML attributes and elements,
a TOML inline table, JSON inside a Markdown fence, Elixir keywords, Nix, Rust, a C ``#define``, a
systemd ``Environment=`` line, Lua and fish. ``render`` returns the lines of one assignment; the
value always sits whole on one of them, unescaped (a value holding a character the format would
have to escape is not placed there: ``forbid``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .syntax import camel, kebab, lower, pascal, upper

Render = Callable[[str, str], list[str]]


@dataclass(frozen=True)
class Format:
    path: str
    fmt: str
    render: Render
    ref: Callable[[str], str]  # an environment / secret-store reference (a hard negative)
    forbid: tuple[str, ...]  # substrings a value must not hold to be written unescaped
    header: tuple[str, ...] = ()
    footer: tuple[str, ...] = ()
    ref_kind: str = "env_reference"

    def fits(self, value: str) -> bool:
        return not any(bad in value for bad in self.forbid)


def _one(text: str) -> list[str]:
    return [text]


_DQ = ('"', "\\")  # a double-quoted literal that knows backslash escapes
_DQ_INTERP = ('"', "\\", "$")

FORMATS: tuple[Format, ...] = (
    Format(
        "android/app/src/main/java/com/acme/Secrets.kt",
        "kotlin",
        lambda n, v: _one(f'    const val {upper(n)} = "{v}"'),
        lambda n: f'    val {upper(n)}: String = System.getenv("{upper(n)}") ?: ""',
        _DQ_INTERP,
        ("package com.acme", "", "object Secrets {"),
        ("}",),
    ),
    Format(
        "ios/Acme/Config.swift",
        "swift",
        lambda n, v: _one(f'    static let {camel(n)} = "{v}"'),
        lambda n: (
            f'    static let {camel(n)} = ProcessInfo.processInfo.environment["{upper(n)}"] ?? ""'
        ),
        _DQ,
        ("import Foundation", "", "enum Config {"),
        ("}",),
    ),
    Format(
        "internal/bootstrap/load.go",
        "go-func",
        lambda n, v: _one(f"\t{camel(n)} := `{v}`"),
        lambda n: f'\t{camel(n)} := os.Getenv("{upper(n)}")',
        ("`",),
        ("package bootstrap", "", 'import "os"', "", "func load() {"),
        ("}",),
    ),
    Format(
        "analysis/setup.R",
        "r",
        lambda n, v: _one(f'{lower(n)} <- "{v}"'),
        lambda n: f'{lower(n)} <- Sys.getenv("{upper(n)}")',
        _DQ,
        ("library(httr)", ""),
    ),
    Format(
        "scripts/sync.pl",
        "perl",
        lambda n, v: _one(f"my ${lower(n)} = '{v}';"),
        lambda n: f"my ${lower(n)} = $ENV{{{upper(n)}}};",
        ("'", "\\"),
        ("#!/usr/bin/env perl", "use strict;", "use warnings;", ""),
    ),
    Format(
        "scripts/deploy.ps1",
        "powershell",
        lambda n, v: _one(f"$env:{upper(n)} = '{v}'"),
        lambda n: f"$env:{upper(n)} = (Get-Secret -Name '{kebab(n)}' -AsPlainText)",
        ("'",),
        ('$ErrorActionPreference = "Stop"', ""),
    ),
    Format(
        "Makefile",
        "makefile",
        lambda n, v: _one(f"{upper(n)} ?= {v}"),
        lambda n: f"{upper(n)} ?= $(shell vault kv get -field=value secret/{kebab(n)})",
        ("$", "#", " ", "\\"),
        (".PHONY: deploy", ""),
        ("", "deploy:", "\t./scripts/deploy.sh"),
    ),
    Format(
        "terraform/locals.tf",
        "terraform-heredoc",
        lambda n, v: [f"  {lower(n)} = <<-EOT", f"    {v}", "  EOT"],
        lambda n: f"  {lower(n)} = data.aws_ssm_parameter.{lower(n)}.value",
        ("${", "%{", "EOT"),
        ("locals {",),
        ("}",),
    ),
    Format(
        "src/main/resources/applicationContext.xml",
        "spring-xml",
        lambda n, v: _one(f'    <property name="{camel(n)}" value="{v}"/>'),
        lambda n: f'    <property name="{camel(n)}" value="${{{upper(n)}}}"/>',
        ('"', "&", "<", ">"),
        ('<?xml version="1.0" encoding="UTF-8"?>', '<bean id="clients" class="com.acme.Clients">'),
        ("</bean>",),
        ref_kind="template",
    ),
    Format(
        "config/settings.xml",
        "xml-element",
        lambda n, v: _one(f"  <{camel(n)}>{v}</{camel(n)}>"),
        lambda n: f"  <{camel(n)}>${{env.{upper(n)}}}</{camel(n)}>",
        ("&", "<", ">"),
        ('<?xml version="1.0"?>', "<settings>"),
        ("</settings>",),
        ref_kind="template",
    ),
    Format(
        "config/pipeline.toml",
        "toml-inline",
        lambda n, v: _one(f'{lower(n)} = {{ value = "{v}", rotate = "90d" }}'),
        lambda n: f'{lower(n)} = {{ env = "{upper(n)}" }}',
        _DQ,
        ("[credentials]",),
    ),
    Format(
        "docs/RUNBOOK.md",
        "markdown-json",
        lambda n, v: _one(f'  "{camel(n)}": "{v}",'),
        lambda n: f'  "{camel(n)}": "<{kebab(n)}>",',
        _DQ,
        ("# Runbook", "", "The service reads `secrets.json`:", "", "```json", "{"),
        ('  "version": 2', "}", "```"),
        ref_kind="placeholder",
    ),
    Format(
        "config/runtime.exs",
        "elixir",
        lambda n, v: _one(f'config :acme, {lower(n)}: "{v}"'),
        lambda n: f'config :acme, {lower(n)}: System.fetch_env!("{upper(n)}")',
        ('"', "\\", "#{"),
        ("import Config", ""),
    ),
    Format(
        "deploy/configuration.nix",
        "nix",
        lambda n, v: _one(f'    {upper(n)} = "{v}";'),
        lambda n: f'    {upper(n)} = builtins.readFile "/run/secrets/{kebab(n)}";',
        ('"', "\\", "${"),
        ("{ config, pkgs, ... }:", "{", "  environment.variables = {"),
        ("  };", "}"),
    ),
    Format(
        "src/secrets.rs",
        "rust",
        lambda n, v: _one(f'pub const {upper(n)}: &str = "{v}";'),
        lambda n: f'pub static {upper(n)}: &str = env!("{upper(n)}");',
        _DQ,
        ("// build-time configuration", ""),
    ),
    Format(
        "include/acme/config.h",
        "c-header",
        lambda n, v: _one(f'#define {upper(n)} "{v}"'),
        lambda n: f'#define {upper(n)} getenv("{upper(n)}")',
        ('"', "\\", "??"),
        ("#pragma once", ""),
    ),
    Format(
        "deploy/acme.service",
        "systemd",
        lambda n, v: _one(f'Environment="{upper(n)}={v}"'),
        lambda n: f"LoadCredential={kebab(n)}:/etc/acme/{kebab(n)}",
        ('"', "\\", "%", " ", "$"),
        ("[Unit]", "Description=acme api", "", "[Service]", "ExecStart=/usr/bin/acme"),
        ("", "[Install]", "WantedBy=multi-user.target"),
    ),
    Format(
        "scripts/init.lua",
        "lua",
        lambda n, v: _one(f'local {lower(n)} = "{v}"'),
        lambda n: f'local {lower(n)} = os.getenv("{upper(n)}")',
        _DQ,
        ('local http = require("socket.http")', ""),
    ),
    Format(
        "home/.config/fish/config.fish",
        "fish",
        lambda n, v: _one(f"set -gx {upper(n)} '{v}'"),
        lambda n: f"set -gx {upper(n)} (pass show {kebab(n)})",
        ("'", "\\"),
        ("fish_add_path ~/.local/bin",),
    ),
    Format(
        "src/Acme.Web/appsettings.Staging.xml",
        "dotnet-xml",
        lambda n, v: _one(f"  <add name='{pascal(n)}' connectionString='{v}' />"),
        lambda n: f"  <add name='{pascal(n)}' connectionString='#{{{pascal(n)}}}' />",
        ("'", "&", "<", ">"),
        ("<connectionStrings>",),
        ("</connectionStrings>",),
        ref_kind="template",
    ),
)
