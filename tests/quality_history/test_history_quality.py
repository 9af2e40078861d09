"""History quality bar: keyguard finds the corpus's leak events, each at the commit that made it.

Bar (from the held-out history corpus): precision >= 0.95, recall >= 0.90, and every finding that
lands on a labelled secret carries the commit that introduced it.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from .corpus import Event, HistoryCorpus, Negative, build_corpus
from .scoring import Reported, Score, score
from .tools import run_keyguard

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")

SEEDS = (1, 2)


@pytest.fixture(scope="module", params=SEEDS, ids=[f"seed{s}" for s in SEEDS])
def audited(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[HistoryCorpus, Score]:
    seed: int = request.param
    base = tmp_path_factory.mktemp(f"history-{seed}")
    corpus = build_corpus(base / "repo", seed)
    work = base / "work"
    work.mkdir()
    findings = run_keyguard(corpus.root, work, 120)
    return corpus, score("keyguard", corpus.events, findings, corpus.negatives, corpus.secret_lines)


def _explain(s: Score) -> str:
    misses = [f"{m.event.kind} {m.event.path}:{m.event.line}: {m.why}" for m in s.misses]
    fps = [
        f"{f.finding.rule} {f.finding.path}:{f.finding.line}: {f.why}" for f in s.false_positives
    ]
    return "\nmissed:\n  " + "\n  ".join(misses) + "\nfalse positives:\n  " + "\n  ".join(fps)


# -- the bar ----------------------------------------------------------------------------------------
def test_precision(audited: tuple[HistoryCorpus, Score]) -> None:
    _, s = audited
    assert s.precision >= 0.95, _explain(s)


def test_recall(audited: tuple[HistoryCorpus, Score]) -> None:
    _, s = audited
    assert s.recall >= 0.90, _explain(s)


def test_every_finding_on_a_secret_has_the_right_commit(
    audited: tuple[HistoryCorpus, Score],
) -> None:
    _, s = audited
    assert s.right_commit == 1.0, _explain(s)
    assert not [m for m in s.misses if m.why.startswith("wrong commit")], _explain(s)


def test_in_head_is_right(audited: tuple[HistoryCorpus, Score]) -> None:
    _, s = audited
    assert s.in_head_checked == s.true_locations
    assert s.in_head_right == s.in_head_checked


# -- the corpus -------------------------------------------------------------------------------------
def test_corpus_shape(audited: tuple[HistoryCorpus, Score]) -> None:
    corpus, _ = audited
    events = corpus.events
    assert 25 <= corpus.commits <= 35
    assert len({e.kind for e in events}) >= 15
    gone = sum(not e.in_head for e in events)
    assert 15 <= gone < len(events)
    assert all(len(e.commit) == 40 for e in events)
    assert len(set(events)) == len(events)
    assert {"refs/heads/experiment/ml", "refs/tags/v1.1.0-rc1"} <= set(corpus.refs)
    # One event's commit is reachable from a tag only, one from the unmerged branch only.
    branches = {e.commit: _branches_containing(corpus.root, e.commit) for e in events}
    assert sum(b == [] for b in branches.values()) == 1
    assert ["refs/heads/experiment/ml"] in branches.values()
    # Re-adds: a (path, kind) with two events at different commits.
    seen: dict[tuple[str, str, int], set[str]] = {}
    for e in events:
        seen.setdefault((e.path, e.kind, e.line), set()).add(e.commit)
    assert any(len(commits) > 1 for commits in seen.values())


def _branches_containing(root: Path, commit: str) -> list[str]:
    out = subprocess.run(
        ["git", "branch", "--contains", commit, "--format=%(refname)"],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return out.split()


def test_corpus_is_deterministic(tmp_path: Path, audited: tuple[HistoryCorpus, Score]) -> None:
    corpus, _ = audited
    again = build_corpus(tmp_path / "again", corpus.seed)
    assert again.events == corpus.events  # same seed: same content, dates, authors, hence shas


# -- the scorer -------------------------------------------------------------------------------------
A, B, C = "a" * 40, "b" * 40, "c" * 40
EVENTS = [
    Event(A, ".env", 2, "stripe.secret_key", False),
    Event(A, ".env", 3, "openai.api_key", True),
    Event(B, "certs/server.key", 1, "private_key.rsa", False, end_line=27),
    Event(C, ".env", 2, "stripe.secret_key", True),  # re-added later at the same line
]


def test_score_perfect() -> None:
    found = [Reported(e.commit, e.path, e.line) for e in EVENTS]
    s = score("t", EVENTS, found)
    assert (s.precision, s.recall, s.right_commit) == (1.0, 1.0, 1.0)
    assert not s.misses and not s.false_positives


def test_score_line_inside_a_range_counts() -> None:
    s = score("t", EVENTS, [Reported(B, "certs/server.key", 14)])
    assert s.matched_events == 1 and s.precision == 1.0
    s = score("t", EVENTS, [Reported(B, "certs/server.key", 28)])
    assert s.matched_events == 0 and s.precision == 0.0


def test_score_duplicate_locations_count_once() -> None:
    found = [Reported(A, ".env", 2, "rule-1"), Reported(A, ".env", 2, "rule-2")]
    s = score("t", EVENTS, found)
    assert s.reported == 1 and s.true_locations == 1 and s.precision == 1.0
    assert s.recall == 0.25


def test_score_wrong_commit_is_a_false_positive_and_lowers_right_commit() -> None:
    found = [Reported(A, ".env", 3), Reported(B, ".env", 3)]
    s = score("t", EVENTS, found)
    assert s.precision == 0.5 and s.right_commit == 0.5
    assert s.false_positives[0].why.startswith("wrong commit")


def test_score_one_event_per_commit_for_a_re_add() -> None:
    s = score("t", EVENTS, [Reported(A, ".env", 2)])
    assert s.matched_events == 1
    assert [m.event.commit for m in s.misses if m.event.path == ".env" and m.event.line == 2] == [C]
    assert next(m for m in s.misses if m.event.commit == C).why.startswith("wrong commit")


def test_score_missing_commit_never_matches() -> None:
    s = score("t", EVENTS, [Reported("", ".env", 3)])
    assert s.true_locations == 0 and s.matched_events == 0


def test_score_explains_misses_and_false_positives() -> None:
    negatives = [Negative(A, ".env.example", 4, "placeholder")]
    later = {("d" * 40, ".env", 5): "openai.api_key"}
    found = [
        Reported(A, ".env", 7),  # wrong line
        Reported(A, ".env.example", 4),  # hard negative
        Reported("d" * 40, ".env", 5),  # an old secret re-reported at a later commit
        Reported(A, "other.py", 1),  # nothing known
    ]
    s = score("t", EVENTS, found, negatives, later)
    whys = {f.finding.path + str(f.finding.line): f.why for f in s.false_positives}
    assert whys[".env.example4"] == "hard negative: placeholder"
    assert whys[".env5"].startswith("wrong commit")
    assert whys["other.py1"] == "unlabelled"
    assert s.on_secret == 1 and s.right_commit == 0.0
    reasons = {(m.event.commit, m.event.line): m.why for m in s.misses}
    assert reasons[(A, 2)].startswith("wrong line")
    assert reasons[(B, 1)] == "not detected"


def test_score_in_head_accuracy() -> None:
    found = [Reported(A, ".env", 2, in_head=False), Reported(A, ".env", 3, in_head=False)]
    s = score("t", EVENTS, found)
    assert (s.in_head_checked, s.in_head_right) == (2, 1)
    assert score("t", EVENTS, [Reported(A, ".env", 2)]).in_head_accuracy is None
