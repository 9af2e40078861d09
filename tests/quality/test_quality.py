"""Detection quality gate: keyguard, run through its real CLI, on freshly generated corpora.

Targets (the held-out judge corpus this stands in for): precision >= 0.95, recall >= 0.90.
On failure the misses are printed, redacted (at most 4 characters of any value).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from .corpus import Corpus, build
from .scoring import Score, false_negative_report, false_positive_report, score
from .tools import run_keyguard

SEEDS = (1, 2)
MIN_PRECISION = 0.95
MIN_RECALL = 0.90

needs_keyguard = pytest.mark.skipif(
    importlib.util.find_spec("keyguard") is None, reason="keyguard not installed"
)


def _line_text(corpus: Corpus) -> dict[tuple[str, int], str]:
    return {(d.path, i): text for d in corpus.docs for i, text in enumerate(d.lines, start=1)}


def _explain(corpus: Corpus, s: Score) -> str:
    return "\n".join(
        [
            f"seed corpus {corpus.root}: precision {s.precision:.3f}, recall {s.recall:.3f}",
            "false negatives by kind:",
            *false_negative_report(s),
            "false positives by negative kind:",
            *false_positive_report(s, _line_text(corpus)),
        ]
    )


@pytest.fixture(scope="module", params=SEEDS, ids=[f"seed{s}" for s in SEEDS])
def keyguard_result(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Corpus, Score]:
    if importlib.util.find_spec("keyguard") is None:
        pytest.skip("keyguard not installed")
    base = tmp_path_factory.mktemp(f"quality-{request.param}")
    corpus = build(base / "corpus", request.param)
    work = base / "work"
    work.mkdir()
    return corpus, score(corpus.labels, run_keyguard(corpus.root, work), "keyguard")


@needs_keyguard
def test_keyguard_precision(keyguard_result: tuple[Corpus, Score]) -> None:
    corpus, s = keyguard_result
    assert s.precision >= MIN_PRECISION, _explain(corpus, s)


@needs_keyguard
def test_keyguard_recall(keyguard_result: tuple[Corpus, Score]) -> None:
    corpus, s = keyguard_result
    assert s.recall >= MIN_RECALL, _explain(corpus, s)


# No test here pins another scanner's score (a corpus "hard enough" for gitleaks was one): a
# test of ours never depends on a competitor doing badly. Their figures on the same corpus are
# published by benchmarks/quality.py, with the date, corpus and seed.


@needs_keyguard
def test_generator_source_scans_clean(tmp_path: Path) -> None:
    """The corpus generator itself must hold nothing a scanner would report."""
    here = Path(__file__).parent
    for target in (here, here.parent.parent / "benchmarks" / "quality.py"):
        work = tmp_path / target.name
        work.mkdir()
        findings = run_keyguard(target if target.is_dir() else target.parent, work)
        if not target.is_dir():
            findings = [f for f in findings if f.path == target.name]
        assert findings == [], [f"{f.path}:{f.line} {f.rule}" for f in findings]
