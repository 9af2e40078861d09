"""File hints: a rule that only means something in some documents (a Kubernetes Secret, a
kubeconfig) says so with `file_contains`, a pattern over a blob's first 4 KB.

Checked on every blob of a history audit, so it must cost next to nothing where it fails, as it
almost always does: the pattern is split at its top-level `|` (`regex` finds `^a|^b` in 4 KB
ten times slower than `^a` and `^b` one after the other), and each part's leading literal
(`kind:` of `(?m)^kind:[ \\t]*Config`) is looked for with `bytes.find` first; the pattern runs
only where the literal is. The answer is always the pattern's own.
"""

from __future__ import annotations

from dataclasses import dataclass

import regex

_FLAGS = regex.compile(r"^\(\?([a-zA-Z]+)\)")
_LITERAL = regex.compile(r"[A-Za-z0-9:_=<>\"'/ -]")


@dataclass(frozen=True, slots=True)
class _Part:
    pattern: regex.Pattern[bytes]
    literal: bytes  # what every match contains (b"" when nothing is known)
    caseless: bool


@dataclass(frozen=True, slots=True)
class FileHint:
    parts: tuple[_Part, ...]

    @staticmethod
    def of(pattern: str) -> FileHint:
        parts = []
        for part in alternatives(pattern):
            flags = _FLAGS.match(part)
            letters = flags.group(1) if flags else ""
            literal = leading_literal(part)
            if "x" in letters:  # verbose: spaces are not literal
                literal = ""
            caseless = "i" in letters
            parts.append(
                _Part(
                    regex.compile(part.encode("utf-8"), regex.VERSION0),
                    (literal.lower() if caseless else literal).encode("utf-8"),
                    caseless,
                )
            )
        return FileHint(tuple(parts))

    def found_in(self, head: bytes) -> bool:
        """Whether the pattern matches in `head` (the blob's first 4 KB)."""
        lowered: bytes | None = None
        for part in self.parts:
            if part.literal:
                if part.caseless:
                    lowered = head.lower() if lowered is None else lowered
                    if part.literal not in lowered:
                        continue
                elif part.literal not in head:
                    continue
            if part.pattern.search(head):
                return True
        return False


def leading_literal(pattern: str) -> str:
    """The fixed text every match of the pattern starts with, after its flags and a `^`:
    `(?m)^kind:[ \\t]*Config` -> `kind:`. Stops before anything counted, optional, escaped or
    special (a literal followed by `?` or `*` is not fixed)."""
    flags = _FLAGS.match(pattern)
    i = flags.end() if flags else 0
    if pattern[i : i + 1] == "^":
        i += 1
    out: list[str] = []
    while i < len(pattern) and _LITERAL.fullmatch(pattern[i]):
        if pattern[i + 1 : i + 2] in ("?", "*", "{"):
            break
        if pattern[i + 1 : i + 2] == "+":  # one at least: this one is fixed, no more
            out.append(pattern[i])
            break
        out.append(pattern[i])
        i += 1
    return "".join(out)


def alternatives(pattern: str) -> list[str]:
    """A pattern split at its top-level `|` (outside groups and classes), each part with the
    pattern's leading flags; the pattern whole when it has no such `|`, or a flag further in."""
    flags = _FLAGS.match(pattern)
    prefix = flags.group() if flags else ""
    body = pattern[len(prefix) :]
    if regex.search(r"\(\?[a-zA-Z]+\)", body):
        return [pattern]
    parts: list[str] = []
    depth, start, i, in_class = 0, 0, 0, False
    while i < len(body):
        ch = body[i]
        if ch == "\\":
            i += 2
            continue
        if in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
            if body[i + 1 : i + 2] == "]" or body[i + 1 : i + 3] == "^]":
                i += 2 if body[i + 1] == "]" else 3  # a leading ] is a member, not the end
                continue
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "|" and depth == 0:
            parts.append(body[start:i])
            start = i + 1
        i += 1
    if not parts:
        return [pattern]
    parts.append(body[start:])
    return [prefix + part for part in parts]
