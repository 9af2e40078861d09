"""Ctrl-C during a history audit: what finished is reported, marked incomplete, and the cache
stays valid, so the next audit completes with the full, correct result."""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest

from keyguard import driver
from keyguard.engine import CompiledRuleset
from keyguard.examples import generate_secret
from keyguard.history import AuditOptions, audit
from keyguard.history.cache import cache_path, load
from keyguard.scope import AllRefs
from keyguard.signatures import load_builtin
from tests.conftest import GitRepo

GITHUB_PAT = next(r for r in load_builtin() if r.id == "github.pat")


def _interrupt_after(chunks: int) -> Callable[[int, int], Callable[[int, int], None]]:
    """A progress callback that presses Ctrl-C once `chunks` chunks have finished."""

    def start(_blobs: int, _bytes: int) -> Callable[[int, int], None]:
        seen = 0

        def step(_done: int, _done_bytes: int) -> None:
            nonlocal seen
            seen += 1
            if seen >= chunks:
                raise KeyboardInterrupt

        return step

    return start


def _key(found: list[object]) -> list[tuple[str, str, str]]:
    # By hash: findings restored from the cache keep no value.
    return sorted((f.secret_hash, f.path, f.commit.sha) for f in found)  # type: ignore[attr-defined]


def test_interrupted_audit_reports_partial_and_keeps_the_cache_valid(
    git_repo: Callable[..., GitRepo], compiled: CompiledRuleset
) -> None:
    repo = git_repo()
    rng = random.Random("interrupt")
    for n in range(1, 13):
        repo.write(f"svc{n}/settings.env", f"GITHUB_TOKEN={generate_secret(GITHUB_PAT, rng)}\n")
        repo.write(f"svc{n}/notes.txt", "filler\n" * (200 * n))
        repo.commit(f"service {n}", date=f"2024-01-{n:02d}T10:00:00+00:00")
    full = audit(repo.path, compiled, AllRefs(), AuditOptions(jobs=1, use_cache=False))
    assert len(full.findings) == 12 and not full.stats.errors

    partial = audit(
        repo.path, compiled, AllRefs(), AuditOptions(jobs=1, progress=_interrupt_after(1))
    )
    assert any(e.startswith("interrupted:") for e in partial.stats.errors)
    assert len(partial.findings) < len(full.findings)
    assert set(_key(partial.findings)) <= set(_key(full.findings))

    where = cache_path(repo.path / ".git", str(repo.path.resolve()))
    state = load(where, compiled.ruleset.digest, 10 << 20)
    assert state.scanned, "the blobs that finished are cached"
    assert not state.tips, "an interrupted audit never marks history as audited"

    resumed = audit(repo.path, compiled, AllRefs(), AuditOptions(jobs=1))
    assert not resumed.stats.errors
    assert _key(resumed.findings) == _key(full.findings)
    assert resumed.stats.files < full.stats.files, "only the blobs left over were read again"


@pytest.mark.parametrize("jobs", [2])
def test_interrupt_with_worker_processes(
    git_repo: Callable[..., GitRepo],
    compiled: CompiledRuleset,
    jobs: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(driver, "PARALLEL_MIN_BYTES", 0)  # a pool even for this small history
    repo = git_repo()
    rng = random.Random("interrupt-pool")
    for n in range(1, 9):
        repo.write(f"app{n}.env", f"GITHUB_TOKEN={generate_secret(GITHUB_PAT, rng)}\n")
        repo.commit(f"app {n}", date=f"2024-02-{n:02d}T10:00:00+00:00")
    partial = audit(
        repo.path, compiled, AllRefs(), AuditOptions(jobs=jobs, progress=_interrupt_after(1))
    )
    assert any(e.startswith("interrupted:") for e in partial.stats.errors)
    resumed = audit(repo.path, compiled, AllRefs(), AuditOptions(jobs=jobs))
    assert not resumed.stats.errors and len(resumed.findings) == 8
