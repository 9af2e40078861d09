"""Front-end and notebook files: minified bundles with 20 KB lines, HTML, Jupyter notebooks, lockfiles."""

from __future__ import annotations

import json

from .gen import Gen, b64
from .hosts import Item
from .kinds import KIND_BY_NAME
from .labels import Doc
from .negatives import mapbox_public, minified_filler, png_data_uri
from .syntax import camel

MIN_LINE = 20_500


def _js_assign(target: str, value: str) -> str:
    return f'{target}="{value}";'


def write_bundle(g: Gen, items: list[Item]) -> Doc:
    """``web/dist/assets/index-<hash>.min.js``: each long line carries exactly one labelled value."""
    doc = Doc(f"web/dist/assets/index-{g.hex(8)}.min.js", "minified-js")
    doc.add(f"/*! acme-web v2.{g.num(0, 9)}.{g.num(0, 30)} | (c) Acme | MIT */")
    negatives = [
        ("data_uri", f'const Q="{png_data_uri(g, 2500)}";'),
        ("publishable_key", f'Stripe("pk_live_{g.alnum(99)}",{{locale:"auto"}});'),
        ("publishable_key", _js_assign("mapboxgl.accessToken", mapbox_public(g))),
        ("uuid", f'const tenant="{g.uuid()}";'),
        ("hash", f'const buildHash="{g.hex(64)}";'),
        ("integrity", f'e.integrity="sha384-{g.b64bytes(48)}";'),
    ]
    lines: list[tuple[Item | None, str, str]] = [(it, "", "") for it in items]
    lines += [(None, kind, snippet) for kind, snippet in negatives]
    g.shuffle(lines)
    for item, neg_kind, snippet in lines:
        size = g.num(MIN_LINE, MIN_LINE + 9000)
        cut = g.num(size // 5, size * 4 // 5)
        if item is not None:
            assert item.value is not None
            code = f'{g.pick(("var", "const", "let"))} {g.chars(2, "abcdefghijklmnopqrstuvwxyz")}={{{camel(item.name)}:"{item.value}",timeout:3e4}};'
            doc.pos(
                minified_filler(g, cut) + code + minified_filler(g, size - cut),
                item.kind,
                item.value,
                "minified",
            )
        else:
            doc.neg(minified_filler(g, cut) + snippet + minified_filler(g, size - cut), neg_kind)
    source_map = b64(
        json.dumps(
            {
                "version": 3,
                "sources": ["src/main.ts"],
                "names": [],
                "mappings": "AAAA,"
                + ";".join(g.chars(6, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefgh") for _ in range(400)),
            }
        ).encode()
    )
    doc.neg(
        f"//# sourceMappingURL=data:application/json;charset=utf-8;base64,{source_map}", "data_uri"
    )
    return doc


def write_notebook(g: Gen, items: list[Item]) -> Doc:
    doc = Doc("notebooks/churn-analysis.ipynb", "jupyter")
    setup = ["import os\n", "import pandas as pd\n", "import requests\n", "\n"]
    for it in items:
        assert it.value is not None
        if g.chance(0.5):
            setup.append(f'os.environ["{it.name}"] = "{it.value}"\n')
        else:
            setup.append(f'{it.name.lower()} = "{it.value}"\n')
    image = b64(g.raw(6000))
    printed_hash = g.hex(64)
    cells = [
        {
            "cell_type": "markdown",
            "metadata": {},
            "source": ["# Churn analysis\n", "Pulls the export and plots cohorts."],
        },
        {"cell_type": "code", "execution_count": 1, "metadata": {}, "outputs": [], "source": setup},
        {
            "cell_type": "code",
            "execution_count": 2,
            "metadata": {},
            "outputs": [
                {
                    "name": "stdout",
                    "output_type": "stream",
                    "text": [f"export sha256 {printed_hash}\n"],
                }
            ],
            "source": [
                'token = os.environ.get("EXPORT_API_TOKEN")\n',
                "df = pd.read_csv(fetch_export(token))",
            ],
        },
        {
            "cell_type": "code",
            "execution_count": 3,
            "metadata": {},
            "outputs": [
                {
                    "data": {
                        "image/png": "iVBORw0KGgoAAAANSUhEUgAA" + image,
                        "text/plain": ["<Figure size 640x480>"],
                    },
                    "metadata": {},
                    "output_type": "display_data",
                }
            ],
            "source": ["df.groupby('cohort').size().plot()"],
        },
    ]
    nb = {
        "cells": cells,
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python", "version": "3.11.7"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    doc.text(json.dumps(nb, indent=1))
    for it in items:
        assert it.value is not None
        doc.mark_pos(it.value, it.kind, "notebook")
    doc.mark_neg(printed_hash, "hash")
    doc.mark_neg('os.environ.get(\\"EXPORT_API_TOKEN\\")', "env_reference")
    doc.mark_neg(image[:40], "data_uri")
    return doc


def write_html(g: Gen) -> Doc:
    doc = Doc("web/public/index.html", "html")
    doc.add("<!doctype html>", '<html lang="en">', "<head>", '  <meta charset="utf-8">')
    doc.neg(
        f'  <link rel="stylesheet" href="https://cdn.jsdelivr.net/npm/bootstrap@5.3.3/dist/css/bootstrap.min.css" '
        f'integrity="sha384-{g.b64bytes(48)}" crossorigin="anonymous">',
        "integrity",
    )
    doc.neg(
        f'  <script src="https://cdn.jsdelivr.net/npm/alpinejs@3.14.1/dist/cdn.min.js" integrity="sha384-{g.b64bytes(48)}" '
        'crossorigin="anonymous" defer></script>',
        "integrity",
    )
    key = KIND_BY_NAME["gcp.api_key"].make(g)
    doc.pos(
        f'  <script async src="https://maps.googleapis.com/maps/api/js?key={key}&callback=initMap"></script>',
        "gcp.api_key",
        key,
    )
    doc.neg(f'  <script>window.STRIPE_PK = "pk_live_{g.alnum(24)}";</script>', "publishable_key")
    doc.add("</head>", "<body>")
    doc.neg(f'  <img alt="logo" src="{png_data_uri(g, 900)}">', "data_uri")
    doc.neg(f'  <div class="g-recaptcha" data-sitekey="6L{g.b64url(38)}"></div>', "publishable_key")
    doc.neg(f'  <meta name="commit" content="{g.hex(40)}">', "git_sha")
    doc.add('  <div id="map"></div>', "</body>", "</html>")
    return doc


def _npm_name(g: Gen) -> str:
    return g.pick(
        (
            "lodash",
            "react",
            "react-dom",
            "axios",
            "zod",
            "dayjs",
            "clsx",
            "scheduler",
            "loose-envify",
            "js-tokens",
            "tslib",
            "uuid",
            "semver",
            "debug",
            "ms",
            "chalk",
            "commander",
            "yaml",
        )
    )


def write_lockfiles(g: Gen) -> list[Doc]:
    docs: list[Doc] = []
    names = list(dict.fromkeys(_npm_name(g) for _ in range(40)))[:12]
    packages: dict[str, object] = {"": {"name": "acme-web", "version": "2.3.0"}}
    integrities = []
    for name in names:
        version = f"{g.num(1, 18)}.{g.num(0, 20)}.{g.num(0, 9)}"
        integrity = "sha512-" + g.b64bytes(64)
        integrities.append(integrity)
        packages[f"node_modules/{name}"] = {
            "version": version,
            "resolved": f"https://registry.npmjs.org/{name}/-/{name}-{version}.tgz",
            "integrity": integrity,
            "license": "MIT",
        }
    pw = g.url_password()
    private_url = f"https://deploy:{pw}@nexus.{g.word()}.internal/repository/npm-private/@acme/ui/-/ui-4.1.0.tgz"
    private_integrity = "sha512-" + g.b64bytes(64)
    integrities.append(private_integrity)
    packages["node_modules/@acme/ui"] = {
        "version": "4.1.0",
        "resolved": private_url,
        "integrity": private_integrity,
    }
    lock = Doc("web/package-lock.json", "npm-lockfile")
    lock.text(
        json.dumps(
            {
                "name": "acme-web",
                "version": "2.3.0",
                "lockfileVersion": 3,
                "requires": True,
                "packages": packages,
            },
            indent=2,
        )
    )
    for integrity in integrities:
        lock.mark_neg(integrity, "integrity")
    lock.mark_pos(private_url, "lockfile.registry_credentials")
    docs.append(lock)

    yarn = Doc("web/yarn.lock", "yarn-lockfile")
    yarn.add(
        "# THIS IS AN AUTOGENERATED FILE. DO NOT EDIT THIS FILE DIRECTLY.", "# yarn lockfile v1", ""
    )
    for name in names[:8]:
        version = f"{g.num(1, 18)}.{g.num(0, 20)}.{g.num(0, 9)}"
        yarn.add(f"{name}@^{version}:", f'  version "{version}"')
        yarn.neg(
            f'  resolved "https://registry.yarnpkg.com/{name}/-/{name}-{version}.tgz#{g.hex(40)}"',
            "hash",
        )
        yarn.neg(f"  integrity sha512-{g.b64bytes(64)}", "integrity")
        yarn.add("")
    docs.append(yarn)

    req = Doc("requirements.txt", "pip-requirements")
    token = KIND_BY_NAME["generic.token"].make(g)
    req.pos(
        f"--extra-index-url https://__token__:{token}@pypi.{g.word()}.internal/simple/",
        "pip.index_url_credentials",
        token,
    )
    for name in ("requests==2.32.3", "urllib3==2.2.2", "idna==3.7", "certifi==2024.7.4"):
        req.add(f"{name} \\")
        req.neg(f"    --hash=sha256:{g.hex(64)} \\", "integrity")
        req.neg(f"    --hash=sha256:{g.hex(64)}", "integrity")
    docs.append(req)

    gosum = Doc("go.sum", "go-sum")
    for mod in (
        "github.com/google/uuid v1.6.0",
        "golang.org/x/crypto v0.24.0",
        "gopkg.in/yaml.v3 v3.0.1",
    ):
        gosum.neg(f"{mod} h1:{g.b64bytes(32)}", "integrity")
        gosum.neg(f"{mod}/go.mod h1:{g.b64bytes(32)}", "integrity")
    docs.append(gosum)

    cargo = Doc("Cargo.lock", "cargo-lock")
    cargo.add("# This file is automatically @generated by Cargo.", "version = 3", "")
    for name in ("serde", "tokio", "regex", "anyhow"):
        cargo.add(
            "[[package]]",
            f'name = "{name}"',
            f'version = "1.{g.num(0, 40)}.{g.num(0, 9)}"',
            'source = "registry+https://github.com/rust-lang/crates.io-index"',
        )
        cargo.neg(f'checksum = "{g.hex(64)}"', "integrity")
        cargo.add("")
    docs.append(cargo)

    poetry = Doc("poetry.lock", "poetry-lock")
    for name in ("click", "pydantic"):
        version = f"{g.num(1, 8)}.{g.num(0, 9)}.{g.num(0, 9)}"
        poetry.add("[[package]]", f'name = "{name}"', f'version = "{version}"', "files = [")
        poetry.neg(
            f'    {{file = "{name}-{version}-py3-none-any.whl", hash = "sha256:{g.hex(64)}"}},',
            "integrity",
        )
        poetry.neg(
            f'    {{file = "{name}-{version}.tar.gz", hash = "sha256:{g.hex(64)}"}},', "integrity"
        )
        poetry.add("]", "")
    poetry.add("[metadata]", 'lock-version = "2.0"', 'python-versions = "^3.11"')
    poetry.neg(f'content-hash = "{g.hex(64)}"', "hash")
    docs.append(poetry)

    precommit = Doc(".pre-commit-config.yaml", "yaml")
    precommit.add("repos:")
    for repo in (
        "https://github.com/astral-sh/ruff-pre-commit",
        "https://github.com/pre-commit/pre-commit-hooks",
    ):
        precommit.add(f"  - repo: {repo}")
        precommit.neg(f"    rev: {g.hex(40)}  # frozen: v0.6.{g.num(0, 9)}", "git_sha")
        precommit.add("    hooks:", "      - id: check-yaml")
    docs.append(precommit)
    return docs
