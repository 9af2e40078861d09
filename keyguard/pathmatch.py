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

    def __init__(self, patterns: Sequence[tuple[int, str]], use_hyperscan: bool) -> None:
        self._patterns = list(patterns)
        # `regex` compiles in Python (about a millisecond a pattern): only what a path needs,
        # when it first needs it, so a start that matches no path (a history audit) pays none.
        self._all: list[tuple[int, regex.Pattern[str]]] | None = None
        self._db: Any = None
        self._fast: list[int] = []  # hyperscan id -> rule index
        self._slow: list[tuple[int, str]] = self._patterns  # checked with regex on every path
        self._slow_compiled: list[tuple[int, regex.Pattern[str]]] | None = None
        if use_hyperscan and patterns:
            self._build(patterns)

    def _every(self) -> list[tuple[int, regex.Pattern[str]]]:
        if self._all is None:
            self._all = [(rule, regex.compile(p)) for rule, p in self._patterns]
        return self._all

    def _slow_ones(self) -> list[tuple[int, regex.Pattern[str]]]:
        if self._slow_compiled is None:
            self._slow_compiled = [(rule, regex.compile(p)) for rule, p in self._slow]
        return self._slow_compiled

    def _build(self, patterns: Sequence[tuple[int, str]]) -> None:
        try:
            import hyperscan
        except ImportError:
            return
        from keyguard import cache

        accepted = [(pos, rule, p) for pos, (rule, p) in enumerate(patterns) if _may_compile(p)]
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
        self._slow = [c for pos, c in enumerate(self._patterns) if pos not in taken]

    def matching(self, path: str) -> set[int]:
        if self._db is None or not path.isascii():
            return {rule for rule, pattern in self._every() if pattern.search(path)}
        found: set[int] = set()
        fast = self._fast

        def on_match(index: int, _start: int, _end: int, _flags: int, _ctx: object) -> None:
            found.add(fast[index])

        self._db.scan(path.encode("ascii"), match_event_handler=on_match)
        found.update(rule for rule, pattern in self._slow_ones() if pattern.search(path))
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
