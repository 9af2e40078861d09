"""Bytes as the engine reads them: ASCII-compatible text as it is, UTF-16 and UTF-32 re-encoded
as UTF-8, or None for binary content. Pure: no I/O.

The engine matches bytes, so any ASCII-compatible encoding (UTF-8, Latin-1, broken UTF-8) is
scanned as read: re-encoding it would cost a copy of every file and find nothing more. Text in
UTF-16 (as Windows tools write it, with or without a BOM) or UTF-32 has a NUL beside every ASCII
character: no pattern matches it, and a "NUL means binary" test (git's, and ours before) passes
it over. It is decoded instead, so its secrets are found, on the lines and columns they are at.
"""

from __future__ import annotations

import codecs

SNIFF = 8192  # how much of the start of a file decides what it is (as git's 8000)

# Byte order marks, longest first: UTF-32-LE's BOM begins with UTF-16-LE's.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_BOM_STARTS = frozenset(bom[:1] for bom, _ in _BOMS)  # most files start with none of them
# Control bytes that text does not hold. Tab, line feed, vertical tab, form feed, carriage
# return and escape (ANSI colours in logs) are text; the rest of C0 and DEL are not.
_TEXT_CONTROLS = frozenset(b"\t\n\v\f\r\x1b")
_ODD_CONTROLS = bytes(b for b in [*range(32), 127] if b not in _TEXT_CONTROLS)
_ODD_CHARS = frozenset(_ODD_CONTROLS.decode("ascii"))
# Past this share of odd control bytes (NULs among them) in the sniffed head, a file is binary.
# Text with a stray NUL or two (a bad paste, a C string dumped into a log, a padded record) is
# far below it and is scanned: missing a secret in such a file costs more than scanning one
# binary file as text, which the engine handles (any bytes are fine there). Binary formats are
# far above it: random or compressed bytes are ~10 % odd controls, executables and images more.
_MAX_ODD_SHARE = 0.01
# BOM-less UTF-16 ("Unicode" in Windows tools): ASCII text has a NUL in every high byte and in
# no low byte. Taken for UTF-16 when at least this share of high bytes are NUL (other Latin
# letters, punctuation and digits keep it high) and at most that share of low bytes are.
_MIN_NUL_HIGH = 0.7
_MAX_NUL_LOW = 0.05


def encoding_of(data: bytes) -> str | None:
    """How to read `data`: "utf-8" for anything ASCII-compatible (read as it is), a UTF-16 or
    UTF-32 codec name, or None if it is binary."""
    head = data[:SNIFF]
    for bom, name in _BOMS if head[:1] in _BOM_STARTS else ():
        if head.startswith(bom):
            if name.startswith("utf-16") and data.find(b"\0", len(bom)) < 0:
                # Every ASCII character in UTF-16 (a space, a line break, any secret) has a
                # NUL byte. Without one, decoding could find nothing: these are bytes that
                # begin like a BOM (Latin-1 "ÿþ", broken UTF-8), read as they are.
                return "utf-8"
            return name
    if b"\0" not in head:
        return "utf-8"  # the common case, decided by one scan of 8 KB
    utf16 = _bomless_utf16(head)
    if utf16 is not None:
        return utf16
    return "utf-8" if _odd_share(head) <= _MAX_ODD_SHARE else None


def decode(data: bytes) -> bytes | None:
    """`data` as the engine should scan it (the same object unless it was UTF-16 or UTF-32, or
    had a UTF-8 BOM), or None if it is binary.

    Decoding errors become U+FFFD, which is never part of a secret and keeps every line break
    where it was: line numbers stay right.
    """
    name = encoding_of(data)
    if name is None:
        return None
    if name == "utf-8":
        return data
    if name == "utf-8-sig":
        # Without its BOM, so columns on the first line count from the first real character.
        return data[len(codecs.BOM_UTF8) :]
    bom = next((b for b, n in _BOMS if n == name), b"")
    start = len(bom) if data.startswith(bom) else 0
    return data[start:].decode(name, "replace").encode("utf-8")


def _bomless_utf16(head: bytes) -> str | None:
    """ "utf-16-le" or "utf-16-be" if the head reads as UTF-16 text without a BOM."""
    even = head[: len(head) & ~1]
    units = len(even) // 2
    if units < 2:
        return None
    low_nul, high_nul = even[0::2].count(0), even[1::2].count(0)
    if high_nul >= _MIN_NUL_HIGH * units and low_nul <= _MAX_NUL_LOW * units:
        name = "utf-16-le"
    elif low_nul >= _MIN_NUL_HIGH * units and high_nul <= _MAX_NUL_LOW * units:
        name = "utf-16-be"
    else:
        return None
    # A table of small 16-bit integers has the same NUL pattern: it must also read as text.
    text = even.decode(name, "replace")
    odd = sum(1 for c in text if c in _ODD_CHARS)
    return name if odd <= _MAX_ODD_SHARE * len(text) else None


def _odd_share(head: bytes) -> float:
    kept = head.translate(None, _ODD_CONTROLS)
    return (len(head) - len(kept)) / len(head)
