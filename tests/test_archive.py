"""Archives scanned in memory through the real command line: zip, jar, tar, tar.gz, nested
archives, `docker save` images, bombs, hostile member names, and history attribution.

Every archive is built at test time around freshly generated tokens (no credential literal is
stored here); nothing is ever extracted, which the `../` test checks on the file system.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import random
import subprocess
import sys
import tarfile
import time
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from keyguard.cli import main
from keyguard.driver import SkipPolicy, Stats, scan_one
from keyguard.engine import CompiledRuleset
from keyguard.examples import generate_secret
from keyguard.formats import archive
from keyguard.hygiene import ASSESSMENTS
from keyguard.model import Blob
from keyguard.signatures import load_builtin
from tests.conftest import GitRepo

RULES = {r.id: r for r in load_builtin()}
# Key reuse and rotation are findings about findings, tested elsewhere: off here, so every
# finding is one place a planted token sits.
CONFIG = {"disable": sorted(ASSESSMENTS)}


def token(seed: object) -> str:
    return generate_secret(RULES["github.pat"], random.Random(seed))


def env_file(secret: str) -> bytes:
    return f"# settings\nGITHUB_TOKEN={secret}\n".encode()


def zip_bytes(members: dict[str, bytes], *, method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as out:
        for name, data in members.items():
            out.writestr(name, data)
    return buffer.getvalue()


def tar_bytes(members: dict[str, bytes], *, mode: str = "w") -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode=mode) as out:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            out.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "keyguard.toml"
    path.write_text(f"disable = {json.dumps(CONFIG['disable'])}\n", encoding="utf-8")
    return path


def scan_json(
    capsys: pytest.CaptureFixture[str], config: Path, *args: str, command: str = "scan"
) -> dict[str, Any]:
    capsys.readouterr()
    code = main([command, "-f", "json", "-c", str(config), "--jobs", "1", *args])
    out, err = capsys.readouterr()
    document: dict[str, Any] = json.loads(out)
    assert code == (1 if document["findings"] else 0), err
    assert document["scan"]["errors"] == []
    return document


def places(document: dict[str, Any]) -> set[tuple[str, str | None, int, int]]:
    return {(f["path"], f["member"], f["line"], f["column"]) for f in document["findings"]}


def skips(document: dict[str, Any]) -> set[tuple[str, str]]:
    return {(s["name"], s["reason"]) for s in document["scan"]["skipped_items"]}


# --- formats ---------------------------------------------------------------------------------


def test_zip_member_is_reported_as_archive_bang_member(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, config: Path
) -> None:
    secret = token("zip")
    root = tmp_path / "tree"
    root.mkdir()
    (root / "bundle.zip").write_bytes(
        zip_bytes({"config/.env": env_file(secret), "bin/tool": bytes(range(256)) * 64})
    )
    document = scan_json(capsys, config, str(root))
    assert places(document) == {("bundle.zip", "config/.env", 2, 14)}
    assert document["findings"][0]["where"] is None
    assert skips(document) == {("bundle.zip!bin/tool", "binary")}
    assert secret not in json.dumps(document)
    capsys.readouterr()
    main(["scan", "-c", str(config), str(root)])
    text = capsys.readouterr().out
    assert "bundle.zip!config/.env:2:14" in text
    main(["scan", "-f", "sarif", "-c", str(config), str(root)])
    (result,) = json.loads(capsys.readouterr().out)["runs"][0]["results"]
    # The artifact is the file in the tree; the member is said in the message and properties.
    assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "bundle.zip"
    assert result["properties"]["member"] == "config/.env"
    assert "in archive member config/.env" in result["message"]["text"]


def test_tar_gz_and_a_jar(capsys: pytest.CaptureFixture[str], tmp_path: Path, config: Path) -> None:
    in_tgz, in_jar = token("tgz"), token("jar")
    root = tmp_path / "tree"
    root.mkdir()
    (root / "app.tgz").write_bytes(
        gzip.compress(tar_bytes({"app/settings.py": f'TOKEN = "{in_tgz}"\n'.encode()}))
    )
    jar = {
        "META-INF/MANIFEST.MF": b"Manifest-Version: 1.0\n",
        "com/example/App.class": b"\xca\xfe\xba\xbe" + bytes(range(256)) * 8,
        "application.properties": f"server.port=8080\ngithub.token={in_jar}\n".encode(),
    }
    (root / "service.jar").write_bytes(zip_bytes(jar))
    document = scan_json(capsys, config, str(root))
    assert places(document) == {
        ("app.tgz", "app/settings.py", 1, 10),
        ("service.jar", "application.properties", 2, 14),
    }


def test_zip_inside_a_tar_is_opened_too(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, config: Path
) -> None:
    secret = token("nested")
    inner = zip_bytes({"deploy/.env": env_file(secret)})
    path = tmp_path / "release.tar"
    path.write_bytes(tar_bytes({"README": b"release notes\n", "lib/inner.zip": inner}))
    document = scan_json(capsys, config, str(path))
    assert places(document) == {(str(path), "lib/inner.zip!deploy/.env", 2, 14)}


def test_docker_save_image_layers_are_each_scanned(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, config: Path
) -> None:
    """`docker save` writes a tar of layer tars (and, OCI style, gzipped layers by digest)."""
    in_old, in_oci = token("layer"), token("oci")
    layer = tar_bytes({"etc/app/.env": env_file(in_old), "usr/bin/tool": b"\x7fELF" + b"\0" * 64})
    oci_layer = gzip.compress(tar_bytes({"srv/config.yml": f"token: {in_oci}\n".encode()}))
    manifest = json.dumps([{"Config": "cfg.json", "Layers": ["abc123/layer.tar"]}]).encode()
    image = tar_bytes(
        {
            "manifest.json": manifest,
            "abc123/layer.tar": layer,
            "blobs/sha256/def456": oci_layer,
        }
    )
    path = tmp_path / "image.tar"
    path.write_bytes(image)
    document = scan_json(capsys, config, str(path))
    assert places(document) == {
        (str(path), "abc123/layer.tar!etc/app/.env", 2, 14),
        (str(path), "blobs/sha256/def456!srv/config.yml", 1, 8),
    }


def test_a_members_own_path_decides_path_limited_rules(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, config: Path
) -> None:
    """.pgpass rules run on every `.pgpass` (they have no keyword): one inside a zip too, and
    not on the same text under another name."""
    password = generate_secret(RULES["pgpass.password"], random.Random(5))
    entry = f"db.internal:5432:orders:app:{password}\n".encode()
    path = tmp_path / "home.zip"
    path.write_bytes(zip_bytes({"home/.pgpass": entry, "notes/backup.txt": entry}))
    document = scan_json(capsys, config, str(path))
    found = {(f["rule_id"], f["member"]) for f in document["findings"]}
    assert found == {("pgpass.password", "home/.pgpass")}


def test_a_gzipped_file_is_one_member_named_by_its_header(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, config: Path
) -> None:
    secret = token("gz")
    buffer = io.BytesIO()
    with gzip.GzipFile("settings.env", "wb", fileobj=buffer, mtime=0) as out:
        out.write(env_file(secret))
    path = tmp_path / "settings.env.gz"
    path.write_bytes(buffer.getvalue())
    document = scan_json(capsys, config, str(path))
    assert places(document) == {(str(path), "settings.env", 2, 14)}


def test_bytes_that_only_look_like_an_archive_are_scanned_as_they_are(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, config: Path
) -> None:
    secret = token("fake")
    path = tmp_path / "notes.txt"
    path.write_bytes(b"PK\x03\x04 is how a zip starts\n" + env_file(secret))
    document = scan_json(capsys, config, str(path))
    assert places(document) == {(str(path), None, 3, 14)}


# --- limits ----------------------------------------------------------------------------------


def _zeros_zip(path: Path, size: int) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out, out.open("zeros.bin", "w") as f:
        block = bytes(1 << 20)
        for _ in range(size >> 20):
            f.write(block)


def test_zip_bomb_is_named_not_inflated(tmp_path: Path, config: Path) -> None:
    """200 MB of zeros deflated (~200 KB on disk): told from the sizes the zip declares, in a
    fraction of the time inflating would take and with the memory of a plain scan."""
    secret = token("beside the bomb")
    bomb = tmp_path / "bomb.zip"
    _zeros_zip(bomb, 200 << 20)
    with zipfile.ZipFile(bomb, "a") as out:
        out.writestr("readme.env", env_file(secret))
    gz = tmp_path / "zeros.gz"
    engine = zlib.compressobj(9, zlib.DEFLATED, 31)
    gz.write_bytes(b"".join(engine.compress(bytes(1 << 20)) for _ in range(64)) + engine.flush())
    started = time.monotonic()
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "keyguard", "scan", "-f", "json", "-c", str(config)),
            *("-j", "1", str(bomb), str(gz)),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    out, err = process.communicate(timeout=120)
    elapsed = time.monotonic() - started
    usage = _child_peak_mb()
    assert process.returncode == 1, err
    document = json.loads(out)
    assert skips(document) == {
        (f"{bomb}!zeros.bin", "archive bomb"),
        (str(gz), "archive bomb"),
    }
    assert places(document) == {(str(bomb), "readme.env", 2, 14)}
    assert elapsed < 30
    assert usage is None or usage < 160  # a plain scan peaks near 60 MB; inflating needs 200+


def _child_peak_mb() -> float | None:
    if sys.platform == "win32":
        return None
    import resource

    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return peak / (1 << 20) if sys.platform == "darwin" else peak / 1024


def test_nesting_past_the_limit_is_named(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, config: Path
) -> None:
    deep, found = token("deep"), token("third level")
    level4 = zip_bytes({"secret.env": env_file(deep)})
    level3 = zip_bytes({"l4.zip": level4, "ok.env": env_file(found)})
    level2 = zip_bytes({"l3.zip": level3})
    path = tmp_path / "l1.zip"
    path.write_bytes(zip_bytes({"l2.zip": level2}))
    document = scan_json(capsys, config, str(path))
    assert places(document) == {(str(path), "l2.zip!l3.zip!ok.env", 2, 14)}
    assert skips(document) == {(f"{path}!l2.zip!l3.zip!l4.zip", "archive too deep")}


def test_member_count_total_and_ratio_limits() -> None:
    many = zip_bytes({f"f{i}.txt": b"x\n" for i in range(20)})
    items = list(archive.members(many, archive.Limits(max_member=1 << 20, max_members=5)))
    assert sum(isinstance(i, archive.Member) for i in items) == 5
    assert items[-1] == archive.Passed("", "too many members", items[-1].detail)

    big = zip_bytes({f"f{i}.txt": os.urandom(1000) for i in range(10)})
    limits = archive.Limits(max_member=1 << 20, max_total=3500)
    items = list(archive.members(big, limits))
    assert sum(isinstance(i, archive.Member) for i in items) == 3
    assert isinstance(items[-1], archive.Passed) and items[-1].reason == "archive limit"

    squeezed = zip_bytes({"a.txt": b"a" * 5000})
    limits = archive.Limits(max_member=1 << 20, ratio_floor=1000, max_ratio=10)
    assert [
        i.reason for i in archive.members(squeezed, limits) if isinstance(i, archive.Passed)
    ] == ["archive bomb"]
    limits = archive.Limits(max_member=100)
    assert [
        i.reason for i in archive.members(squeezed, limits) if isinstance(i, archive.Passed)
    ] == ["too large"]


# --- hostile names and members ---------------------------------------------------------------


@pytest.mark.skipif(sys.platform == "win32", reason="tar device members are a POSIX notion")
def test_tar_with_dotdot_and_absolute_names_is_read_in_memory_only(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    config: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    up, absolute, escaped = token("up"), token("abs"), token("esc")
    members = {
        "../../escape.env": env_file(up),
        "/etc/keyguard-test.env": env_file(absolute),
        "evil\x1b[2Jname.env": env_file(escaped),
    }
    buffer = io.BytesIO(tar_bytes(members))
    with tarfile.open(fileobj=buffer, mode="a") as out:
        link = tarfile.TarInfo("link.env")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/shadow"
        out.addfile(link)
        device = tarfile.TarInfo("dev/null")
        device.type = tarfile.CHRTYPE
        out.addfile(device)
    work = tmp_path / "a" / "b"
    work.mkdir(parents=True)
    path = work / "hostile.tar"
    path.write_bytes(buffer.getvalue())
    monkeypatch.chdir(work)  # a `../../escape.env` written out would land in tmp_path
    before = sorted(p for p in tmp_path.rglob("*"))
    document = scan_json(capsys, config, "hostile.tar")
    assert sorted(p for p in tmp_path.rglob("*")) == before  # nothing written, anywhere
    assert {f["member"] for f in document["findings"]} == {
        "../../escape.env",
        "/etc/keyguard-test.env",
        "evil\\x1b[2Jname.env",
    }
    assert skips(document) == {
        ("hostile.tar!link.env", "symlink"),
        ("hostile.tar!dev/null", "special file"),
    }
    capsys.readouterr()
    main(["scan", "-c", str(config), "hostile.tar"])
    text = capsys.readouterr().out
    assert "\x1b" not in text
    assert "hostile.tar!evil\\x1b[2Jname.env:2:14" in text


_MAGIC = st.sampled_from(
    [b"", b"PK\x03\x04", b"\x1f\x8b\x08\x00", b'{"cells": [', b"\0" * 257 + b"ustar"]
)
_SAMPLES = [
    zip_bytes({"a.env": b"GITHUB_TOKEN=x\n", "b/c.txt": b"hello\n"}),
    gzip.compress(tar_bytes({"a.env": b"GITHUB_TOKEN=x\n"})),
    tar_bytes({"x/y.zip": zip_bytes({"z.txt": b"zz\n"})}),
    json.dumps(
        {
            "cells": [{"cell_type": "code", "source": ["a = '\\u00e9'\n", "b"], "outputs": []}],
            "nbformat": 4,
        }
    ).encode(),
]


@given(
    st.one_of(
        st.tuples(_MAGIC, st.binary(max_size=2048)).map(lambda t: t[0] + t[1]),
        st.tuples(
            st.sampled_from(_SAMPLES), st.integers(0, 4000), st.binary(min_size=1, max_size=8)
        ).map(lambda t: t[0][: t[1] % len(t[0])] + t[2] + t[0][t[1] % len(t[0]) + len(t[2]) :]),
    ),
    st.sampled_from(["x.zip", "x.tar.gz", "x.ipynb", None]),
)
def test_any_bytes_under_any_archive_name_never_raise(
    compiled: CompiledRuleset, data: bytes, name: str | None
) -> None:
    stats = Stats()
    scan_one(Blob("id", name), data, compiled, SkipPolicy(1 << 20), stats)
    assert stats.files + len(stats.skipped) >= 1
    assert stats.errors == []


# --- history ---------------------------------------------------------------------------------


def test_history_attributes_an_archive_member_to_its_commit(
    capsys: pytest.CaptureFixture[str], git_repo: Callable[..., GitRepo], config: Path
) -> None:
    secret = token("history")
    repo = git_repo()
    repo.write("README.md", "# app\n")
    repo.commit("first", date="2024-03-01T12:00:00+00:00")
    repo.write(
        "dist/release.zip", zip_bytes({"config/.env": env_file(secret), "app.py": b"pass\n"})
    )
    added = repo.commit("ship the release", date="2024-03-02T12:00:00+00:00")
    for _ in range(2):  # the second audit reads the findings back from the history cache
        document = scan_json(capsys, config, str(repo.path), command="history")
        assert [(f["path"], f["member"], f["line"], f["commit"]) for f in document["findings"]] == [
            ("dist/release.zip", "config/.env", 2, added)
        ]
    capsys.readouterr()
    main(["history", "-c", str(config), str(repo.path)])
    assert "dist/release.zip!config/.env:2:14" in capsys.readouterr().out
