"""The unseen-variants corpus keeps its labels exact: every credential is still whole on its line.

Checked three ways: each line shape and each unseen format, for arbitrary values (hypothesis);
whole transformed corpora for many seeds, on disk; and the bookkeeping (nothing lost, nothing
duplicated, every label's transforms named).
"""

from __future__ import annotations

import itertools
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from .corpus import _FORBIDDEN, Corpus, build
from .hosts import HOSTS
from .labels import Label
from .syntax import SYNTAXES
from .unseen import HELD_OUT_SEEDS, UnseenCorpus, transform
from .unseen_formats import FORMATS
from .unseen_names import find_name, rename, spell, words
from .unseen_shapes import SHAPES, Parts

# Printable ASCII without whitespace: what the corpus's credentials are made of.
VALUES = st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=8, max_size=60)
NAME = "DB_PASSWORD"


def _file_lines(root: Path, path: str) -> list[str]:
    return (root / path).read_bytes().decode("utf-8-sig").replace("\r\n", "\n").split("\n")


# -- shapes and formats, for any value ------------------------------------------------------------
@settings(max_examples=300, deadline=None)
@given(value=VALUES, syntax=st.sampled_from(sorted(SHAPES)))
def test_every_shape_keeps_the_value_whole_on_one_line(value: str, syntax: str) -> None:
    if any(c in value for c in _FORBIDDEN.get(syntax, "")):
        return
    if syntax in ("env", "export", "md_shell", "dockerfile", "bat") and any(
        c in value for c in "'\""
    ):
        return  # the host writer quotes these itself; such values are not placed there unquoted
    line = SYNTAXES[syntax].assign(NAME, value)
    at = line.find(value)
    parts = Parts(line[:at], value, line[at + len(value) :])
    for tag, shape in SHAPES[syntax]:
        out = shape(parts)
        if out is None:
            continue
        holding = [text for text in out if value in text]
        assert len(holding) == 1, (syntax, tag)
        assert all("\n" not in text for text in out)


@settings(max_examples=200, deadline=None)
@given(value=VALUES, index=st.integers(0, len(FORMATS) - 1))
def test_every_unseen_format_writes_the_value_whole(value: str, index: int) -> None:
    fmt = FORMATS[index]
    if not fmt.fits(value):
        return
    lines = fmt.render(NAME, value)
    assert sum(value in text for text in lines) == 1
    assert value not in fmt.ref(NAME)


def test_formats_are_new_paths() -> None:
    host_paths = {h.path for h in HOSTS}
    paths = [f.path for f in FORMATS]
    assert len(set(paths)) == len(paths)
    assert not host_paths & set(paths)


# -- names ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("token", "style"),
    [
        ("DB_PASSWORD", "upper"),
        ("db_password", "lower"),
        ("dbPassword", "camel"),
        ("DbPassword", "pascal"),
        ("db.password", "dotted"),
        ("db-password", "kebab"),
    ],
)
def test_rename_keeps_the_case_style(token: str, style: str) -> None:
    assert words(token) == ("db", "password")
    new = ("billing", "passphrase")
    assert rename(f"x {token} = y", lambda key: new) == f"x {spell(new, style)} = y"


def test_rename_is_consistent_within_a_line_and_keeps_prefixes() -> None:
    line = 'DB_PASSWORD = os.environ.get("DB_PASSWORD", "")'
    out = rename(line, lambda key: ("svc", "credential"))
    assert out == 'SVC_CREDENTIAL = os.environ.get("SVC_CREDENTIAL", "")'
    assert rename("app.db.password=", lambda key: ("pw",)) == "app.pw="
    assert rename("LOG_LEVEL=info", lambda key: ("pw",)) == "LOG_LEVEL=info"
    assert find_name("config.stripe_secret_key = '") == ("stripe", "secret", "key")


# -- whole corpora --------------------------------------------------------------------------------
BASE_SEEDS = (1000, 1001, 1002, 1003, 1004, 1005)


@pytest.fixture(scope="module")
def bases(tmp_path_factory: pytest.TempPathFactory) -> dict[int, Corpus]:
    root = tmp_path_factory.mktemp("unseen-base")
    return {seed: build(root / str(seed), seed) for seed in BASE_SEEDS}


def _host_labels(corpus: Corpus) -> list[Label]:
    paths = {h.path for h in HOSTS}
    return [lab for lab in corpus.labels if lab.path in paths]


@pytest.mark.parametrize(("seed", "shift"), list(itertools.product(BASE_SEEDS, (0, 500))))
def test_transformed_corpus_labels_are_exact(
    bases: dict[int, Corpus], tmp_path: Path, seed: int, shift: int
) -> None:
    base = bases[seed]
    unseen = transform(base, seed + shift, tmp_path / "u")
    corpus = unseen.corpus
    on_disk = {p.relative_to(corpus.root).as_posix() for p in corpus.root.rglob("*") if p.is_file()}
    assert on_disk == {doc.path for doc in corpus.docs}

    # Every positive still holds its whole value within its labelled lines, on disk.
    for secret in corpus.secrets:
        lab = secret.label
        lines = _file_lines(corpus.root, lab.path)
        assert 1 <= lab.line <= lab.end_line <= len(lines)
        found = secret.value in "\n".join(lines[lab.line - 1 : lab.end_line])
        assert found, f"{lab.path}:{lab.line} {lab.kind} {unseen.transforms[lab]}"
        assert lab.preview == secret.value[:4]
    # Labels do not overlap.
    by_path: dict[str, list[Label]] = {}
    for lab in corpus.labels:
        by_path.setdefault(lab.path, []).append(lab)
    for labels in by_path.values():
        labels.sort(key=lambda lab: lab.line)
        for a, b in itertools.pairwise(labels):
            assert a.end_line < b.line

    # Nothing lost, nothing duplicated: the host files' credentials, value for value.
    before = Counter(
        (s.label.kind, s.value) for s in base.secrets if s.label in set(_host_labels(base))
    )
    after = Counter((s.label.kind, s.value) for s in corpus.secrets)
    assert before == after
    host_negatives = Counter(lab.kind for lab in _host_labels(base) if not lab.positive)
    kept_negatives = Counter(
        lab.kind
        for lab in corpus.labels
        if not lab.positive and not any(t.startswith("rehost:") for t in unseen.transforms[lab])
    )
    assert host_negatives == kept_negatives


@pytest.mark.parametrize("seed", BASE_SEEDS[:3])
def test_every_label_names_its_transforms(
    bases: dict[int, Corpus], tmp_path: Path, seed: int
) -> None:
    unseen: UnseenCorpus = transform(bases[seed], seed, tmp_path / "u")
    assert set(unseen.transforms) == set(unseen.labels)
    positives = unseen.corpus.positives
    unchanged = [lab for lab in positives if unseen.transforms[lab] == ("unchanged",)]
    assert len(unchanged) <= len(positives) // 20
    tags = Counter(t.split(":")[0] for lab in positives for t in unseen.transforms[lab])
    for tag in ("rename", "quote", "assign", "continuation", "comment", "rehost"):
        assert tags[tag] >= 10, tag
    formats = {t for lab in positives for t in unseen.transforms[lab] if t.startswith("rehost:")}
    assert len(formats) >= 12


def test_transform_is_deterministic(bases: dict[int, Corpus], tmp_path: Path) -> None:
    a = transform(bases[1000], 1000, tmp_path / "a")
    b = transform(bases[1000], 1000, tmp_path / "b")
    assert [d.render() for d in a.corpus.docs] == [d.render() for d in b.corpus.docs]
    assert [a.transforms[lab] for lab in a.labels] == [b.transforms[lab] for lab in b.labels]


def test_held_out_seeds_do_not_overlap_the_tuning_seeds() -> None:
    assert 1 not in HELD_OUT_SEEDS and 2 not in HELD_OUT_SEEDS and 7 not in HELD_OUT_SEEDS
    assert min(HELD_OUT_SEEDS) == 1000
