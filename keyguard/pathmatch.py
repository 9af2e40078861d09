"""Which path-limited rules apply to a path: asked once per file in a working-tree scan.

Rules for credential files (`.pgpass`, `sftp-config.json`, shell profiles, kubeconfig...) carry
`paths`; with dozens of such patterns, trying each one on each file was a fifth of a scan of
git.git's tree. With hyperscan, every pattern it can compile is matched in one scan of the path;
the rest (lookarounds: `^(?!.*\\.c$)`) and every path that is not ASCII (hyperscan's `\\w` and
case folding are ASCII without its UTF-8 mode, and a path with undecodable bytes is not valid
UTF-8) go through `regex` as before, so the answer is always exactly that of the patterns.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import regex


class PathMatcher:
    """The rules (by index) whose `paths` match a path."""

    def __init__(
        self, patterns: Sequence[tuple[int, regex.Pattern[str]]], use_hyperscan: bool
    ) -> None:
        self._compiled = list(patterns)  # the rules' own compiled `paths`, not compiled again
        self._db: Any = None
        self._fast: list[int] = []  # hyperscan id -> rule index
        self._slow = self._compiled  # checked with regex on every path
        if use_hyperscan and patterns:
            self._build(patterns)

    def _build(self, compiled: Sequence[tuple[int, regex.Pattern[str]]]) -> None:
        try:
            import hyperscan
        except ImportError:
            return
        from keyguard import cache

        accepted = [
            (pos, rule, p.pattern)
            for pos, (rule, p) in enumerate(compiled)
            if _may_compile(p.pattern)
        ]
        if not accepted:
            return
        key = hashlib.sha256(repr([p for _, _, p in accepted]).encode()).hexdigest()[:24]
        name = f"paths-{getattr(hyperscan, '__version__', '0')}-{key}.db"
        db: Any = None
        stored = cache.load(name)
        if isinstance(stored, bytes):
            try:
                db = hyperscan.loadb(stored, hyperscan.HS_MODE_BLOCK)
                db.scratch = hyperscan.Scratch(db)
            except Exception:  # a stale or corrupt entry: compile afresh
                db = None
        if db is None:
            try:
                db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
                db.compile(
                    expressions=[p.encode("utf-8") for _, _, p in accepted],
                    ids=list(range(len(accepted))),
                    elements=len(accepted),
                    flags=[hyperscan.HS_FLAG_SINGLEMATCH] * len(accepted),
                )
            except Exception:  # a pattern hyperscan cannot take: all of them stay with regex
                return
            cache.store(name, hyperscan.dumpb(db))
        self._db = db
        self._fast = [rule for _, rule, _ in accepted]
        taken = {pos for pos, _, _ in accepted}
        self._slow = [c for pos, c in enumerate(self._compiled) if pos not in taken]

    def matching(self, path: str) -> set[int]:
        if self._db is None or not path.isascii():
            return {rule for rule, pattern in self._compiled if pattern.search(path)}
        found: set[int] = set()
        fast = self._fast

        def on_match(index: int, _start: int, _end: int, _flags: int, _ctx: object) -> None:
            found.add(fast[index])

        self._db.scan(path.encode("ascii"), match_event_handler=on_match)
        found.update(rule for rule, pattern in self._slow if pattern.search(path))
        return found


def _may_compile(pattern: str) -> bool:
    """Whether hyperscan can take the pattern as `regex` reads it: not with a lookaround or a
    backreference (hyperscan has neither), nor a flag group past the start (global in
    `regex`'s version 0, scoped in hyperscan's PCRE syntax)."""
    if "(?=" in pattern or "(?!" in pattern or "(?<" in pattern:
        return False
    if regex.search(r"\\[1-9]", pattern):
        return False
    return not regex.search(r".\(\?[a-zA-Z]+\)", pattern)
