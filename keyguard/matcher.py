"""The keyword prefilter: one multi-literal automaton over every rule's keywords.

Each keyword's payload leads straight to its candidate rules, so a hit never makes the engine try
rules that could not match there. Two backends give identical hits: pyahocorasick (portable
default) and hyperscan (optional extra, ~10x faster on large inputs).

Besides the rules' keywords (case-insensitive) the automaton holds *derived* keywords
(case-sensitive): the stable base64 spellings of each keyword at the three byte alignments, so a
base64-encoded secret still produces a hit near where it sits, and the engine can decode it.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

Hit = tuple[int, int, int]  # (start, end, keyword index)


@dataclass(frozen=True, slots=True)
class Keyword:
    text: bytes
    caseless: bool
    rules: tuple[int, ...]  # indices into the ruleset; empty for derived (decode) keywords
    derived: bool = False


class Backend(Protocol):
    name: str

    def hits(self, data: bytes) -> list[Hit]: ...


def derived_base64(keyword: bytes, min_chars: int = 5) -> list[bytes]:
    """The base64 substrings that encode `keyword` whatever its offset in the encoded data."""
    spellings: list[bytes] = []
    for offset in range(3):
        encoded = base64.b64encode(b"\0" * offset + keyword + b"\0\0")
        first_bit, end_bit = 8 * offset, 8 * (offset + len(keyword))
        start_char = -(-first_bit // 6)  # first char fully inside the keyword's bits
        end_char = end_bit // 6  # one past the last char fully inside
        stable = encoded[start_char:end_char]
        if len(stable) >= min_chars:
            spellings.append(stable)
    return spellings


def build_keywords(
    rule_keywords: Sequence[Sequence[str]],
    exact: Sequence[bool] | None = None,
    encodable: Sequence[bool] | None = None,
) -> list[Keyword]:
    """Keywords with their rule payloads, plus derived base64 spellings of the longer ones.

    Keywords are case-insensitive unless the rule asks for exact keywords (`SG.` must not
    match every `msg.`). Only the keywords of rules whose values may sit base64-encoded
    (`encodable`; all by default) get derived spellings: a setting such as `verify=False`
    is never encoded, and every extra spelling costs the automaton.
    """
    by_text: dict[tuple[bytes, bool], list[int]] = {}
    for index, words in enumerate(rule_keywords):
        caseless = not (exact and exact[index])
        for word in words:
            text = word.lower() if caseless else word
            by_text.setdefault((text.encode("utf-8"), caseless), []).append(index)
    keywords = [
        Keyword(text, caseless, tuple(sorted(set(rules))))
        for (text, caseless), rules in by_text.items()
    ]
    derived: set[bytes] = set()
    for index, words in enumerate(rule_keywords):
        if encodable is not None and not encodable[index]:
            continue
        for word in words:
            if len(word) >= 4:
                derived.update(derived_base64(word.encode("utf-8")))
    keywords.extend(Keyword(text, False, (), True) for text in sorted(derived))
    return keywords


class AhoBackend:
    name = "pyahocorasick"

    def __init__(self, keywords: Sequence[Keyword]) -> None:
        import ahocorasick

        self._caseless: Any = ahocorasick.Automaton()
        self._exact: Any = ahocorasick.Automaton()
        self._has_exact = False
        self._has_caseless = False
        for index, kw in enumerate(keywords):
            target = self._caseless if kw.caseless else self._exact
            target.add_word(kw.text.decode("latin-1"), (index, len(kw.text)))
            if kw.caseless:
                self._has_caseless = True
            else:
                self._has_exact = True
        if self._has_caseless:
            self._caseless.make_automaton()
        if self._has_exact:
            self._exact.make_automaton()

    def hits(self, data: bytes) -> list[Hit]:
        found: list[Hit] = []
        # latin-1 maps each byte to one character, so offsets in the text are byte offsets.
        if self._has_caseless:
            for end, (index, length) in self._caseless.iter(data.lower().decode("latin-1")):
                found.append((end + 1 - length, end + 1, index))
        if self._has_exact:
            for end, (index, length) in self._exact.iter(data.decode("latin-1")):
                found.append((end + 1 - length, end + 1, index))
        found.sort()
        return found


class HyperscanBackend:
    name = "hyperscan"

    def __init__(self, keywords: Sequence[Keyword]) -> None:
        import hashlib

        import hyperscan

        from keyguard import cache

        self._lengths = [len(kw.text) for kw in keywords]
        flags = [hyperscan.HS_FLAG_CASELESS if kw.caseless else 0 for kw in keywords]
        digest = hashlib.sha256(
            repr([(kw.text, f) for kw, f in zip(keywords, flags, strict=True)]).encode()
        )
        version = getattr(hyperscan, "__version__", "0")
        name = f"hyperscan-{version}-{digest.hexdigest()[:24]}.db"
        self._db: Any = None
        if not keywords:
            return
        serialized = cache.load(name)
        if isinstance(serialized, bytes):
            try:
                self._db = hyperscan.loadb(serialized, hyperscan.HS_MODE_BLOCK)
                self._db.scratch = hyperscan.Scratch(self._db)
            except Exception:  # a stale or corrupt entry: compile afresh
                self._db = None
        if self._db is None:
            self._db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
            self._db.compile(
                expressions=[kw.text for kw in keywords],
                ids=list(range(len(keywords))),
                elements=len(keywords),
                flags=flags,
                literal=True,
            )
            cache.store(name, hyperscan.dumpb(self._db))

    def hits(self, data: bytes) -> list[Hit]:
        found: list[Hit] = []
        if self._db is None:
            return found  # no keywords at all (a config of `paths`-only rules)
        lengths = self._lengths
        append = found.append

        def on_match(index: int, _start: int, end: int, _flags: int, _ctx: object) -> None:
            append((end - lengths[index], end, index))

        self._db.scan(data, match_event_handler=on_match)
        found.sort()
        return found


def is_hyperscan_available() -> bool:
    try:
        import hyperscan  # noqa: F401
    except ImportError:
        return False
    return True


def make_backend(keywords: Sequence[Keyword], choice: str = "auto") -> Backend:
    """`auto` uses hyperscan when it is installed; KEYGUARD_MATCHER overrides the default."""
    choice = os.environ.get("KEYGUARD_MATCHER", choice) if choice == "auto" else choice
    if choice == "hyperscan" or (choice == "auto" and is_hyperscan_available()):
        return HyperscanBackend(keywords)
    if choice in ("auto", "pyahocorasick", "aho"):
        return AhoBackend(keywords)
    raise ValueError(f"unknown matcher {choice!r} (auto, pyahocorasick, hyperscan)")
