"""Self-checks of the generated corpus: size, variety, label accuracy, token checksums, hygiene."""

from __future__ import annotations

import itertools
import json
import re
import zlib
from collections import Counter
from pathlib import Path

import pytest

from .corpus import Corpus, build
from .gen import base62, crc32_base62
from .kinds import KINDS
from .labels import Label

HERE = Path(__file__).parent


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    return build(tmp_path_factory.mktemp("corpus") / "c", 7)


def _file_lines(root: Path, path: str) -> list[str]:
    text = (root / path).read_bytes().decode("utf-8-sig")
    return text.replace("\r\n", "\n").split("\n")


def test_size_and_variety(corpus: Corpus) -> None:
    pos, neg = corpus.positives, corpus.negatives
    assert 280 <= len(pos) <= 400
    assert len({lab.kind for lab in pos}) >= 100
    assert len(neg) >= 350
    assert len({lab.kind for lab in neg}) >= 12
    assert len({doc.fmt for doc in corpus.docs}) >= 25
    variants = Counter(lab.variant for lab in pos)
    for variant in ("base64", "urlencoded", "multiline", "minified", "crlf", "notebook"):
        assert variants[variant] >= 1, variant


def test_every_catalogue_kind_is_used(corpus: Corpus) -> None:
    used = {lab.kind for lab in corpus.positives}
    assert {k.name for k in KINDS} <= used


def test_every_file_is_written(corpus: Corpus) -> None:
    on_disk = {p.relative_to(corpus.root).as_posix() for p in corpus.root.rglob("*") if p.is_file()}
    assert on_disk == {doc.path for doc in corpus.docs}
    for doc in corpus.docs:
        assert (corpus.root / doc.path).read_bytes() == doc.render().encode()


def test_labels_point_at_their_secret(corpus: Corpus) -> None:
    for secret in corpus.secrets:
        lab = secret.label
        lines = _file_lines(corpus.root, lab.path)
        assert 1 <= lab.line <= lab.end_line <= len(lines)
        window = "\n".join(lines[lab.line - 1 : lab.end_line])
        found = secret.value in window  # not inside the assert: pytest would print the value
        assert found, f"{lab.path}:{lab.line} {lab.kind}"
        assert lab.preview == secret.value[:4]
        assert len(lab.preview) <= 4


def test_labels_do_not_overlap_and_negatives_exist(corpus: Corpus) -> None:
    by_path: dict[str, list[Label]] = {}
    for lab in corpus.labels:
        by_path.setdefault(lab.path, []).append(lab)
    for path, labels in by_path.items():
        labels.sort(key=lambda lab: lab.line)
        for a, b in itertools.pairwise(labels):
            assert a.end_line < b.line, f"{path}: {a.kind} overlaps {b.kind}"
        n = len(_file_lines(corpus.root, path))
        assert all(lab.end_line <= n for lab in labels)


def test_one_secret_per_positive_line(corpus: Corpus) -> None:
    per_line = Counter(
        (s.label.path, s.label.line) for s in corpus.secrets if s.label.line == s.label.end_line
    )
    assert max(per_line.values()) == 1


def test_github_and_npm_tokens_carry_valid_checksums(corpus: Corpus) -> None:
    classic = re.compile(r"^(gh[pousr]|npm)_([A-Za-z0-9]{30})([A-Za-z0-9]{6})$")
    checked = 0
    for secret in corpus.secrets:
        if secret.label.kind.startswith(("github.", "npm.token")) and secret.label.variant in (
            "",
            "crlf",
            "minified",
        ):
            m = classic.match(secret.value)
            if m:
                assert crc32_base62(m.group(2)) == m.group(3)
                checked += 1
            elif secret.value.startswith("github_pat_"):
                body = secret.value[len("github_pat_") : -6]
                assert re.fullmatch(r"[A-Za-z0-9]{22}_[A-Za-z0-9]{53}", body)
                assert crc32_base62(body) == secret.value[-6:]
                checked += 1
    assert checked >= 8


def test_base62_checksum_helper() -> None:
    assert base62(0, 6) == "000000"
    assert base62(61, 2) == "0z"
    assert base62(62, 2) == "10"
    assert crc32_base62("a") == base62(zlib.crc32(b"a"), 6)


def test_hard_formats(corpus: Corpus) -> None:
    crlf = [doc for doc in corpus.docs if doc.crlf]
    assert crlf and all(b"\r\n" in (corpus.root / d.path).read_bytes() for d in crlf)
    bundle = next(doc for doc in corpus.docs if doc.fmt == "minified-js")
    long_lines = [line for line in _file_lines(corpus.root, bundle.path) if len(line) >= 20_000]
    assert len(long_lines) >= 8
    for doc in corpus.docs:
        if doc.path.endswith((".json", ".ipynb")):
            json.loads((corpus.root / doc.path).read_bytes().decode("utf-8-sig"))


def test_deterministic_per_seed(tmp_path: Path) -> None:
    a = build(tmp_path / "a", 3)
    b = build(tmp_path / "b", 3)
    c = build(tmp_path / "c", 4)
    assert a.labels == b.labels
    same = [s.value for s in a.secrets] == [s.value for s in b.secrets]
    assert same, "same seed, different values"
    repeated = len({s.value for s in a.secrets} & {s.value for s in c.secrets})
    assert repeated == 0, "values repeat across seeds"


# Realistic-looking literals must never sit in the generator source (the repository must scan clean).
_SOURCE_PATTERNS = (
    r"gh[pousr]_[A-Za-z0-9]{36}",
    r"github_pat_[A-Za-z0-9_]{40,}",
    r"AKIA[A-Z2-7]{16}",
    r"ASIA[A-Z2-7]{16}",
    r"AIza[\w-]{35}",
    r"xox[bpas]-\d{6,}",
    r"sk_live_[A-Za-z0-9]{20,}",
    r"glpat-[\w-]{20}",
    r"npm_[A-Za-z0-9]{36}",
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----",
    r"SG\.[\w-]{22}\.[\w-]{43}",
    r"eyJ[\w-]{10,}\.eyJ[\w-]{10,}\.",
    r"hooks\.slack\.com/services/T[A-Z0-9]{8,}/B[A-Z0-9]{8,}/[A-Za-z0-9]{24}",
)


def test_generator_source_holds_no_realistic_token() -> None:
    for path in [*sorted(HERE.glob("*.py")), HERE.parent.parent / "benchmarks" / "quality.py"]:
        text = path.read_text(encoding="utf-8")
        for pattern in _SOURCE_PATTERNS:
            assert not re.search(pattern, text), f"{path.name}: {pattern}"
