"""The re-audit cache file format: round trip, and every kind of damage is rejected."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from keyguard.history import cache as history_cache
from keyguard.history.cache import MAGIC, CachedEvent, HistoryCache
from keyguard.model import Commit

BLOB = "a" * 40


def sample() -> HistoryCache:
    stored = ["github.pat", "e" * 64, "ghp_…(40)", 2, 3, 2, 43, "high", None, None, None]
    stored += ["inner.tar!config/.env", "cell 2, line 1"]  # archive member, notebook cell
    stored += ["example"]  # the content's context (a module's EXAMPLES string)
    return HistoryCache(
        ruleset="rules-digest",
        max_size=1000,
        scanned={BLOB, "b" * 40},
        blob_findings={BLOB: [stored]},
        path_findings={f"{BLOB}\0.netrc": [stored]},
        tips=["c" * 40],
        events=[
            CachedEvent(
                Commit("d" * 40, "Ann", "2024-03-01T12:00:00+00:00", "s"), "p", [stored], BLOB
            )
        ],
    )


def with_body(body: dict[str, object]) -> bytes:
    text = json.dumps(body).encode()
    header = json.dumps({"magic": MAGIC, "sha256": hashlib.sha256(text).hexdigest()})
    return header.encode() + b"\n" + text


def test_round_trip(tmp_path: Path) -> None:
    where = tmp_path / "git" / "keyguard" / "history-cache.json"
    history_cache.save(where, sample())
    assert history_cache.load(where, "rules-digest", 1000) == sample()
    assert not [p for p in where.parent.iterdir() if p.name.startswith(".tmp-")]


@pytest.mark.parametrize(("ruleset", "max_size"), [("other", 1000), ("rules-digest", 999)])
def test_other_ruleset_or_size_starts_empty(tmp_path: Path, ruleset: str, max_size: int) -> None:
    where = tmp_path / "history-cache.json"
    history_cache.save(where, sample())
    loaded = history_cache.load(where, ruleset, max_size)
    assert loaded == HistoryCache(ruleset=ruleset, max_size=max_size)


def test_missing_file_and_no_path(tmp_path: Path) -> None:
    assert history_cache.load(tmp_path / "nope.json", "r", 1) == HistoryCache("r", 1)
    assert history_cache.load(None, "r", 1) == HistoryCache("r", 1)
    history_cache.save(None, sample())  # a no-op


def damaged() -> list[bytes]:
    good = sample().to_json()
    header, text = good.split(b"\n", 1)
    body = json.loads(text)
    missing_key = dict(body)
    del missing_key["tips"]
    bad_event = dict(body, events=[["only", "three", "fields"]])
    return [
        b"",
        b"\x00\xff garbage",
        good[: len(good) // 2],  # truncated
        header + b"\n" + text.replace(b"eeee", b"ffff"),  # checksum mismatch
        header.replace(MAGIC.encode(), b"keyguard.history-cache/0") + b"\n" + text,
        b"[1, 2]\n" + text,
        with_body(missing_key),
        with_body(bad_event),
    ]


@pytest.mark.parametrize("raw", damaged())
def test_damaged_files_are_rejected(raw: bytes) -> None:
    assert HistoryCache.from_json(raw, "rules-digest", 1000) is None


def test_malformed_finding_entries_are_rejected() -> None:
    body = json.loads(sample().to_json().split(b"\n", 1)[1])
    body["blob_findings"] = {BLOB: [["github.pat"]]}
    assert HistoryCache.from_json(with_body(body), "rules-digest", 1000) is None


def test_unwritable_location_is_not_fatal(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    history_cache.save(blocker / "keyguard" / "history-cache.json", sample())
