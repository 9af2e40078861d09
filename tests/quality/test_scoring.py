"""Unit tests of the scoring function, the report redaction and the scanner-report parsers."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from .labels import Label
from .scoring import UNLABELLED, Finding, false_negative_report, redact, score, table
from .tools import parse_gitleaks, parse_keyguard, parse_kingfisher

LABELS = [
    Label("a.env", 2, 2, "github.pat", True, "", "ghp_"),
    Label("a.env", 3, 3, "placeholder", False),
    Label("keys/id_rsa", 1, 27, "privatekey.rsa", True, "multiline", "MIIE"),
    Label("b.yaml", 5, 5, "generic.password", True, "", "Kx9#"),
    Label("b.yaml", 6, 6, "uuid", False),
]


def test_perfect_scanner() -> None:
    s = score(
        LABELS,
        [Finding("a.env", 2, "r1"), Finding("keys/id_rsa", 1, "pk"), Finding("b.yaml", 5, "pw")],
    )
    assert (s.precision, s.recall) == (1.0, 1.0)
    assert s.false_negatives == [] and s.false_positives == []


def test_line_inside_a_multiline_label_hits_it() -> None:
    s = score(LABELS, [Finding("keys/id_rsa", 14, "pk")])
    assert s.hit == 1 and s.precision == 1.0
    assert {lab.kind for lab in s.false_negatives} == {"github.pat", "generic.password"}


def test_precision_counts_distinct_locations() -> None:
    findings = [
        Finding("a.env", 2, "r1"),
        Finding("a.env", 2, "r2"),
        Finding("./a.env", 2, "r3"),
        Finding("a.env", 3, "generic"),
        Finding("b.yaml", 6, "generic"),
        Finding("c.txt", 1, "x"),
    ]
    s = score(LABELS, findings)
    assert s.locations == 4 and s.true_locations == 1
    assert s.precision == pytest.approx(0.25)
    assert s.recall == pytest.approx(1 / 3)
    kinds = sorted(fp.negative_kind for fp in s.false_positives)
    assert kinds == sorted(["placeholder", "uuid", UNLABELLED])
    assert s.rules_by_label[LABELS[0]] == ("r1", "r2", "r3")


def test_no_findings() -> None:
    s = score(LABELS, [])
    assert s.precision == 1.0 and s.recall == 0.0 and s.f1 == 0.0
    assert len(s.false_negatives) == 3


def test_wrong_file_or_line_misses() -> None:
    s = score(LABELS, [Finding("other/a.env", 2), Finding("a.env", 1), Finding("keys/id_rsa", 28)])
    assert s.hit == 0 and s.true_locations == 0 and len(s.false_positives) == 3


def test_reports_are_redacted() -> None:
    s = score(LABELS, [])
    text = "\n".join(false_negative_report(s))
    assert "ghp_…" in text and "keys/id_rsa:1-27 [multiline]" in text
    long_value = "Zq8vN2pLx7RtY4mWc9HbK3sDf6GjA1eU"
    out = redact(f'API_TOKEN = "{long_value}" # STRIPE_SECRET_KEY={long_value}')
    assert long_value[:5] not in out
    assert "API_TOKEN" in out and "STRIPE_SECRET_KEY=Zq8v…" in out
    assert len(redact("x" * 50000)) < 200
    assert "| tool |" in table([s])


def test_parsers(tmp_path: Path) -> None:
    root = tmp_path / "corpus"
    kg = {
        "schema": "keyguard.report/3",
        "findings": [
            {"rule_id": "github.pat", "path": "a.env", "line": 2, "end_line": 2, "column": 14}
        ],
    }
    assert parse_keyguard(kg, root) == [Finding("a.env", 2, "github.pat")]
    gl = [{"RuleID": "github-pat", "File": str(root / "a.env"), "StartLine": 2, "EndLine": 2}]
    assert parse_gitleaks(gl, root) == [Finding("a.env", 2, "github-pat")]
    assert parse_gitleaks(None, root) == []
    kf = {
        "findings": [
            {
                "rule": {"id": "kingfisher.github.1"},
                "finding": {"path": str(root / "b/c.yaml"), "line": 7},
            }
        ]
    }
    assert parse_kingfisher(kf, root) == [Finding("b/c.yaml", 7, "kingfisher.github.1")]


_alnum = st.text(
    alphabet="abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ0123456789+/_-",
    min_size=5,
    max_size=60,
)


@given(
    st.lists(_alnum, min_size=1, max_size=5), st.sampled_from(["{} ", "KEY={}", '"{}",', "x: '{}'"])
)
def test_redact_never_shows_more_than_four_characters(tokens: list[str], template: str) -> None:
    secrets = [t + "7" for t in tokens]  # generated secrets always mix in digits
    out = redact(" ".join(template.format(t) for t in secrets), limit=10_000)
    for secret in secrets:
        assert secret[:5] not in out


@given(
    st.lists(st.tuples(st.integers(1, 40), st.integers(0, 3), st.booleans()), max_size=30),
    st.data(),
)
def test_scanner_reporting_every_positive_line_has_full_recall(
    spans: list[tuple[int, int, bool]], data: st.DataObject
) -> None:
    labels: list[Label] = []
    line = 1
    for gap, length, positive in spans:
        labels.append(Label("f.txt", line + gap, line + gap + length, "k", positive))
        line += gap + length + 1
    findings = [
        Finding("f.txt", data.draw(st.integers(lab.line, lab.end_line)))
        for lab in labels
        if lab.positive
    ]
    s = score(labels, findings)
    assert s.recall == 1.0 and s.precision == 1.0
    assert 0.0 <= score(labels, [Finding("f.txt", n) for n in range(1, line + 1)]).precision <= 1.0
